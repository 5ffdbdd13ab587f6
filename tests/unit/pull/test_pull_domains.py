"""People, families, groups and memberships pages against a fake PCO (httpx.MockTransport) and fake stores."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from pco_core.engine.domain import AfterIdPosition, DomainContext, KeysetPosition
from pco_core.merge.common import NAMESPACE_PCO_SYNC
from pco_core.merge.person import PersonFields, person_fields
from pco_core.pco.models import PcoEmail, PcoPerson
from pco_core.pull.families import PullFamilies
from pco_core.pull.groups import PullGroups
from pco_core.pull.memberships import REQUEST_BUDGET, PullMemberships
from pco_core.pull.people import PullPeople
from pco_core.records import Email, Family, Group, Person
from tests.unit.fakes import START, FakeClock, FakePco, FakeRecords, pco_person


def context(pco: FakePco, records: FakeRecords, run_id: str = "R1") -> DomainContext:
    return DomainContext(pco=pco.client(), records=records, run_id=run_id, clock=FakeClock())


def counts(page: object) -> tuple[int, int, int, int]:
    c = page.counts  # type: ignore[attr-defined]
    return c.created, c.updated, c.skipped, c.failed


# ---- mapping ----


def test_given_pco_values_in_various_shapes_then_mapping_normalises_them() -> None:
    fields = person_fields(
        PcoPerson(
            id="1",
            first_name="  Søren ",
            last_name="Kierkegaard",
            gender="M",
            updated_at=START,
            emails=[
                PcoEmail(id="a", address="b@x.org", primary=False),
                PcoEmail(id="b", address="a@x.org", primary=True),
                PcoEmail(id="c", address="c@x.org", primary=True),
            ],
        )
    )
    assert (fields.first_name, fields.gender, fields.birthdate) == ("Søren", "Male", None)
    assert [(e.address, e.primary) for e in fields.emails] == [
        ("a@x.org", True),
        ("b@x.org", False),
        ("c@x.org", False),
    ]
    female = person_fields(PcoPerson(id="2", gender="Female", updated_at=START)).gender
    other = person_fields(PcoPerson(id="3", gender="Unknown", updated_at=START)).gender
    assert (female, other) == ("Female", "Unknown")  # values PCO may add later pass through


def test_given_the_same_emails_in_another_order_then_the_hash_is_the_same() -> None:
    a = person_fields(
        PcoPerson(
            id="1",
            updated_at=START,
            emails=[PcoEmail(id="a", address="x@x"), PcoEmail(id="b", address="y@y")],
        )
    )
    b = person_fields(
        PcoPerson(
            id="1",
            updated_at=START,
            emails=[PcoEmail(id="b", address="y@y"), PcoEmail(id="a", address="x@x")],
        )
    )
    assert isinstance(a, PersonFields)
    assert a.content_hash() == b.content_hash()


# ---- people ----


def test_given_new_people_then_they_are_created_with_deterministic_ids_and_all_fields() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [
        pco_person(
            "1",
            "Ada",
            "Lovelace",
            birthdate="1815-12-10",
            gender="F",
            emails=[("ada@x.org", True)],
            addresses=[{"street": "1 Main", "city": "London", "primary": True}],
        ),
        pco_person("2", "Zoë", "Ñúñez", status="inactive"),
    ]
    page = PullPeople().run(context(pco, records), {})
    assert counts(page) == (2, 0, 0, 0)
    assert page.next_position is None
    assert (page.processed, page.total) == (2, 2)
    ada = records.people[str(uuid.uuid5(NAMESPACE_PCO_SYNC, "person:1"))]
    assert (ada.pco_id, ada.gender, ada.birthdate, ada.emails[0].primary) == (
        "1",
        "Female",
        date(1815, 12, 10),
        True,
    )
    assert ada.addresses[0].city == "London"
    zoe = records.person_by_pco("2")
    assert (zoe.first_name, zoe.status, zoe.birthdate) == ("Zoë", "inactive", None)
    request = pco.requests[0]
    assert request.url.params["include"] == "emails,phone_numbers,addresses,households"
    assert request.url.params["order"] == "created_at"
    assert request.url.params["per_page"] == "100"


def test_given_a_pco_person_with_a_value_too_long_to_keep_then_it_fails_and_the_page_goes_on() -> None:
    # Given a page where one person's last name is far longer than we keep
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L" * 5000), pco_person("2", "Bob", "Kahn")]
    # When the page is pulled
    page = PullPeople().run(context(pco, records), {})
    # Then that one is counted failed, the other created, and the too-long one is neither stored nor cut
    assert counts(page) == (1, 0, 0, 1)
    assert [p.pco_id for p in records.people.values()] == ["2"]
    assert page.next_position is None


def test_given_an_unchanged_pco_person_then_a_later_run_skips_it_and_writes_nothing() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "Lovelace")]
    PullPeople().run(context(pco, records, "R1"), {})
    records.calls.clear()
    page = PullPeople().run(context(pco, records, "R2"), {})
    assert counts(page) == (0, 0, 1, 0)
    assert records.calls["save_people"] == 0


def test_given_unlinked_emails_with_pco_values_then_a_pull_links_them_keeps_local_edits_and_skips() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "Lovelace", emails=[("ada@example.org", True)])]
    PullPeople().run(context(pco, records, "R1"), {})
    pid = records.person_by_pco("1").id
    linked = records.people[pid].emails[0]
    assert linked.pco_id is not None
    # Given: the link is lost (a record pushed before PCO's ids were saved) and a local edit waits for push
    records.people[pid] = records.people[pid].model_copy(
        update={"emails": [linked.unlinked()], "first_name": "Augusta"}
    )
    page = PullPeople().run(context(pco, records, "R2"), {})
    assert counts(page) == (0, 0, 1, 0)
    person = records.people[pid]
    assert person.emails == [linked]
    assert person.first_name == "Augusta"


def test_given_linked_and_unlinked_emails_then_the_hash_is_the_same() -> None:
    linked = PersonFields(
        first_name="A",
        last_name="B",
        gender=None,
        birthdate=None,
        status="active",
        emails=(Email(address="a@example.org", primary=True, pco_id="7"),),
        phones=(),
        addresses=(),
    )
    unlinked = linked.model_copy(update={"emails": (linked.emails[0].unlinked(),)})
    assert linked.content_hash() == unlinked.content_hash()
    assert linked.content_hash() != linked.model_copy(update={"first_name": "C"}).content_hash()


def test_given_a_changed_pco_person_then_it_is_updated_in_place_and_keeps_local_family() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "Lovelace")]
    PullPeople().run(context(pco, records, "R1"), {})
    pid = records.person_by_pco("1").id
    records.people[pid] = records.people[pid].model_copy(update={"family_id": "F1"})
    pco.people = [pco_person("1", "Ada", "King")]
    page = PullPeople().run(context(pco, records, "R2"), {})
    assert counts(page) == (0, 1, 0, 0)
    assert (records.people[pid].last_name, records.people[pid].family_id) == ("King", "F1")


def test_given_a_local_person_matched_by_email_then_it_is_linked_and_counted_updated() -> None:
    pco, records = FakePco(), FakeRecords()
    records.add(
        Person(
            id="L1", first_name="Ada", last_name="L", emails=[Email(address="ada@x.org")], updated_at=START
        )
    )
    pco.people = [pco_person("1", "Ada", "Lovelace", emails=[("ada@x.org", True)])]
    page = PullPeople().run(context(pco, records), {})
    assert counts(page) == (0, 1, 0, 0)
    assert (records.people["L1"].pco_id, len(records.people)) == ("1", 1)


def test_given_a_page_retried_after_a_crash_then_records_count_as_the_first_attempt_did() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "Lovelace"), pco_person("2", "Bob", "Kay")]
    PullPeople().run(context(pco, records, "R0"), {})
    pco.people = [pco_person("1", "Ada", "King"), pco_person("2", "Bob", "Kay"), pco_person("3", "Cy", "New")]
    first = PullPeople().run(context(pco, records, "R1"), {})
    retry = PullPeople().run(context(pco, records, "R1"), {})
    assert counts(first) == counts(retry) == (1, 1, 1, 0)
    assert len(records.people) == 3


def test_given_more_than_a_page_then_the_walk_goes_on_from_the_last_created_at_without_an_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PullPeople, "requests_per_page", 1)
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 2
    pco.people = [pco_person(str(i), "P", str(i)) for i in range(3)]
    page = PullPeople().run(context(pco, records), {})
    assert page.next_position == KeysetPosition(
        after=datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC), seen=["1"], processed=2, total=3
    )
    last = PullPeople().run(context(pco, records), page.next_position)
    assert (last.next_position, last.processed, len(records.people)) == (None, 3, 3)
    # Then the second request asked from the last second read on, never by offset
    second = pco.requests[-1].url.params
    assert second["where[created_at][gte]"] == "2020-01-01T00:00:01Z"
    assert second["order"] == "created_at"
    assert "offset" not in second


def test_given_several_pco_pages_then_one_invocation_reads_and_merges_up_to_its_request_budget() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 3  # (each next page starts with the last one read: its second is not done yet)
    pco.people = [pco_person(str(i), "P", str(i)) for i in range(9)]
    # When one page of the people walk runs (three PCO pages)
    page = PullPeople().run(context(pco, records), {})
    # Then it read three PCO pages, merged the seven people on them once each, and goes on after the last
    assert len(pco.requests) == PullPeople.requests_per_page == 3
    assert (page.processed, counts(page), len(records.people)) == (7, (7, 0, 0, 0), 7)
    assert page.next_position == KeysetPosition(
        after=datetime(2020, 1, 1, 0, 0, 6, tzinfo=UTC), seen=["6"], processed=7, total=9
    )
    # And the next invocation finishes the walk
    last = PullPeople().run(context(pco, records), page.next_position)
    assert (last.next_position, last.processed, len(records.people)) == (None, 9, 9)
    assert set(last.reached) == {"people", "emails", "phone_numbers", "addresses"}


def test_given_a_person_without_updated_at_then_it_is_counted_failed_and_the_rest_sync() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L"), {**pco_person("2", "Bob", "K"), "updated_at": None}]
    assert counts(PullPeople().run(context(pco, records), {})) == (1, 0, 0, 1)


# ---- families ----


def people_imported(pco: FakePco, records: FakeRecords) -> None:
    pco.people = [
        pco_person("1", "John", "Smith", addresses=[{"street": "2 Oak", "primary": False}]),
        pco_person("2", "Mary", "Smith", addresses=[{"street": "1 Elm", "primary": True}]),
        pco_person("3", "Old", "Lodger"),
    ]
    PullPeople().run(context(pco, records, "R0"), {})


def test_given_a_household_then_the_family_links_imported_members_and_sets_their_family_id() -> None:
    pco, records = FakePco(), FakeRecords()
    people_imported(pco, records)
    pco.households = [{"id": "H1", "name": "Smith Household", "primary": "1", "people": ["1", "2", "404"]}]
    page = PullFamilies().run(context(pco, records), {})
    assert counts(page) == (1, 0, 0, 0)
    family = next(iter(records.families.values()))
    john, mary = records.person_by_pco("1"), records.person_by_pco("2")
    assert family.id == str(uuid.uuid5(NAMESPACE_PCO_SYNC, "family:H1"))
    assert sorted(family.member_ids) == sorted([john.id, mary.id])  # person 404 not imported: left out
    assert family.primary_member_id == john.id
    assert family.address is not None
    assert family.address.street == "1 Elm"  # John has no primary address: Mary's primary one
    assert john.family_id == mary.family_id == family.id
    assert pco.requests[-1].url.params["include"] == "people"


def test_given_a_member_left_the_household_then_their_family_id_is_cleared() -> None:
    pco, records = FakePco(), FakeRecords()
    people_imported(pco, records)
    pco.households = [{"id": "H1", "name": "Smiths", "primary": "1", "people": ["1", "2", "3"]}]
    PullFamilies().run(context(pco, records, "R1"), {})
    pco.households = [{"id": "H1", "name": "Smiths", "primary": "1", "people": ["1", "2"]}]
    page = PullFamilies().run(context(pco, records, "R2"), {})
    assert counts(page) == (0, 1, 0, 0)
    assert records.person_by_pco("3").family_id is None
    again = PullFamilies().run(context(pco, records, "R3"), {})
    assert counts(again) == (0, 0, 1, 0)


# ---- groups and memberships ----


def test_given_pco_groups_then_they_are_upserted_under_pco_groups() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.groups = [{"id": "G1", "name": "Choir"}, {"id": "G2", "name": "Youth"}]
    assert counts(PullGroups().run(context(pco, records, "R1"), {})) == (2, 0, 0, 0)
    pco.groups[0]["name"] = "Chancel Choir"
    assert counts(PullGroups().run(context(pco, records, "R2"), {})) == (0, 1, 1, 0)
    assert {g.name for g in records.groups.values()} == {"Chancel Choir", "Youth"}
    assert {g.department for g in records.groups.values()} == {"PCO Groups"}
    assert pco.requests[0].url.params["include"] == "group_type"


def test_given_memberships_then_member_lists_are_replaced_and_unknown_people_skipped() -> None:
    pco, records = FakePco(), FakeRecords()
    people_imported(pco, records)
    pco.groups = [{"id": "G1", "name": "Choir"}]
    PullGroups().run(context(pco, records, "R1"), {})
    pco.memberships = {
        "G1": [
            {"id": "m1", "person": "1", "role": "leader", "joined_at": "2024-01-01T00:00:00Z"},
            {"id": "m2", "person": "2"},
            {"id": "m3", "person": "404"},
        ]
    }
    first = PullMemberships().run(context(pco, records, "R1"), {})
    assert counts(first) == (2, 0, 1, 0)  # two membership rows created; the unknown person skipped
    assert first.next_position is None
    group = next(iter(records.groups.values()))
    roles = {m.person_id: m.role for m in group.members}
    assert roles == {records.person_by_pco("1").id: "leader", records.person_by_pco("2").id: "member"}

    retry = PullMemberships().run(context(pco, records, "R1"), {})
    assert counts(retry) == (2, 0, 1, 0)  # crash-retry counts as the first attempt did

    pco.memberships["G1"] = [{"id": "m2", "person": "2"}]
    pco.memberships["G1"][0]["role"] = "leader"
    changed = PullMemberships().run(context(pco, records, "R2"), {})
    assert counts(changed) == (0, 2, 0, 0)  # person 2 became a leader; person 1 left
    assert [m.person_id for m in records.groups[group.id].members] == [records.person_by_pco("2").id]
    assert counts(PullMemberships().run(context(pco, records, "R3"), {})) == (0, 0, 1, 0)


def test_given_an_empty_pco_group_then_its_memberships_count_nothing() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.groups = [{"id": "G1", "name": "Quiet"}]
    PullGroups().run(context(pco, records, "R1"), {})
    assert counts(PullMemberships().run(context(pco, records, "R1"), {})) == (0, 0, 0, 0)


def test_given_many_groups_then_a_page_stops_at_the_request_budget_and_resumes_after_the_last_group() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    for n in range(10):
        records.add(Group(id=f"g{n:02d}", pco_id=f"G{n}", name=f"G{n}", updated_at=START))
        pco.memberships[f"G{n}"] = [{"id": f"m{n}a", "person": "x"}, {"id": f"m{n}b", "person": "y"}]
    ctx = context(pco, records)
    page = PullMemberships().run(ctx, {})
    assert len(pco.requests) == REQUEST_BUDGET  # four groups of two pages each
    assert page.next_position == AfterIdPosition(after_id="g03", processed=4)
    while page.next_position is not None:
        page = PullMemberships().run(ctx, page.next_position)
    assert page.processed == 10
    assert len(pco.requests) == 20
    assert not any(isinstance(r, Family) for r in records.groups.values())


def test_given_pco_fails_one_groups_read_then_the_groups_before_it_are_merged_and_the_page_stops() -> None:
    # Given three linked groups, and PCO answering 503 for the second one's memberships
    pco, records = FakePco(), FakeRecords()
    people_imported(pco, records)
    for n in (1, 2, 3):
        records.add(Group(id=f"g{n}", pco_id=f"G{n}", name=f"G{n}", updated_at=START))
        pco.memberships[f"G{n}"] = [{"id": f"m{n}", "person": "1"}]
    pco.unavailable = lambda request: request.url.path == "/groups/v2/groups/G2/memberships"
    # When a page runs (the context's client does not retry: the engine's retries are tested elsewhere)
    page = PullMemberships().run(context(pco, records), {})
    # Then G1 is merged and the page resumes at G2, which is not touched
    assert counts(page) == (1, 0, 0, 0)
    assert page.next_position == AfterIdPosition(after_id="g1", processed=1)
    assert [len(records.groups[g].members) for g in ("g1", "g2", "g3")] == [1, 0, 0]
    # And once PCO is back, the next page does the rest
    pco.unavailable = lambda request: False
    rest = PullMemberships().run(context(pco, records), page.next_position)
    assert (counts(rest), rest.next_position) == ((2, 0, 0, 0), None)


def test_given_pco_fails_the_first_groups_read_then_the_page_fails_and_merges_nothing() -> None:
    from pco_core.errors import PcoUnavailable

    pco, records = FakePco(), FakeRecords()
    records.add(Group(id="g1", pco_id="G1", name="G1", updated_at=START))
    pco.unavailable = lambda request: True
    with pytest.raises(PcoUnavailable):
        PullMemberships().run(context(pco, records), {})
