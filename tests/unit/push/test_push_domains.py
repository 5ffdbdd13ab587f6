"""Push pages against the PCO sandbox in-process (WSGI, no socket) with in-memory records.

What PCO holds is read back from the sandbox's store; what we hold from the fake records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from pco_core.engine.domain import DomainContext, Position, WalkPosition
from pco_core.merge.person import person_fields
from pco_core.pull.people import PullPeople
from pco_core.push.families import PushFamilies
from pco_core.push.memberships import PushMemberships
from pco_core.push.people import PushPeople
from pco_core.push.walk import RECORDS_PER_PAGE, REQUEST_BUDGET
from pco_core.records import Address, Email, Family, Group, GroupMember, Person, Phone, has_pending_changes
from tests.unit.fakes import START, FakeClock, FakeRecords
from tests.unit.push.sandbox_pco import Pco


def ctx(pco: Pco, records: FakeRecords, run_id: str = "R1") -> DomainContext:
    return DomainContext(pco=pco.client(), records=records, run_id=run_id, clock=FakeClock())


def walk(page_fn: Any, context: DomainContext, limit: int = 50) -> list[Any]:
    """Every page of one domain from the start; the pages' results."""
    position: Position | None = {}
    pages = []
    for _ in range(limit):
        assert position is not None
        page = page_fn(context, position)
        pages.append(page)
        position = page.next_position
        if position is None:
            return pages
    raise AssertionError("the domain never finished")


def totals(pages: list[Any]) -> dict[str, int]:
    out = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    for page in pages:
        for name in out:
            out[name] += getattr(page.counts, name)
    return out


def person(pid: str, first: str = "Ada", last: str = "Lovelace", **extra: Any) -> Person:
    values: dict[str, Any] = {"id": pid, "first_name": first, "last_name": last, "updated_at": START, **extra}
    return Person.model_validate(values)


ADA = {
    "gender": "Female",
    "birthdate": date(1990, 12, 10),
    "emails": [
        Email(address="ada@example.org", location="Home", primary=True),
        Email(address="ada.work@example.org", location="Work"),
    ],
    "phones": [Phone(number="(555) 010-2000", location="Mobile", primary=True)],
    "addresses": [
        Address(
            street="12 Analytical Way",
            city="London",
            state="LN",
            zip="N1 1AA",
            country_code="GB",
            location="Home",
            primary=True,
        )
    ],
}


def test_given_a_new_local_person_when_pushed_then_pco_has_every_field_and_we_have_its_id(pco, records):
    records.add(person("p1", **ADA))

    pages = walk(PushPeople().run, ctx(pco, records))

    assert totals(pages) == {"created": 1, "updated": 0, "skipped": 0, "failed": 0}
    local = records.people["p1"]
    assert local.pco_id is not None
    in_pco = person_fields(pco.person(local.pco_id))
    contacts = {name: {"__all__": {"pco_id"}} for name in ("emails", "phones", "addresses")}
    assert in_pco.model_dump(exclude=contacts) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "gender": "Female",
        "birthdate": date(1990, 12, 10),
        "status": "active",
        "emails": (
            {"address": "ada@example.org", "location": "Home", "primary": True, "blocked": False},
            {"address": "ada.work@example.org", "location": "Work", "primary": False, "blocked": False},
        ),
        "phones": ({"number": "(555) 010-2000", "location": "Mobile", "primary": True},),
        "addresses": (
            {
                "street": "12 Analytical Way",
                "city": "London",
                "state": "LN",
                "zip": "N1 1AA",
                "country_code": "GB",
                "location": "Home",
                "primary": True,
            },
        ),
        # PCO's own values of what we did not send
        "given_name": None,
        "middle_name": None,
        "nickname": None,
        "membership": None,
        "child": False,
        "grade": None,
        "anniversary": None,
        "inactivated_at": None,
    }
    # Each email, phone and address is linked to the PCO item PCO created for it (webhooks find it by id).
    assert {e.address: e.pco_id for e in local.emails} == {e.address: e.pco_id for e in in_pco.emails}
    assert [p.pco_id for p in local.phones] == [p.pco_id for p in in_pco.phones]
    assert [a.pco_id for a in local.addresses] == [a.pco_id for a in in_pco.addresses]
    assert None not in {e.pco_id for e in local.emails} | {a.pco_id for a in local.addresses}
    # Before the create, the person is marked as being created; the id is saved right after the create,
    # before the emails: that save clears the mark, and its base is what PCO holds then (no emails yet),
    # so a crash from here on is retried as an update that still sends the emails.
    marked, linked = (change[0] for change in records.saved_people[:2])
    assert (marked.pco_id, marked.sync.pco_create_sent_at) == (None, START)
    assert (linked.pco_id, linked.sync.pco_create_sent_at) == (local.pco_id, None)
    assert linked.sync.base is not None
    assert (linked.sync.base.first_name, linked.sync.base.emails) == ("Ada", ())
    # Once pushed, the base is what PCO holds: nothing is pending any more.
    assert local.sync.base == in_pco
    assert not has_pending_changes(local)
    assert local.sync.pco_hash == in_pco.content_hash()
    posted = pco.requests[0]
    assert (posted.method, posted.url.path) == ("POST", "/people/v2/people")
    assert set(httpx.Response(200, content=posted.content).json()["data"]["attributes"]) == {
        "first_name",
        "last_name",
        "gender",
        "birthdate",
        "status",
    }


