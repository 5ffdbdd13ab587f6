"""Real PCO answers (tests/fixtures/pco) through pco_core's client and models, field by field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from pco_core.errors import PcoRequestError, PcoUnavailable, RateLimited, SkippableRecordError
from pco_core.merge.contacts import local_addresses
from pco_core.merge.person import person_fields
from pco_core.pco.client import PcoClient
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.models import PcoAddress, PcoEmail, PcoHousehold, PcoPerson, PcoPhone
from pco_core.pco.paginate import OffsetPaginator
from tests.recorded.support import recording, replaying_client, request_path


def fetched(name: str) -> Document:
    """The recording's answer as the client returns it for the recorded request."""
    seen: list[httpx.Request] = []
    with replaying_client(name, seen) as client:
        document = client.get(request_path(name))
    assert [r.url.path for r in seen] == [request_path(name).split("?")[0]]
    return document


def one(document: Document) -> Resource:
    [resource] = document.resources()
    return resource


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# ---- People 2018-08-01 (billdeitrick/pypco cassettes, 2019)
def test_given_a_2018_page_with_addresses_when_read_then_each_person_has_its_street_addresses():
    document = fetched("pypco_people_include_addresses.json")
    people = [PcoPerson.from_resource(r, document) for r in document.resources()]
    assert [(p.id, p.first_name, p.last_name) for p in people] == [
        ("45029164", "Paul", "Revere"),
        ("70167511", "Paul", "Revere"),
    ]
    first = people[0]
    assert (first.status, first.gender, first.birthdate, first.child) == ("active", None, None, False)
    assert first.updated_at == at("2019-12-09T17:48:20Z")
    assert first.created_at == at("2018-11-25T20:31:31Z")
    assert [
        (a.id, a.street, a.street_line_1, a.city, a.state, a.zip, a.location, a.primary, a.country_code)
        for a in first.addresses
    ] == [
        ("55460368", "123 Ride Way", None, "Boston", "MA", "12345", "Home", True, None),
        ("55460369", "456 Old North Ln", None, "Boston", "MA", "54321", "Work", False, None),
    ]
    assert {a.person_id for a in first.addresses} == {"45029164"}
    assert [(a.street, a.primary) for a in people[1].addresses] == [
        ("123 No Ride Way", True),
        ("123 New North Church Rd", False),
    ]
    assert document.total_count == 2
    assert not document.has_next


def test_given_a_2018_person_when_read_then_its_attributes_parse():
    person = PcoPerson.from_resource(one(fetched("pypco_person.json")))
    assert (person.id, person.first_name, person.last_name, person.membership) == (
        "45029164",
        "Paul",
        "Revere",
        None,
    )
    assert (person.emails, person.addresses, person.household_ids) == ([], [], [])
    assert person.updated_at == at("2018-11-25T20:31:31Z")


# ---- People 2026-06-04 (vrwarp/pcomirror golden answers)
def test_given_a_2026_address_when_read_then_its_street_lines_and_country_are_kept():
    address = PcoAddress.from_resource(one(fetched("pcomirror_single_address.json")))
    assert address.id == "100000001"
    assert address.street == "Greer28 Hollis49 Yolande46"  # street_line_2 is null
    assert (address.street_line_1, address.street_line_2) == ("Greer28 Hollis49 Yolande46", None)
    assert (address.city, address.state, address.zip) == ("Greer53", "CA", "00000")
    assert (address.country_code, address.location, address.primary) == ("US", "Home", True)
    assert address.person_id == "100000019"
    assert address.updated_at == at("2024-01-06T23:46:01Z")


def test_given_a_2026_email_and_phone_when_read_then_every_field_parses():
    email = PcoEmail.from_resource(one(fetched("pcomirror_single_email.json")))
    assert (email.id, email.address, email.location, email.primary, email.blocked, email.person_id) == (
        "10000001",
        "ulric38@d35.example.org",
        "Work",
        True,
        False,
        "100000001",
    )
    phone = PcoPhone.from_resource(one(fetched("pcomirror_single_phone_number.json")))
    assert (phone.id, phone.number, phone.location, phone.primary, phone.carrier) == (
        "100000001",
        "(555) 841-1105",
        "Mobile",
        True,
        None,
    )
    assert (phone.e164, phone.national, phone.international, phone.country_code) == (
        "+15558411105",
        "(714) 264-3144",
        "+1 714-264-3144",
        "US",
    )
    assert phone.person_id == "100000001"


def test_given_a_2026_household_without_include_when_read_then_its_members_come_from_relationships():
    household = PcoHousehold.from_resource(one(fetched("pcomirror_households_single.json")))
    assert (household.id, household.name, household.member_count) == ("10000012", "Whitfield206", 4)
    assert household.person_ids == ["100000002", "100000001", "100000072", "100000140"]
    assert (household.primary_contact_id, household.primary_contact_name) == ("100000001", "Kevin Zhang")
    assert household.updated_at == at("2024-01-20T23:47:09Z")
    listing = fetched("pcomirror_households_collection.json")
    households = [PcoHousehold.from_resource(r, listing) for r in listing.resources()]
    assert [(h.id, h.member_count, len(h.person_ids)) for h in households] == [
        ("10000001", 4, 4),
        ("10000002", 2, 2),
        ("10000003", 2, 2),
    ]


