"""What a church keeps of PCO's records, round trips through the PCO sandbox in-process: the address
country, the person attributes beyond the name, and group memberships whose Groups person ids are not
the People ids. PCO's side is read back from the sandbox; ours from the in-memory records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx

from local.sandbox.people import PeopleService
from pco_core.pull.people import PullPeople
from pco_core.push.people import PushPeople
from pco_core.records import Address, Person, has_pending_changes
from tests.unit.fakes import START, FakeRecords
from tests.unit.push.sandbox_pco import Pco
from tests.unit.push.test_push_domains import ctx, totals, walk


def in_pco(pco: Pco, attributes: dict[str, Any], addresses: list[dict[str, Any]] | None = None) -> str:
    """A person church staff entered in PCO itself; their PCO id."""
    people = PeopleService(pco.sandbox.store)
    made = people.create_person(attributes, admin=True)
    for address in addresses or []:
        people.create_contact("Address", made.id, address, admin=True)
    return made.id


def pulled(pco: Pco, records: FakeRecords, pco_id: str, run_id: str = "PULL") -> Person:
    walk(PullPeople().run, ctx(pco, records, run_id))
    found = records.people_by_pco_ids([pco_id])
    return found[pco_id]


def sent_attributes(request: httpx.Request) -> dict[str, Any]:
    attributes: dict[str, Any] = httpx.Response(200, content=request.content).json()["data"]["attributes"]
    return attributes


# ---- the address country


def test_given_a_pulled_canadian_address_when_its_country_is_edited_here_then_push_sends_only_the_country(
    pco, records
):
    pco_id = in_pco(
        pco,
        {"first_name": "Marie", "last_name": "Roy"},
        [{"street_line_1": "1 Rue Sainte", "city": "Montreal", "zip": "H2X", "country_code": "ca"}],
    )
    marie = pulled(pco, records, pco_id)
    (address,) = marie.addresses
    assert (address.street, address.country_code, address.pco_id is not None) == ("1 Rue Sainte", "CA", True)

    # When: the church corrects the country here (the street, city and zip stay)
    records.add(marie.model_copy(update={"addresses": [address.model_copy(update={"country_code": "MX"})]}))
    assert has_pending_changes(records.people[marie.id])
    pco.requests.clear()
    pages = walk(PushPeople().run, ctx(pco, records, "PUSH"))

    # Then: one PATCH of that PCO address with the country alone, and PCO holds it
    assert totals(pages)["updated"] == 1
    (patch,) = [r for r in pco.requests if r.method == "PATCH"]
    assert patch.url.path == f"/people/v2/people/{pco_id}/addresses/{address.pco_id}"
    assert sent_attributes(patch) == {"country_code": "MX"}
    assert [a.country_code for a in pco.person(pco_id).addresses] == ["MX"]
    # and a pull right after changes nothing here
    before = records.people[marie.id]
    assert not has_pending_changes(before)
    walk(PullPeople().run, ctx(pco, records, "PULL2"))
    assert records.people[marie.id] == before


def test_given_a_new_address_with_a_country_then_pco_gets_street_lines_and_the_country(pco, records):
    records.add(
        Person(
            id="p1",
            first_name="Ada",
            last_name="Lovelace",
            addresses=[Address(street="12 Analytical Way\nFlat 2", city="London", country_code="GB")],
            updated_at=START,
        )
    )

    walk(PushPeople().run, ctx(pco, records))

    (post,) = [r for r in pco.requests if r.method == "POST" and r.url.path.endswith("/addresses")]
    assert sent_attributes(post) == {
        "street_line_1": "12 Analytical Way",
        "street_line_2": "Flat 2",
        "city": "London",
        "country_code": "GB",
        "primary": False,
    }
    pco_id = records.people["p1"].pco_id
    assert pco_id is not None
    assert [(a.street, a.country_code) for a in pco.person(pco_id).addresses] == [
        ("12 Analytical Way\nFlat 2", "GB")
    ]


def test_given_an_address_without_a_country_when_pco_fills_one_in_then_we_take_it_and_stay_in_step(
    pco, records
):
    records.add(
        Person(
            id="p1",
            first_name="Ada",
            last_name="Lovelace",
            addresses=[Address(street="1 Main St", city="Austin", zip="78701", primary=True)],
            updated_at=START,
        )
    )

    walk(PushPeople().run, ctx(pco, records))

    # The sandbox, as an organisation in the US, stores "US" for an address sent without a country.
    pushed = records.people["p1"]
    assert [a.country_code for a in pushed.addresses] == ["US"]
    assert not has_pending_changes(pushed)
    pco.requests.clear()
    assert totals(walk(PushPeople().run, ctx(pco, records, "R2")))["updated"] == 0
    assert pco.requests == []
    walk(PullPeople().run, ctx(pco, records, "R3"))
    assert records.people["p1"] == pushed


# ---- the person attributes beyond the name


def test_a_new_person_is_created_with_every_writable_attribute_and_never_inactivated_at(pco, records):
    records.add(
        Person(
            id="p1",
            first_name="Ada",
            last_name="Lovelace",
            given_name="Augusta Ada",
            middle_name="Augusta",
            nickname="Ada",
            membership="Member",
            child=False,
            grade=0,
            anniversary=date(2001, 6, 2),
            # A value PCO alone sets (from `status`): never sent, and PCO's value replaces it.
            inactivated_at=datetime(2020, 1, 1, tzinfo=UTC),
            updated_at=START,
        )
    )

    walk(PushPeople().run, ctx(pco, records))

    (post,) = [r for r in pco.requests if (r.method, r.url.path) == ("POST", "/people/v2/people")]
    assert sent_attributes(post) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "status": "active",
        "given_name": "Augusta Ada",
        "middle_name": "Augusta",
        "nickname": "Ada",
        "membership": "Member",
        "child": False,
        "grade": 0,
        "anniversary": "2001-06-02",
    }
    pushed = records.people["p1"]
    assert pushed.inactivated_at is None  # PCO's: the person is active
    assert not has_pending_changes(pushed)


def test_an_edited_attribute_is_the_only_one_patched(pco, records):
    pco_id = in_pco(pco, {"first_name": "Marie", "last_name": "Roy", "membership": "Visitor", "grade": 3})
    marie = pulled(pco, records, pco_id)
    assert (marie.membership, marie.grade, marie.child) == ("Visitor", 3, False)
    records.add(marie.model_copy(update={"membership": "Member"}))
    pco.requests.clear()

    walk(PushPeople().run, ctx(pco, records, "PUSH"))

    (patch,) = [r for r in pco.requests if r.method == "PATCH"]
    assert sent_attributes(patch) == {"membership": "Member"}
    in_sandbox = pco.get(f"/people/v2/people/{pco_id}")["data"]["attributes"]
    assert (in_sandbox["membership"], in_sandbox["grade"]) == ("Member", 3)
