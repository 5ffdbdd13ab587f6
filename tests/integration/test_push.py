"""Push end to end: the real state machine on moto, the real handlers, the PCO sandbox over HTTP.

Local records are written straight into the records table (as the admin API's record writes would);
what PCO holds afterwards is read back from the sandbox's own HTTP API, independently of our client.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.errors import PcoUnavailable
from pco_core.records import Address, Email, Family, GroupMember, Person, Phone
from pco_core.store.records import RecordStore
from tests.stack import APP_ID, SECRET, run_to_end, running_sandbox

pytestmark = pytest.mark.timeout(240)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
JOINED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _street_lines(attributes: dict[str, Any]) -> str | None:
    """A 2025 address's street as one text, as pco_core keeps it (line 2 after a newline)."""
    lines = (attributes.get("street_line_1"), attributes.get("street_line_2"))
    return "\n".join(line for line in lines if line) or None


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A small sandbox of this module's own: pushes add people to it, which no other module should see."""
    with running_sandbox(people=30, seed=11) as running:
        yield running


def records_of(stack: LocalStack) -> RecordStore:
    return RecordStore(stack.env("RECORDS_TABLE"), client=stack.dynamodb)


def run_completed(stack: LocalStack, run_type: str) -> dict[str, Any]:
    final = run_to_end(stack, run_type)
    assert final["status"] == "COMPLETED", final.get("error")
    return final


def pco_get(sandbox: RunningSandbox, path: str, **params: str) -> dict[str, Any]:
    with httpx.Client(auth=(APP_ID, SECRET), timeout=10) as http:
        answer = http.get(sandbox.url + path, params=params)
    answer.raise_for_status()
    return answer.json()


def pco_person(sandbox: RunningSandbox, pco_id: str) -> dict[str, Any]:
    """A PCO person in our record shape, read from the sandbox's People API."""
    doc = pco_get(sandbox, f"/people/v2/people/{pco_id}", include="emails,phone_numbers,addresses")
    included = {(r["type"], r["id"]): r["attributes"] for r in doc.get("included", [])}

    def related(name: str) -> list[dict[str, Any]]:
        rel = doc["data"]["relationships"][name]["data"] or []
        return [included[(r["type"], r["id"])] for r in rel]

    a = doc["data"]["attributes"]
    return {
        "first_name": a["first_name"],
        "last_name": a["last_name"],
        "gender": {"M": "Male", "F": "Female"}.get(a["gender"] or "", a["gender"]),
        "birthdate": a["birthdate"],
        "status": a["status"],
        "emails": sorted((e["address"], e["location"], e["primary"]) for e in related("emails")),
        "phones": sorted((p["number"], p["location"], p["primary"]) for p in related("phone_numbers")),
        "addresses": sorted(
            (
                x.get("street") or _street_lines(x),
                x["city"],
                x["state"],
                x["zip"],
                x["location"],
                x["primary"],
            )
            for x in related("addresses")
        ),
    }


def all_people_named(sandbox: RunningSandbox, first: str, last: str) -> list[str]:
    ids: list[str] = []
    offset = 0
    for _ in range(100):
        doc = pco_get(sandbox, "/people/v2/people", per_page="100", offset=str(offset))
        ids += [
            p["id"]
            for p in doc["data"]
            if (p["attributes"]["first_name"], p["attributes"]["last_name"]) == (first, last)
        ]
        following = (doc.get("meta", {}).get("next") or {}).get("offset")
        if following is None:
            return ids
        offset = int(following)
    raise AssertionError("paging never ended")


# Two lines: People 2025-11-10 takes them as street_line_1 and street_line_2 and refuses `street`.
HOME = Address(
    street="7 Chapel Lane\nFlat 2", city="Springfield", state="IL", zip="62701", location="Home", primary=True
)


def new_person(pid: str, first: str, last: str, **extra: Any) -> Person:
    return Person.model_validate(
        {"id": pid, "first_name": first, "last_name": last, "updated_at": NOW, **extra}
    )