def test_given_a_2026_person_with_contacts_when_read_then_person_and_contacts_parse():
    person = PcoPerson.from_resource(one(fetched("pcomirror_people_single.json")))
    assert (person.id, person.first_name, person.last_name) == ("100000001", "Linnea0578", "Yardley425")
    assert (person.gender, person.birthdate, person.membership) == ("Male", date(2003, 2, 9), "Full Member")
    assert (person.status, person.child, person.remote_id, person.inactivated_at) == (
        "active",
        False,
        None,
        None,
    )
    assert (person.given_name, person.middle_name, person.nickname) == (None, None, None)
    assert person.updated_at == at("2024-12-12T23:58:46Z")
    document = fetched("pcomirror_people_single_include_contacts.json")
    with_contacts = PcoPerson.from_resource(one(document), document)
    assert [(e.id, e.address, e.primary) for e in with_contacts.emails] == [
        ("10000001", "ulric38@d35.example.org", True)
    ]
    assert [(p.id, p.number, p.e164) for p in with_contacts.phone_numbers] == [
        ("100000001", "(555) 841-1105", "+15558411105")
    ]
    assert with_contacts.household_ids == ["10000012"]


def test_given_real_people_of_2018_and_2026_when_merged_then_the_local_person_keeps_what_pco_holds():
    document = fetched("pcomirror_people_single_include_contacts.json")
    new = person_fields(PcoPerson.from_resource(one(document), document))
    assert (new.membership, new.child, new.grade, new.anniversary, new.inactivated_at) == (
        "Full Member",
        False,
        None,
        None,
        None,
    )
    assert (new.given_name, new.middle_name, new.nickname) == (None, None, None)
    [address] = local_addresses([PcoAddress.from_resource(one(fetched("pcomirror_single_address.json")))])
    assert (address.street, address.country_code) == ("Greer28 Hollis49 Yolande46", "US")
    document = fetched("pypco_people_include_addresses.json")
    old = [person_fields(PcoPerson.from_resource(r, document)) for r in document.resources()]
    # A 2018 address has no country: none is made up.
    assert {a.country_code for person in old for a in person.addresses} == {None}
    assert any(person.addresses for person in old)


def test_given_a_sparse_fieldset_page_then_ids_are_listed_but_people_without_updated_at_are_skippable():
    document = fetched("pcomirror_people_sparse_fieldset.json")
    resources = document.resources()
    assert [r.id for r in resources][:3] == ["100000001", "100000002", "100000003"]
    assert resources[0].attributes == {"first_name": "Linnea0578", "last_name": "Yardley425"}
    assert resources[0].related_ids("emails") == ["10000001"]
    # A person read without updated_at cannot be ordered: the model says so rather than guessing.
    with pytest.raises(SkippableRecordError):
        PcoPerson.from_resource(resources[0], document)


# ---- list edges and errors
def test_given_per_page_zero_then_the_paginator_refuses_a_next_offset_that_does_not_move():
    document = fetched("pcomirror_page_per_page_zero.json")
    assert document.resources() == []
    assert (document.has_next, document.next_offset, document.total_count) == (True, 0, 1915)
    with pytest.raises(PcoUnavailable, match="does not move"):
        OffsetPaginator(offset=0, per_page=1).advance(document)


def test_given_per_page_over_100_then_the_next_offset_is_100_and_an_unknown_order_reads_as_default():
    capped = fetched("pcomirror_people_per_page_over_max.json")
    assert (capped.next_offset, capped.total_count) == (100, 1915)
    assert capped.next_url is not None
    assert "per_page=500" in capped.next_url
    unordered = fetched("pcomirror_err_unknown_order.json")
    ids = [r.id for r in unordered.resources()]
    assert ids == sorted(ids, key=int)
    assert unordered.next_offset == 5


def test_given_pco_error_answers_then_the_client_raises_what_the_state_machine_expects():
    with (
        replaying_client("pcomirror_people_not_found.json") as client,
        pytest.raises(PcoRequestError) as missing,
    ):
        client.get(request_path("pcomirror_people_not_found.json"))
    assert (missing.value.status, missing.value.detail) == (
        404,
        "The resource you requested could not be found",
    )
    with (
        replaying_client("developers_1449_deep_offset_429.json") as client,
        pytest.raises(RateLimited) as limited,
    ):
        client.get(request_path("developers_1449_deep_offset_429.json"))
    assert "23 of 10 requests per 20 seconds" in str(limited.value)
    assert limited.value.retry_after == 20  # no Retry-After nor rate headers were recorded: the period


@pytest.mark.parametrize(
    ("which", "detail"),
    [("forbidden_attribute", "person cannot be assigned"), ("validation_error", "can't be blank")],
)
def test_given_pco_422_bodies_then_the_client_keeps_their_detail_and_errors(which: str, detail: str):
    answer = recording("developers_755_write_errors.json")[which]
    transport = httpx.MockTransport(lambda request: httpx.Response(answer["status"], json=answer["body"]))
    with (
        PcoClient("https://api.planningcenteronline.com", "app-id", "secret", transport=transport) as client,
        pytest.raises(PcoRequestError) as refused,
    ):
        client.post("/groups/v2/groups/1/memberships", {"data": {"type": "Membership", "attributes": {}}})
    assert (refused.value.status, refused.value.detail) == (422, detail)
    assert refused.value.errors == answer["body"]["errors"]