def test_given_a_pushed_person_then_a_second_push_sends_nothing_and_a_pull_skips_it(pco, records):
    records.add(person("p1", **ADA))
    walk(PushPeople().run, ctx(pco, records, "R1"))
    pco.requests.clear()

    again = walk(PushPeople().run, ctx(pco, records, "R2"))

    # Nothing is pending: the push reads one empty page of the pending index and visits no one.
    assert pco.requests == []
    assert totals(again) == {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    # A pull right after the push: the person PCO serves is the base we hold.
    before = records.people["p1"]
    pulled = walk(PullPeople().run, ctx(pco, records, "R3"))
    assert records.people["p1"] == before
    assert totals(pulled)["created"] == 3  # the sandbox's own people
    assert totals(pulled)["updated"] == 0


def test_given_an_edited_person_then_only_the_changed_attributes_and_new_contacts_are_written(pco, records):
    records.add(person("p1", **ADA))
    walk(PushPeople().run, ctx(pco, records, "R1"))
    pushed = records.people["p1"]
    assert pushed.pco_id is not None
    edited = pushed.model_copy(
        update={
            "last_name": "King",
            "birthdate": None,  # a local gap: PCO keeps its value
            "emails": [*pushed.emails, Email(address="countess@example.org", location="Other")],
            "phones": [Phone(number="(555) 010-2000", location="Work", primary=True)],
        }
    )
    records.add(edited)
    pco.requests.clear()

    pages = walk(PushPeople().run, ctx(pco, records, "R2"))

    assert totals(pages)["updated"] == 1
    base = f"/people/v2/people/{pushed.pco_id}"
    writes = pco.writes()
    assert ("PATCH", base) in writes
    patch = next(r for r in pco.requests if (r.method, r.url.path) == ("PATCH", base))
    assert httpx.Response(200, content=patch.content).json()["data"]["attributes"] == {"last_name": "King"}
    assert ("POST", f"{base}/emails") in writes
    assert sum(1 for m, p in writes if p.startswith(f"{base}/phone_numbers/") and m == "PATCH") == 1
    in_pco = pco.person(pushed.pco_id)
    assert (in_pco.last_name, in_pco.birthdate) == ("King", date(1990, 12, 10))
    assert {e.address for e in in_pco.emails} == {
        "ada@example.org",
        "ada.work@example.org",
        "countess@example.org",
    }
    assert [(p.location, p.primary) for p in in_pco.phone_numbers] == [("Work", True)]


def test_inactive_people_without_a_pco_id_are_skipped_without_a_request(pco, records):
    records.add(person("p1", status="inactive"))

    pages = walk(PushPeople().run, ctx(pco, records))

    # Never pending (PCO only gets the church's active people), so never visited.
    assert not has_pending_changes(records.people["p1"])
    assert totals(pages)["skipped"] == 0
    assert pco.requests == []
    assert records.people["p1"].pco_id is None


def test_a_page_stops_at_its_budget_and_the_next_page_goes_on_from_the_next_person(pco, records):
    many = [
        person(f"p{i:03d}", first=f"N{i}", emails=[Email(address=f"n{i}@example.org")]) for i in range(30)
    ]
    records.add(*many)
    context = ctx(pco, records)

    first = PushPeople().run(context, {})

    done = first.counts.created
    assert 0 < done < RECORDS_PER_PAGE
    assert len(pco.requests) <= REQUEST_BUDGET
    assert first.next_position == WalkPosition(cursor=None, after_id=f"p{done - 1:03d}", processed=done)
    pages = [first, *walk_from(PushPeople().run, context, first.next_position)]
    assert totals(pages)["created"] == 30
    people_posts = [r for r in pco.requests if (r.method, r.url.path) == ("POST", "/people/v2/people")]
    assert len(people_posts) == 30


def walk_from(page_fn: Any, context: DomainContext, position: Position | None) -> list[Any]:
    pages = []
    for _ in range(50):
        if position is None:
            return pages
        page = page_fn(context, position)
        pages.append(page)
        position = page.next_position
    raise AssertionError("never finished")


def test_a_crash_after_the_create_is_retried_as_an_update_of_the_same_pco_person(pco, records, monkeypatch):
    from pco_core.errors import PcoUnavailable
    from pco_core.push import people as push_people

    records.add(person("p1", **ADA))
    real = push_people.write_contacts

    def crash(*args: Any, **kwargs: Any) -> None:
        raise PcoUnavailable("connection dropped")

    monkeypatch.setattr(push_people, "write_contacts", crash)
    with pytest.raises(PcoUnavailable):
        PushPeople().run(ctx(pco, records), {})
    monkeypatch.setattr(push_people, "write_contacts", real)

    retried = walk(PushPeople().run, ctx(pco, records))

    assert totals(retried) == {"created": 1, "updated": 0, "skipped": 0, "failed": 0}
    creates = [r for r in pco.requests if (r.method, r.url.path) == ("POST", "/people/v2/people")]
    assert len(creates) == 1
    local = records.people["p1"]
    assert len(pco.person(local.pco_id or "").emails) == 2


def test_a_crash_between_pcos_create_answer_and_our_save_is_retried_without_a_duplicate(pco, records):
    # Given: the save that links Ada to the PCO person just created fails (the Lambda died there)
    records.add(person("p1", **ADA), person("p2", first="Ada", birthdate=date(2001, 1, 1)))
    real_save = records.save_people
    crashed: list[str] = []

    def crash_on_link(changes: Sequence[tuple[Person, Person | None]]) -> None:
        new, old = changes[0]
        if new.id == "p1" and new.pco_id and old is not None and old.pco_id is None and not crashed:
            crashed.append(new.pco_id)
            raise RuntimeError("Lambda timed out")
        real_save(changes)

    records.save_people = crash_on_link  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        PushPeople().run(ctx(pco, records), {})
    assert records.people["p1"].pco_id is None
    assert records.people["p1"].sync.pco_create_sent_at is not None

    # When the page is retried
    retried = walk(PushPeople().run, ctx(pco, records))

    # Then the PCO person that create made is adopted, not created again
    assert totals(retried) == {"created": 2, "updated": 0, "skipped": 0, "failed": 0}
    creates = [r for r in pco.requests if (r.method, r.url.path) == ("POST", "/people/v2/people")]
    assert len(creates) == 2  # each Ada once
    local = records.people["p1"]
    assert local.pco_id == crashed[0]
    assert local.sync.pco_create_sent_at is None
    assert len(pco.person(crashed[0]).emails) == 2
    assert records.people["p2"].pco_id not in (None, crashed[0])


def test_a_marked_person_whose_create_never_reached_pco_is_created_not_taken_for_a_namesake(pco, records):
    # Given: Ada pushed a moment ago, and another Ada Lovelace (another birthdate) whose create was sent
    # but never reached PCO
    (ada,) = pushed_people(pco, records, person("p0", **ADA))
    pco.requests.clear()
    marked = person("p1", birthdate=date(2001, 1, 1))
    marked = marked.model_copy(update={"sync": marked.sync.model_copy(update={"pco_create_sent_at": START})})
    records.add(marked)
    totals_now = totals(walk(PushPeople().run, ctx(pco, records)))
    assert totals_now == {"created": 1, "updated": 0, "skipped": 0, "failed": 0}  # the namesake is created
    searches = [r for r in pco.requests if r.method == "GET" and r.url.path == "/people/v2/people"]
    assert len(searches) == 1
    assert searches[0].url.params["where[first_name]"] == "Ada"
    assert records.people["p1"].pco_id not in (None, ada.pco_id)


def marked(p: Person) -> Person:
    """`p` as a crash left it: its create was sent (now) and no answer was saved."""
    return p.model_copy(update={"sync": p.sync.model_copy(update={"pco_create_sent_at": START})})


def test_given_two_same_name_people_without_birthdate_then_a_retried_create_never_adopts_the_linked_one(
    pco, records
):
    # Given: Pat (pat.one@) pushed; a second Pat Twinprobe (pat.two@), no birthdate, whose first create
    # PCO refused after we marked it (e.g. a gender PCO rejected), now fixed
    (first,) = pushed_people(
        pco,
        records,
        person("p1", first="Pat", last="Twinprobe", emails=[Email(address="pat.one@example.org")]),
    )
    records.add(
        marked(person("p2", first="Pat", last="Twinprobe", emails=[Email(address="pat.two@example.org")]))
    )
    pco.requests.clear()

    # When pushed again
    assert totals(walk(PushPeople().run, ctx(pco, records)))["created"] == 1

    # Then the second Pat is a PCO person of its own with only its own email; the first is untouched
    second = records.people["p2"]
    assert second.pco_id not in (None, first.pco_id)
    assert [e.address for e in pco.person(second.pco_id).emails] == ["pat.two@example.org"]
    assert [e.address for e in pco.person(first.pco_id).emails] == ["pat.one@example.org"]


def test_given_a_lost_create_that_nothing_but_the_name_confirms_then_a_failure_not_a_link_nor_a_second_create(
    pco, records
):
    # Given: PCO created Sam (no birthdate) but the answer was lost before the emails were written, so
    # PCO's Sam has a name and nothing else to compare
    records.add(
        marked(person("p1", first="Sam", last="Lostanswer", emails=[Email(address="sam@example.org")]))
    )
    answer = pco.client().post(
        "/people/v2/people",
        {"data": {"type": "Person", "attributes": {"first_name": "Sam", "last_name": "Lostanswer"}}},
    )
    lost_id = answer.resources()[0].id
    pco.requests.clear()

    # When pushed
    pages = walk(PushPeople().run, ctx(pco, records))

    # Then nothing is linked, nothing is created again, and the run counts one failure
    assert totals(pages) == {"created": 0, "updated": 0, "skipped": 0, "failed": 1}
    assert records.people["p1"].pco_id is None
    assert [r.method for r in pco.requests] == ["GET"]
    assert pco.person(lost_id).emails == []


def test_given_a_lost_create_confirmed_by_a_phone_then_it_is_adopted(pco, records):
    phone = Phone(number="555-0100", primary=True)
    records.add(marked(person("p1", first="Kim", last="Phoneonly", phones=[phone])))
    client = pco.client()
    answer = client.post(
        "/people/v2/people",
        {"data": {"type": "Person", "attributes": {"first_name": "Kim", "last_name": "Phoneonly"}}},
    )
    lost_id = answer.resources()[0].id
    client.post(
        f"/people/v2/people/{lost_id}/phone_numbers",
        {"data": {"type": "PhoneNumber", "attributes": {"number": "555-0100"}}},
    )

    totals_now = totals(walk(PushPeople().run, ctx(pco, records)))

    assert totals_now["failed"] == 0
    assert records.people["p1"].pco_id == lost_id


# ---- families


def pushed_people(pco: Pco, records: FakeRecords, *people: Person) -> list[Person]:
    records.add(*people)
    walk(PushPeople().run, ctx(pco, records, "RP"))
    return [records.people[p.id] for p in people]


def test_given_a_family_whose_members_are_pushed_then_a_household_is_created_with_them(pco, records):
    ada, byron = pushed_people(pco, records, person("p1", **ADA), person("p2", first="Byron"))
    address = ADA["addresses"][0]
    records.add(
        Family(
            id="f1",
            name="Lovelace Household",
            member_ids=["p1", "p2"],
            primary_member_id="p1",
            address=address,
            updated_at=START,
        )
    )
    pco.requests.clear()

    pages = walk(PushFamilies().run, ctx(pco, records, "R2"))

    assert totals(pages)["created"] == 1
    family = records.families["f1"]
    assert family.pco_id is not None
    doc = pco.get(f"/people/v2/households/{family.pco_id}", include="people")
    assert doc["data"]["attributes"]["name"] == "Lovelace Household"
    assert doc["data"]["relationships"]["primary_contact"]["data"]["id"] == ada.pco_id
    assert sorted(p["id"] for p in doc["data"]["relationships"]["people"]["data"]) == sorted(
        [ada.pco_id, byron.pco_id]
    )
    # The address was already pushed with Ada: no extra request for it.
    assert pco.writes() == [("POST", "/people/v2/households")]
    pco.requests.clear()
    assert (
        totals(walk(PushFamilies().run, ctx(pco, records, "R3")))["skipped"] == 0
    )  # not pending: not visited
    assert pco.requests == []


def test_a_family_with_a_member_not_in_pco_is_skipped(pco, records):
    pushed_people(pco, records, person("p1"))
    records.add(person("p2", status="inactive"))
    records.add(Family(id="f1", name="F", member_ids=["p1", "p2"], primary_member_id="p1", updated_at=START))
    pco.requests.clear()

    pages = walk(PushFamilies().run, ctx(pco, records, "R2"))

    assert totals(pages)["skipped"] == 1
    assert pco.requests == []
    assert records.families["f1"].pco_id is None


def test_an_existing_household_gets_the_new_member_name_and_the_address_on_the_primary(pco, records):
    _, byron = pushed_people(pco, records, person("p1"), person("p2", first="Byron"))
    records.add(Family(id="f1", name="F", member_ids=["p1"], primary_member_id="p1", updated_at=START))
    walk(PushFamilies().run, ctx(pco, records, "R2"))
    family = records.families["f1"]
    new_address = Address(street="1 New Road", city="Bath", zip="BA1", location="Home", primary=True)
    records.add(
        family.model_copy(
            update={
                "name": "G",
                "member_ids": ["p1", "p2"],
                "primary_member_id": "p2",
                "address": new_address,
            }
        )
    )
    pco.requests.clear()

    pages = walk(PushFamilies().run, ctx(pco, records, "R3"))

    assert totals(pages)["updated"] == 1
    doc = pco.get(f"/people/v2/households/{family.pco_id}", include="people")
    assert doc["data"]["attributes"]["name"] == "G"
    assert doc["data"]["relationships"]["primary_contact"]["data"]["id"] == byron.pco_id
    assert len(doc["data"]["relationships"]["people"]["data"]) == 2
    addresses = pco.person(byron.pco_id or "").addresses
    assert [(a.street, a.city, a.zip, a.primary) for a in addresses] == [("1 New Road", "Bath", "BA1", True)]


# ---- memberships


def test_memberships_are_added_once_a_duplicate_is_already_there_and_a_role_change_is_patched(pco, records):
    ada, byron = pushed_people(pco, records, person("p1"), person("p2", first="Byron"))
    group_id = pco.get("/groups/v2/groups")["data"][0]["id"]
    joined = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    members = [
        GroupMember(person_id="p1", role="leader", joined_at=joined),
        GroupMember(person_id="p2", role="member", joined_at=joined),
    ]
    records.add(
        Group(id="g1", pco_id=group_id, name="G", members=members, updated_at=START),
        Group(id="g2", name="Local only", members=members, updated_at=START),
    )
    # Byron is already in the PCO group (someone added him there): PCO answers our POST with its 422.
    client = pco.client()
    client.post(
        f"/groups/v2/groups/{group_id}/memberships",
        {"data": {"type": "Membership", "attributes": {"person_id": byron.pco_id, "role": "member"}}},
    )
    pco.requests.clear()

    pages = walk(PushMemberships().run, ctx(pco, records, "R2"))

    # The local-only group is not pending (PCO's API cannot create groups): never visited.
    assert totals(pages) == {"created": 1, "updated": 0, "skipped": 1, "failed": 0}
    rows = pco.get(f"/groups/v2/groups/{group_id}/memberships")["data"]
    by_person = {r["relationships"]["person"]["data"]["id"]: r["attributes"] for r in rows}
    assert by_person[ada.pco_id]["role"] == "leader"
    assert by_person[ada.pco_id]["joined_at"] == "2025-03-01T09:30:00Z"
    assert by_person[byron.pco_id]["role"] == "member"

    # Pushed: nothing pending, so the next push visits no group and sends nothing
    pco.requests.clear()
    assert totals(walk(PushMemberships().run, ctx(pco, records, "R3"))) == {
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert pco.requests == []

    group = records.groups["g1"]
    records.add(
        group.model_copy(update={"members": [members[0], members[1].model_copy(update={"role": "leader"})]})
    )
    assert totals(walk(PushMemberships().run, ctx(pco, records, "R4")))["updated"] == 1
    rows = pco.get(f"/groups/v2/groups/{group_id}/memberships")["data"]
    assert {r["relationships"]["person"]["data"]["id"]: r["attributes"]["role"] for r in rows}[
        byron.pco_id
    ] == "leader"


def test_a_duplicate_membership_answer_counts_as_already_there(pco, records, monkeypatch):
    """PCO's duplicate answer even when our read did not show the membership (a race with another writer)."""
    from pco_core.push import memberships as push_memberships

    (ada,) = pushed_people(pco, records, person("p1"))
    group_id = pco.get("/groups/v2/groups")["data"][0]["id"]
    records.add(
        Group(id="g1", pco_id=group_id, name="G", members=[GroupMember(person_id="p1")], updated_at=START)
    )
    pco.client().post(
        f"/groups/v2/groups/{group_id}/memberships",
        {"data": {"type": "Membership", "attributes": {"person_id": ada.pco_id}}},
    )
    monkeypatch.setattr(push_memberships, "read_all", lambda pco, path, query, parse: ([], 1))

    pages = walk(PushMemberships().run, ctx(pco, records, "R2"))

    assert totals(pages) == {"created": 0, "updated": 0, "skipped": 1, "failed": 0}


def test_given_an_email_pco_refuses_when_a_new_person_is_pushed_then_a_partial_create_failure_says_so(
    pco, records
):
    records.add(person("p1", emails=[Email(address="ada@nowhere", location="Home", primary=True)]))
    context = ctx(pco, records)

    pages = walk(PushPeople().run, context)

    assert totals(pages) == {"created": 0, "updated": 0, "skipped": 0, "failed": 1}
    created_id = records.people["p1"].pco_id
    assert created_id is not None
    assert pco.person(created_id).emails == []  # created, without the email
    [entry] = context.failures
    assert (entry.kind, entry.record_id, entry.pco_id, entry.name) == (
        "person",
        "p1",
        created_id,
        "Ada Lovelace",
    )
    assert (entry.operation, entry.status) == ("create in PCO", 422)
    assert entry.message == (
        f"Created in PCO (id {created_id}), but not completely: "
        "PCO refused the email address (422): Address is invalid."
    )
    assert entry.at == START


def test_given_a_gender_pco_refuses_when_a_person_is_created_then_the_failure_names_it_and_no_pco_id(
    pco, records
):
    records.add(person("p1", gender="Unknown-ish"))
    context = ctx(pco, records)

    walk(PushPeople().run, context)

    [entry] = context.failures
    assert (entry.record_id, entry.pco_id, entry.operation, entry.status) == (
        "p1",
        None,
        "create in PCO",
        422,
    )
    assert entry.message == "PCO refused the person gender (422): Gender is not included in the list."


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_given_pco_fails_a_write_mid_page_then_the_records_before_it_are_committed_and_none_twice(
    pco, records, lost
):
    # Given three new people (a birthdate confirms a lost create's person), and PCO failing the second
    # create before it arrives, or after it made the person (its answer lost)
    records.add(*(person(f"p{n}", first=f"N{n}", birthdate=date(1990, 1, n)) for n in (1, 2, 3)))
    creates = 0

    def drop_second_create(request: httpx.Request) -> httpx.Response | None:
        nonlocal creates
        if (request.method, request.url.path) != ("POST", "/people/v2/people"):
            return None
        creates += 1
        if creates != 2:
            return None
        if lost == "answer":
            pco.forward(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    pco.on_request = drop_second_create
    # When the page runs
    first = PushPeople().run(ctx(pco, records), {})
    # Then the first person is committed as created and the page stops where PCO failed
    assert totals([first]) == {"created": 1, "updated": 0, "skipped": 0, "failed": 0}
    assert first.next_position == WalkPosition(cursor=None, after_id="p1", processed=1)
    # And the next page goes on from the failed one: every person is in PCO exactly once
    rest = walk_from(PushPeople().run, ctx(pco, records), first.next_position)
    assert totals([first, *rest])["created"] == 3
    assert len({records.people[f"p{n}"].pco_id for n in (1, 2, 3)}) == 3
    names = [p.first_name for p in pco.people() if p.first_name.startswith("N")]
    assert sorted(names) == ["N1", "N2", "N3"]


def test_given_pco_fails_the_first_write_of_a_page_then_the_page_fails_for_the_state_machine_to_retry(
    pco, records
):
    from pco_core.errors import PcoUnavailable

    records.add(person("p1", emails=[Email(address="ada@example.org")]))

    def drop(request: httpx.Request) -> None:
        if request.method == "POST":
            raise httpx.RemoteProtocolError("dropped", request=request)

    pco.on_request = drop
    with pytest.raises(PcoUnavailable):
        PushPeople().run(ctx(pco, records), {})