def test_full_push_writes_every_field_a_second_push_sends_nothing_and_a_pull_skips_it_all(
    stack: LocalStack, sandbox: RunningSandbox
) -> None:
    # Given the church's records pulled from PCO once (so groups exist with PCO ids) ...
    run_completed(stack, "full_sync")
    store = records_of(stack)
    existing, _ = store.list_people(100, None)
    edited_before = next(p for p in existing if p.status == "active" and p.emails)
    group = next(g for g in store.list_groups(100, None)[0] if g.pco_id is not None)

    # ... and then local work: two new people, an edited one, a new family and two new memberships
    martha = new_person(
        "00000000-push-0000-0000-000000000001",
        "Martha",
        "Quill",
        gender="Female",
        birthdate=date(1984, 5, 17),
        emails=[
            Email(address="martha.quill@example.org", location="Home", primary=True),
            Email(address="mq@work.example.org", location="Work"),
        ],
        phones=[Phone(number="(217) 555-0142", location="Mobile", primary=True)],
        addresses=[HOME],
    )
    tom = new_person(
        "00000000-push-0000-0000-000000000002",
        "Tom",
        "Quill",
        gender="Male",
        birthdate=date(1982, 1, 3),
        emails=[Email(address="tom.quill@example.org", location="Home", primary=True)],
        phones=[Phone(number="(217) 555-0199", location="Home", primary=True)],
    )
    edited = edited_before.model_copy(
        update={
            "last_name": edited_before.last_name + "-Smith",
            "emails": [*edited_before.emails, Email(address="second@example.org", location="Other")],
        }
    )
    store.save_people([(martha, None), (tom, None), (edited, edited_before)])
    family = Family(
        id="00000000-push-0000-0000-0000000000f1",
        name="The Quill Family",
        member_ids=[martha.id, tom.id],
        primary_member_id=martha.id,
        address=HOME,
        updated_at=NOW,
    )
    store.save_families([(family, None)])
    members = [
        *group.members,
        GroupMember(person_id=martha.id, role="leader", joined_at=JOINED),
        GroupMember(person_id=tom.id, role="member", joined_at=JOINED),
    ]
    store.save_groups([(group.model_copy(update={"members": members}), group)])

    # When a Full Push runs
    pushed = run_completed(stack, "full_push")

    # Then PCO has every field of the new and edited people, and their PCO ids are saved here
    assert pushed["label"] == "Full Push"
    # 2 new people, 1 new household, 2 new memberships; 1 edited person
    assert (pushed["created"], pushed["updated"], pushed["failed"]) == (5, 1, 0)
    martha_now, tom_now = (store.get_person(p.id) for p in (martha, tom))
    assert martha_now is not None
    assert tom_now is not None
    assert martha_now.pco_id
    assert tom_now.pco_id
    assert pco_person(sandbox, martha_now.pco_id) == {
        "first_name": "Martha",
        "last_name": "Quill",
        "gender": "Female",
        "birthdate": "1984-05-17",
        "status": "active",
        "emails": [("martha.quill@example.org", "Home", True), ("mq@work.example.org", "Work", False)],
        "phones": [("(217) 555-0142", "Mobile", True)],
        "addresses": [("7 Chapel Lane\nFlat 2", "Springfield", "IL", "62701", "Home", True)],
    }
    [stored_home] = sandbox.sandbox.store.children("Address", "person", martha_now.pco_id)
    assert (stored_home.attributes["street_line_1"], stored_home.attributes["street_line_2"]) == (
        "7 Chapel Lane",
        "Flat 2",
    )
    assert pco_person(sandbox, tom_now.pco_id) == {
        "first_name": "Tom",
        "last_name": "Quill",
        "gender": "Male",
        "birthdate": "1982-01-03",
        "status": "active",
        "emails": [("tom.quill@example.org", "Home", True)],
        "phones": [("(217) 555-0199", "Home", True)],
        "addresses": [],
    }
    in_pco = pco_person(sandbox, edited.pco_id or "")
    assert in_pco["last_name"] == edited.last_name
    assert ("second@example.org", "Other", False) in in_pco["emails"]
    assert len(in_pco["emails"]) == len(edited.emails)

    # ... the family is a household with both, Martha its primary contact
    family_now = store.get_family(family.id)
    assert family_now is not None
    assert family_now.pco_id
    household = pco_get(sandbox, f"/people/v2/households/{family_now.pco_id}", include="people")["data"]
    assert household["attributes"]["name"] == "The Quill Family"
    assert household["relationships"]["primary_contact"]["data"]["id"] == martha_now.pco_id
    assert sorted(p["id"] for p in household["relationships"]["people"]["data"]) == sorted(
        [martha_now.pco_id, tom_now.pco_id]
    )

    # ... and the group has both memberships with their roles and joined dates
    rows = pco_get(sandbox, f"/groups/v2/groups/{group.pco_id}/memberships", per_page="100")["data"]
    by_person = {r["relationships"]["person"]["data"]["id"]: r["attributes"] for r in rows}
    assert (by_person[martha_now.pco_id]["role"], by_person[martha_now.pco_id]["joined_at"]) == (
        "leader",
        "2025-03-01T09:30:00Z",
    )
    assert (by_person[tom_now.pco_id]["role"], by_person[tom_now.pco_id]["joined_at"]) == (
        "member",
        "2025-03-01T09:30:00Z",
    )

    # When a second Full Push runs, Then it sends PCO no request at all and counts everything skipped
    before = sandbox.requests.total
    again = run_completed(stack, "full_push")
    assert sandbox.requests.total == before
    # Nothing is pending: the push visits no record (one empty page of the pending index per domain)
    assert (again["created"], again["updated"], again["skipped"], again["failed"]) == (0, 0, 0, 0)

    # When a Full Sync runs right after, Then nothing comes back changed (no ping-pong)
    pulled = run_completed(stack, "full_sync")
    assert (pulled["created"], pulled["updated"], pulled["failed"]) == (0, 0, 0)
    after_pull = store.get_person(martha.id)
    assert after_pull is not None
    # The families pull links members to their family (bookkeeping); no pushed field nor hash moved.
    assert after_pull.family_id == family.id
    bookkeeping = {"family_id", "updated_at"}
    assert after_pull.model_dump(exclude=bookkeeping) == martha_now.model_dump(exclude=bookkeeping)
    assert after_pull.sync == martha_now.sync


def _pco_addresses(sandbox: RunningSandbox, pco_id: str) -> list[tuple[str, Any, Any, Any]]:
    """(id, street lines, country, primary) of a PCO person's addresses as the People API answers them."""
    doc = pco_get(sandbox, f"/people/v2/people/{pco_id}/addresses")
    return [
        (
            row["id"],
            (row["attributes"]["street_line_1"], row["attributes"]["street_line_2"]),
            row["attributes"]["country_code"],
            row["attributes"]["primary"],
        )
        for row in doc["data"]
    ]


def test_a_new_and_an_edited_address_reach_pco_with_street_lines_and_country(
    stack: LocalStack, sandbox: RunningSandbox
) -> None:
    # Given a new local person whose address is outside the US
    toronto = Address(
        street="40 Bay Street\nSuite 300",
        city="Toronto",
        state="ON",
        zip="M5J 2X2",
        country_code="CA",
        location="Home",
        primary=True,
    )
    ada = new_person("00000000-addr-0000-0000-000000000001", "Ada", "Lines", addresses=[toronto])
    store = records_of(stack)
    store.save_people([(ada, None)])

    # When it is pushed, Then PCO holds the street lines and the country, and nothing failed
    assert run_completed(stack, "full_push")["failed"] == 0
    pushed = store.get_person(ada.id)
    assert pushed is not None
    assert pushed.pco_id
    [(address_id, lines, country, primary)] = _pco_addresses(sandbox, pushed.pco_id)
    assert (lines, country, primary) == (("40 Bay Street", "Suite 300"), "CA", True)

    # When the address is edited here (another country, one line) and pushed again
    london = pushed.addresses[0].model_copy(
        update={
            "street": "1 Chapel Row",
            "city": "London",
            "state": None,
            "zip": "EC1A 1BB",
            "country_code": "GB",
        }
    )
    store.save_people([(pushed.model_copy(update={"addresses": [london]}), pushed)])
    again = run_completed(stack, "full_push")

    # Then PCO holds the new address with its country and no second line, and nothing failed: PCO ignores
    # a null for an address field (developers#815), so the emptied line makes it a new address in place
    assert (again["updated"], again["failed"]) == (1, 0)
    [(new_id, lines, country, primary)] = _pco_addresses(sandbox, pushed.pco_id)
    assert (lines, country, primary) == (("1 Chapel Row", None), "GB", True)
    assert new_id != address_id
    # ... linked here, so nothing is pending and a pull changes nothing
    after = store.get_person(ada.id)
    assert after is not None
    assert [a.pco_id for a in after.addresses] == [new_id]
    assert run_completed(stack, "full_push")["updated"] == 0

    # When only the country is edited, Then the same address is patched in place
    store.save_people(
        [
            (
                after.model_copy(
                    update={"addresses": [after.addresses[0].model_copy(update={"country_code": "IE"})]}
                ),
                after,
            )
        ]
    )
    assert run_completed(stack, "full_push")["updated"] == 1
    assert _pco_addresses(sandbox, pushed.pco_id) == [(new_id, ("1 Chapel Row", None), "IE", True)]


def test_a_crash_after_the_person_create_is_retried_without_a_duplicate_in_pco(
    stack: LocalStack,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    no_retry_sleep: None,
) -> None:
    from pco_core.push import people as push_people

    # Given a new local person, and a page that dies right after PCO created them (before their emails)
    store = records_of(stack)
    ivy = new_person(
        "00000000-push-0000-0000-000000000003",
        "Ivy",
        "Crashwell",
        emails=[Email(address="ivy.crashwell@example.org", location="Home", primary=True)],
    )
    store.save_people([(ivy, None)])
    real = push_people.write_contacts
    crashes = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        if crashes["n"] == 0:
            crashes["n"] += 1
            raise PcoUnavailable("injected crash after the person POST")
        return real(*args, **kwargs)

    monkeypatch.setattr(push_people, "write_contacts", crash_once)

    # When Push People runs (the state machine retries the page from the saved cursor)
    run = run_completed(stack, "push_people")

    # Then PCO holds Ivy once, with her email, and she counts once as created
    assert crashes["n"] == 1
    assert run["created"] == 1
    ids = all_people_named(sandbox, "Ivy", "Crashwell")
    assert len(ids) == 1
    saved = store.get_person(ivy.id)
    assert saved is not None
    assert saved.pco_id == ids[0]
    assert pco_person(sandbox, ids[0])["emails"] == [("ivy.crashwell@example.org", "Home", True)]
    assert [e.pco_id for e in saved.emails] != [None], "her email is linked to the PCO email the retry made"
