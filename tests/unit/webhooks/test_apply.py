"""The worker's apply logic on a real (moto) RecordStore: each event kind, field by field, in any order."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from pco_core.errors import PcoUnavailable
from pco_core.merge.common import record_id_for
from pco_core.pco.client import PcoClient
from pco_core.records import (
    Address,
    ConflictEvent,
    Email,
    Family,
    FieldConflict,
    Group,
    GroupMember,
    Person,
    Phone,
)
from pco_core.store.deliveries import WebhookTrail
from pco_core.store.records import RecordStore
from pco_core.webhooks.apply import Applied, WebhookApplier
from tests.unit.webhooks import events as ev
from tests.unit.webhooks.conftest import NOW

P = "people.v2.events."
G = "groups.v2.events."
_ids = itertools.count(1)


@pytest.fixture
def applier(records: RecordStore, trail: WebhookTrail) -> WebhookApplier:
    return WebhookApplier(records, trail, lambda: NOW)


def send(
    applier: WebhookApplier,
    name: str,
    data: ev.Resource,
    included: list[ev.Resource] | None = None,
    **kw: Any,
) -> Applied:
    return applier.apply(name, ev.payload(data, included, **kw), f"d-{next(_ids)}")


def by_pco(records: RecordStore, pco_id: str) -> Person:
    return records.people_by_pco_ids([pco_id])[pco_id]


def ada(updated_at: str = "2026-03-01T10:00:00Z", **kw: Any) -> tuple[ev.Resource, list[ev.Resource]]:
    return ev.person(
        "101",
        " Ada ",
        "Lovelace",
        updated_at,
        gender="F",
        birthdate="1815-12-10",
        emails=[ev.email("e1", "101", "ADA@example.org", primary=True)],
        phones=[ev.phone("ph1", "101", "503-555-0101")],
        addresses=[ev.address("a1", "101", "1 Engine St", "Portland")],
        **kw,
    )


def test_person_created_is_imported_field_by_field(applier: WebhookApplier, records: RecordStore) -> None:
    result = send(applier, P + "person.created", *ada())
    assert result.outcome == "applied"
    person = by_pco(records, "101")
    assert person.id == record_id_for("person", "101")
    assert (person.first_name, person.last_name, person.gender) == ("Ada", "Lovelace", "Female")
    assert person.birthdate == date(1815, 12, 10)
    assert person.status == "active"
    # Each email, phone and address is linked to its PCO id, so later events about it find it
    assert person.emails == [Email(address="ADA@example.org", location="Home", primary=True, pco_id="e1")]
    assert person.phones == [Phone(number="503-555-0101", location="Mobile", primary=False, pco_id="ph1")]
    assert person.addresses == [
        Address(
            street="1 Engine St",
            city="Portland",
            state="OR",
            zip="97201",
            location="Home",
            primary=True,
            pco_id="a1",
        )
    ]
    assert person.sync.pco_updated_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_person_updated_without_included_keeps_emails_phones_and_addresses(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    resource, _ = ev.person(
        "101", "Augusta Ada", "King", "2026-03-01T11:00:00Z", gender="F", birthdate="1815-12-10"
    )
    assert send(applier, P + "person.updated", resource, []).outcome == "applied"
    person = by_pco(records, "101")
    assert (person.first_name, person.last_name) == ("Augusta Ada", "King")
    assert [e.address for e in person.emails] == ["ADA@example.org"]
    assert [p.number for p in person.phones] == ["503-555-0101"]
    assert [a.street for a in person.addresses] == ["1 Engine St"]


def test_an_older_update_changes_nothing_and_an_echo_is_skipped(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada("2026-03-01T10:00:00Z"))
    before = by_pco(records, "101")
    older, _ = ev.person("101", "Old", "Name", "2026-03-01T09:00:00Z")
    assert send(applier, P + "person.updated", older).outcome == "stale"
    # Our own push coming back: same content, newer updated_at
    assert send(applier, P + "person.updated", *ada("2026-03-01T10:30:00Z")).outcome == "skipped"
    after = by_pco(records, "101")
    assert after == before
    assert after.sync == before.sync


def test_a_person_with_a_300_kb_name_is_refused_with_its_reason_and_nothing_is_stored(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # Given a signed person.created whose first name is 300 KB
    huge, _ = ev.person("102", "x" * 300_000, "Lovelace", "2026-03-01T10:00:00Z")
    # When it is applied
    result = send(applier, P + "person.created", huge)
    # Then it is a failed record naming the field, and no person is stored (none truncated either)
    assert result.outcome == "skipped"
    assert "first_name is 300000 characters (at most 100)" in result.detail
    assert records.people_by_pco_ids(["102"]) == {}


def test_person_destroyed_is_marked_inactive_and_unlinked_never_deleted(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    record_id = by_pco(records, "101").id
    resource, _ = ada()
    assert send(applier, P + "person.destroyed", ev.destroyed(resource)).outcome == "applied"
    assert records.people_by_pco_ids(["101"]) == {}
    person = records.get_person(record_id)
    assert person is not None
    assert person.status == "inactive"
    assert person.pco_id is None
    assert person.first_name == "Ada"
    assert [e.address for e in person.emails] == ["ADA@example.org"]


def test_person_destroyed_with_an_open_conflict_closes_it_in_the_log(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # Given a linked person holding an open conflict (policy review)
    send(applier, P + "person.created", *ada())
    person = by_pco(records, "101")
    conflict = FieldConflict(
        id="C1", field="last_name", label="Ada", base="L", local="M", pco="N", detected_at=NOW, source="R1"
    )
    held = person.model_copy(update={"sync": person.sync.model_copy(update={"conflicts": (conflict,)})})
    records.save_people([(held, person)])
    records.log_conflicts([ConflictEvent("person", person.id, conflict, "open")])
    # When PCO says the person was destroyed
    resource, _ = ada()
    send(applier, P + "person.destroyed", ev.destroyed(resource))
    # Then the conflict is closed (its PCO side is gone) and the unlinked person holds none
    logged = records.get_conflict("C1")
    assert logged is not None
    assert (logged.status, logged.resolution) == ("resolved", "pco_record_gone")
    after = records.get_person(person.id)
    assert after is not None
    assert (after.pco_id, after.sync.conflicts, after.sync.base) == (None, (), None)


def _state(person: Person) -> dict[str, Any]:
    return person.model_dump(exclude={"id", "updated_at"})


def test_updated_and_destroyed_converge_in_either_order(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # Given two identical PCO people, each told the same two events in opposite orders
    final: list[Person] = []
    for pco_id, order in (("201", ("updated", "destroyed")), ("202", ("destroyed", "updated"))):
        created, included = ev.person(pco_id, "Grace", "Hopper", "2026-03-01T09:00:00Z")
        send(applier, P + "person.created", created, included, event_time="2026-03-01T09:00:00Z")
        record_id = by_pco(records, pco_id).id
        updated, _ = ev.person(pco_id, "Grace B.", "Hopper", "2026-03-01T10:00:00Z")
        for action in order:
            if action == "updated":
                send(applier, P + "person.updated", updated, event_time="2026-03-01T10:00:00Z")
            else:
                send(
                    applier, P + "person.destroyed", ev.destroyed(updated), event_time="2026-03-01T11:00:00Z"
                )
        person = records.get_person(record_id)
        assert person is not None
        final.append(person)
    # Then both end inactive and unlinked; the late update did not relink or revive the second
    assert final[0].status == final[1].status == "inactive"
    assert final[0].pco_id is None
    assert final[1].pco_id is None
    assert final[1].first_name == "Grace"  # the update older than the destroy was ignored
    assert final[0].first_name == "Grace B."  # it was applied before the destroy: data kept


def test_email_created_updated_destroyed(applier: WebhookApplier, records: RecordStore) -> None:
    send(applier, P + "person.created", *ada())
    created = ev.email("e2", "101", "ada@work.example", updated_at="2026-03-01T11:00:00Z")
    assert send(applier, P + "email.created", created).outcome == "applied"
    assert [e.address for e in by_pco(records, "101").emails] == ["ADA@example.org", "ada@work.example"]

    changed = ev.email("e2", "101", "lovelace@work.example", primary=True, updated_at="2026-03-01T12:00:00Z")
    assert send(applier, P + "email.updated", changed).outcome == "applied"
    emails = by_pco(records, "101").emails
    assert emails == [
        Email(address="lovelace@work.example", location="Home", primary=True, pco_id="e2"),
        Email(address="ADA@example.org", location="Home", primary=False, pco_id="e1"),
    ]
    # An update older than the one applied changes nothing
    assert send(applier, P + "email.updated", created).outcome == "stale"

    assert send(applier, P + "email.destroyed", ev.destroyed(changed)).outcome == "applied"
    assert [e.address for e in by_pco(records, "101").emails] == ["ADA@example.org"]
    # A late `created` after the destroy does not bring it back
    assert send(applier, P + "email.created", created).outcome == "stale"
    assert [e.address for e in by_pco(records, "101").emails] == ["ADA@example.org"]


def test_a_new_persons_first_email_says_not_primary_but_is_stored_primary_as_pco_does(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # developers#1181: PCO makes a person's first email primary, and its email.created says false.
    send(applier, P + "person.created", *ev.person("102", "Grace", "Hopper", "2026-03-01T10:00:00Z"))
    first = ev.email("e5", "102", "grace@example.org", primary=False, updated_at="2026-03-01T10:00:05Z")

    assert send(applier, P + "email.created", first).outcome == "applied"

    grace = by_pco(records, "102")
    assert grace.emails == [Email(address="grace@example.org", location="Home", primary=True, pco_id="e5")]
    assert grace.sync.base is not None
    assert grace.sync.base.emails[0].primary is True  # what PCO holds: a push after sends nothing
    # A second email is not made primary: only the only one is.
    second = ev.email("e6", "102", "g.hopper@example.org", updated_at="2026-03-01T10:00:09Z")
    send(applier, P + "email.created", second)
    assert [(e.address, e.primary) for e in by_pco(records, "102").emails] == [
        ("grace@example.org", True),
        ("g.hopper@example.org", False),
    ]


def test_an_email_pco_blocks_is_kept_blocked_and_a_local_edit_of_it_keeps_that(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    blocked = ev.email("e1", "101", "ADA@example.org", primary=True, updated_at="2026-03-01T11:00:00Z")
    blocked["attributes"]["blocked"] = True

    assert send(applier, P + "email.updated", blocked).outcome == "applied"

    person = by_pco(records, "101")
    assert [(e.address, e.blocked) for e in person.emails] == [("ADA@example.org", True)]
    assert person.model_dump(mode="json")["emails"][0]["blocked"] is True  # served
    # PCO's own: never a local change, so nothing is waiting to be pushed
    from pco_core.records import has_pending_changes

    assert not has_pending_changes(person)


def test_sub_record_known_from_the_person_payload_can_be_destroyed(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    assert (
        send(applier, P + "phone_number.destroyed", ev.destroyed(ev.phone("ph1", "101", "x"))).outcome
        == "applied"
    )
    assert by_pco(records, "101").phones == []
    assert (
        send(applier, P + "address.destroyed", ev.destroyed(ev.address("a9", "101", "x", "y"))).outcome
        == "unknown"
    )
    assert len(by_pco(records, "101").addresses) == 1


def test_an_email_already_present_is_an_echo(applier: WebhookApplier, records: RecordStore) -> None:
    send(applier, P + "person.created", *ada())
    before = by_pco(records, "101")
    same = ev.email("e1", "101", "ADA@example.org", primary=True, updated_at="2026-03-01T11:00:00Z")
    assert send(applier, P + "email.created", same).outcome == "skipped"
    assert by_pco(records, "101") == before


def test_the_echo_of_an_email_we_pushed_links_it_without_a_change(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    # A local email pushed to PCO whose answer never reached us: not linked, and not in the base
    person = by_pco(records, "101")
    assert person.sync.base is not None
    unlinked = person.model_copy(
        update={
            "emails": [e.unlinked() for e in person.emails],
            "sync": person.sync.model_copy(
                update={"base": person.sync.base.model_copy(update={"emails": ()})}
            ),
        }
    )
    records.save_people([(unlinked, person)])
    echo = ev.email("e7", "101", "ADA@example.org", primary=True, updated_at="2026-03-01T11:00:00Z")
    assert send(applier, P + "email.created", echo).outcome == "skipped"
    after = by_pco(records, "101")
    assert [(e.address, e.pco_id) for e in after.emails] == [("ADA@example.org", "e7")]
    assert after.updated_at == unlinked.updated_at
    assert after.sync.base is not None
    assert [e.pco_id for e in after.sync.base.emails] == ["e7"]
    assert after.sync.conflicts == ()


def test_an_email_changed_in_pco_replaces_the_linked_one(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # Linked by the person payload (as a pull links them): no earlier email event was ever seen
    send(applier, P + "person.created", *ada())
    changed = ev.email("e1", "101", "countess@example.org", primary=True, updated_at="2026-03-01T11:00:00Z")
    assert send(applier, P + "email.updated", changed).outcome == "applied"
    assert [(e.address, e.pco_id) for e in by_pco(records, "101").emails] == [("countess@example.org", "e1")]
    assert send(applier, P + "email.destroyed", ev.destroyed(changed)).outcome == "applied"
    assert by_pco(records, "101").emails == []


def test_a_new_primary_phone_demotes_the_old_one_and_keeps_the_hash_in_step(
    applier: WebhookApplier, records: RecordStore
) -> None:
    send(applier, P + "person.created", *ada())
    new = ev.phone("ph2", "101", "503-555-0199", primary=True, updated_at="2026-03-01T11:00:00Z")
    assert send(applier, P + "phone_number.created", new).outcome == "applied"
    person = by_pco(records, "101")
    assert [(p.number, p.primary) for p in person.phones] == [("503-555-0199", True), ("503-555-0101", False)]
    # A later person payload with exactly these phones is recognised as nothing new
    resource, included = ev.person(
        "101",
        "Ada",
        "Lovelace",
        "2026-03-01T11:30:00Z",
        gender="F",
        birthdate="1815-12-10",
        emails=[ev.email("e1", "101", "ADA@example.org", primary=True)],
        phones=[ev.phone("ph1", "101", "503-555-0101"), new],
        addresses=[ev.address("a1", "101", "1 Engine St", "Portland")],
    )
    assert send(applier, P + "person.updated", resource, included).outcome == "skipped"


def test_an_event_for_a_person_we_do_not_have_is_unknown(applier: WebhookApplier) -> None:
    assert send(applier, P + "email.created", ev.email("e5", "999", "x@example.org")).outcome == "unknown"
    assert (
        send(
            applier,
            P + "person.destroyed",
            ev.destroyed(ev.person("999", "A", "B", "2026-01-01T00:00:00Z")[0]),
        ).outcome
        == "unknown"
    )
    assert send(applier, P + "workflow_card.created", ev.group("1", "x")).outcome == "unknown"


def _people(applier: WebhookApplier, *ids: str) -> None:
    for n, pco_id in enumerate(ids):
        resource, _ = ev.person(
            pco_id, f"P{n}", "Babbage", "2026-03-01T09:00:00Z", birthdate=f"2000-01-0{n + 1}"
        )
        send(applier, P + "person.created", resource)


def test_household_created_updated_destroyed(applier: WebhookApplier, records: RecordStore) -> None:
    _people(applier, "301", "302", "303")
    p1, p2, p3 = (by_pco(records, i) for i in ("301", "302", "303"))
    created = ev.household("h1", "Babbage Household", ["301", "302", "303"], "302", "2026-03-01T10:00:00Z")
    assert (
        send(applier, P + "household.created", created, event_time="2026-03-01T10:00:00Z").outcome
        == "applied"
    )
    family = records.families_by_pco_ids(["h1"])["h1"]
    assert family.name == "Babbage Household"
    assert family.member_ids == sorted([p1.id, p2.id, p3.id])
    assert family.primary_member_id == p2.id
    assert {p.family_id for p in records.get_people([p1.id, p2.id, p3.id]).values()} == {family.id}

    # Household events are ordered by when they happened (PCO's event_time), not by updated_at
    older = ev.household("h1", "Old Name", ["301"], "301", "2026-03-01T09:30:00Z")
    assert send(applier, P + "household.updated", older, event_time="2026-03-01T09:30:00Z").outcome == "stale"

    updated = ev.household("h1", "The Babbages", ["301", "302"], "301", "2026-03-01T11:00:00Z")
    assert (
        send(applier, P + "household.updated", updated, event_time="2026-03-01T11:00:00Z").outcome
        == "applied"
    )
    family = records.families_by_pco_ids(["h1"])["h1"]
    assert (family.name, family.member_ids, family.primary_member_id) == (
        "The Babbages",
        sorted([p1.id, p2.id]),
        p1.id,
    )
    assert records.get_people([p3.id])[p3.id].family_id is None

    assert send(applier, P + "household.destroyed", ev.destroyed(updated)).outcome == "applied"
    kept = records.get_family(family.id)
    assert kept is not None
    assert kept.pco_id is None
    assert kept.name == "The Babbages"
    assert {p.family_id for p in records.get_people([p1.id, p2.id]).values()} == {None}
    # A late update of the destroyed household changes nothing
    assert send(applier, P + "household.updated", updated).outcome == "stale"
    assert records.families_by_pco_ids(["h1"]) == {}


def test_a_member_removed_in_pco_arrives_though_the_households_updated_at_did_not_move(
    applier: WebhookApplier, records: RecordStore
) -> None:
    # PCO fires household.updated on member changes and leaves updated_at as it was (developers#708, #1253)
    _people(applier, "311", "312")
    both = ev.household("h2", "Lovelace Household", ["311", "312"], "311", "2026-03-01T10:00:00Z")
    send(applier, P + "household.created", both, event_time="2026-03-01T10:00:00Z")
    one = ev.household("h2", "Lovelace Household", ["311"], "311", "2026-03-01T10:00:00Z")

    result = send(applier, P + "household.updated", one, event_time="2026-03-01T10:05:00Z")

    assert result.outcome == "applied"
    family = records.families_by_pco_ids(["h2"])["h2"]
    assert family.member_ids == [by_pco(records, "311").id]
    assert by_pco(records, "312").family_id is None


def test_person_merger_merges_the_removed_record_into_the_kept_one(
    applier: WebhookApplier, records: RecordStore
) -> None:
    keep, keep_inc = ev.person(
        "401",
        "Charles",
        "Babbage",
        "2026-03-01T09:00:00Z",
        emails=[ev.email("e41", "401", "cb@example.org", primary=True)],
    )
    remove, remove_inc = ev.person(
        "402",
        "Charles",
        "Babbage",
        "2026-03-01T09:00:00Z",
        emails=[
            ev.email("e42", "402", "charles@example.org", primary=True),
            ev.email("e43", "402", "CB@example.org"),
        ],
        phones=[ev.phone("p42", "402", "503-555-0142")],
    )
    send(applier, P + "person.created", keep, keep_inc)
    send(applier, P + "person.created", remove, remove_inc)
    removed_id = by_pco(records, "402").id
    assert send(applier, P + "person_merger.created", ev.merger("m1", "401", "402")).outcome == "applied"
    kept = by_pco(records, "401")
    assert [(e.address, e.primary) for e in kept.emails] == [
        ("cb@example.org", True),
        ("charles@example.org", False),
    ]
    assert [p.number for p in kept.phones] == ["503-555-0142"]
    removed = records.get_person(removed_id)
    assert removed is not None
    assert (removed.status, removed.pco_id) == ("inactive", None)
    assert [e.address for e in removed.emails] == ["charles@example.org", "CB@example.org"]


def test_person_merger_moves_the_removed_persons_family_place_and_group_memberships(
    applier: WebhookApplier, records: RecordStore
) -> None:
    _people(applier, "701", "702", "703")
    keep, remove, other = (by_pco(records, i) for i in ("701", "702", "703"))
    # Given: the removed person heads a family the kept one is not in, and is in three groups
    family = Family(
        id="fam",
        name="Babbages",
        member_ids=[remove.id, other.id],
        primary_member_id=remove.id,
        updated_at=NOW,
    )
    records.save_families([(family, None)])
    for person in (remove, other):
        records.save_people([(person.model_copy(update={"family_id": "fam"}), person)])
    early, late = datetime(2020, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    groups = [
        Group(
            id="g-choir",
            name="Choir",
            members=[GroupMember(person_id=remove.id, role="leader")],
            updated_at=NOW,
        ),
        Group(
            id="g-both",
            name="Both",
            members=[
                GroupMember(person_id=keep.id, joined_at=late),
                GroupMember(person_id=remove.id, role="leader", joined_at=early),
                GroupMember(person_id=other.id),
            ],
            updated_at=NOW,
        ),
        Group(id="g-none", name="None", members=[GroupMember(person_id=other.id)], updated_at=NOW),
    ]
    records.save_groups([(g, None) for g in groups])

    result = send(applier, P + "person_merger.created", ev.merger("m7", "701", "702"))

    assert result.outcome == "applied"
    assert "2 group memberships moved" in result.detail
    moved = records.get_family("fam")
    assert moved is not None
    assert (moved.member_ids, moved.primary_member_id) == ([keep.id, other.id], keep.id)
    assert by_pco(records, "701").family_id == "fam"
    retired = records.get_person(remove.id)
    assert retired is not None
    assert (retired.family_id, retired.status) == (None, "inactive")
    members = {
        g.id: [(m.person_id, m.role, m.joined_at) for m in g.members]
        for g in records.get_groups(["g-choir", "g-both", "g-none"]).values()
    }
    assert members["g-choir"] == [(keep.id, "leader", None)]
    assert sorted(members["g-both"]) == sorted([(keep.id, "leader", early), (other.id, "member", None)])
    assert members["g-none"] == [(other.id, "member", None)]

    # The same merger again (a retried delivery with another id) changes nothing more
    again = send(applier, P + "person_merger.created", ev.merger("m7", "701", "702"))
    assert "0 group memberships moved" in again.detail
    assert records.get_family("fam") == moved


def test_person_merger_after_the_removed_persons_destroy_still_merges(
    applier: WebhookApplier, records: RecordStore
) -> None:
    _people(applier, "501", "502")
    removed_id = by_pco(records, "502").id
    send(applier, P + "email.created", ev.email("e52", "502", "late@example.org"))
    send(applier, P + "person.destroyed", ev.destroyed(ev.person("502", "x", "y", "2026-01-01T00:00:00Z")[0]))
    assert send(applier, P + "person_merger.created", ev.merger("m2", "501", "502")).outcome == "applied"
    assert [e.address for e in by_pco(records, "501").emails] == ["late@example.org"]
    removed = records.get_person(removed_id)
    assert removed is not None
    assert removed.status == "inactive"


def test_group_and_membership_events(applier: WebhookApplier, records: RecordStore) -> None:
    _people(applier, "601", "602")
    p1, p2 = by_pco(records, "601"), by_pco(records, "602")
    assert (
        send(applier, G + "group.created", ev.group("g1", "Choir"), event_time="2026-03-01T10:00:00Z").outcome
        == "applied"
    )
    assert (
        send(
            applier, G + "group.updated", ev.group("g1", "Old Choir"), event_time="2026-03-01T09:00:00Z"
        ).outcome
        == "stale"
    )
    assert (
        send(
            applier, G + "group.updated", ev.group("g1", "Chancel Choir"), event_time="2026-03-01T11:00:00Z"
        ).outcome
        == "applied"
    )
    group = records.groups_by_pco_ids(["g1"])["g1"]
    assert (group.name, group.department) == ("Chancel Choir", "PCO Groups")

    assert (
        send(applier, G + "membership.created", ev.membership("m1", "g1", "601", "leader")).outcome
        == "applied"
    )
    assert send(applier, G + "membership.created", ev.membership("m2", "g1", "602")).outcome == "applied"
    members = records.groups_by_pco_ids(["g1"])["g1"].members
    joined = datetime(2026, 1, 5, tzinfo=UTC)
    assert members == sorted(
        [
            GroupMember(person_id=p1.id, role="leader", joined_at=joined),
            GroupMember(person_id=p2.id, role="member", joined_at=joined),
        ],
        key=lambda m: m.person_id,
    )
    assert (
        send(applier, G + "membership.destroyed", ev.destroyed(ev.membership("m2", "g1", "602"))).outcome
        == "applied"
    )
    assert [m.person_id for m in records.groups_by_pco_ids(["g1"])["g1"].members] == [p1.id]
    # A late `updated` of the destroyed membership does not add it back
    assert send(applier, G + "membership.updated", ev.membership("m2", "g1", "602")).outcome == "stale"

    assert send(applier, G + "group.destroyed", ev.destroyed(ev.group("g1", "x"))).outcome == "applied"
    assert records.groups_by_pco_ids(["g1"]) == {}
    kept = records.get_group(group.id)
    assert kept is not None
    assert [m.person_id for m in kept.members] == [p1.id]


class SaveFailsOnce(RecordStore):
    """The record store dying on the next save_people, as a worker crash mid-event would."""

    fail_next = False

    def save_people(self, changes: Any) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("worker died mid-save")
        super().save_people(changes)


@pytest.mark.parametrize("event", ["email.created", "email.destroyed", "person.updated"])
def test_an_event_whose_save_failed_is_applied_when_retried(
    records_table: str, dynamodb: Any, trail: WebhookTrail, event: str
) -> None:
    store = SaveFailsOnce(records_table, client=dynamodb, sleep=lambda _: None)
    applier = WebhookApplier(store, trail, lambda: NOW)
    send(applier, P + "person.created", *ada())
    new_email = ev.email("e2", "101", "second@example.org", updated_at="2026-03-01T11:00:00Z")
    if event != "email.created":
        send(applier, P + "email.created", new_email)
    data: ev.Resource = {
        "email.created": new_email,
        "email.destroyed": ev.destroyed(new_email),
        "person.updated": ev.person("101", "Ada", "King", "2026-03-01T12:00:00Z")[0],
    }[event]
    store.fail_next = True
    with pytest.raises(ConnectionError):
        applier.apply(P + event, ev.payload(data), "d-retry")
    # When SQS hands the message again
    assert applier.apply(P + event, ev.payload(data), "d-retry").outcome == "applied"
    person = by_pco(store, "101")
    addresses = [e.address for e in person.emails]
    expected = {
        "email.created": ["ADA@example.org", "second@example.org"],
        "email.destroyed": ["ADA@example.org"],
        "person.updated": ["ADA@example.org", "second@example.org"],
    }[event]
    assert addresses == expected
    if event == "person.updated":
        assert person.last_name == "King"


class KeptPersonPco:
    """PCO as a merger check sees it: answers GET /people/v2/people/<id> with `status`."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[str] = []

    def client(self) -> PcoClient:
        def answer(request: httpx.Request) -> httpx.Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if self.status == 200:
                person = {"type": "Person", "id": request.url.path.rsplit("/", 1)[-1], "attributes": {}}
                return httpx.Response(200, json={"data": person})
            return httpx.Response(self.status, json={"errors": [{"status": str(self.status), "title": "x"}]})

        return PcoClient("https://pco.test", "app", "secret", transport=httpx.MockTransport(answer))


def _merger_with_unknown_kept_person(
    records: RecordStore, trail: WebhookTrail, pco: KeptPersonPco
) -> tuple[WebhookApplier, str]:
    checking = WebhookApplier(records, trail, lambda: NOW, pco=pco.client)
    _people(checking, "802")
    return checking, by_pco(records, "802").id


def test_a_merger_whose_kept_person_pco_confirms_relinks_the_removed_record(
    records: RecordStore, trail: WebhookTrail
) -> None:
    # Given PCO merged 802 into 801, a person we do not have, and PCO answers for 801
    pco = KeptPersonPco(200)
    applier, removed_id = _merger_with_unknown_kept_person(records, trail, pco)
    # When the merger arrives
    result = send(applier, P + "person_merger.created", ev.merger("m8", "801", "802"))
    # Then PCO was asked once, and our record of 802 is now linked to 801
    assert result.outcome == "applied"
    assert pco.requests == ["GET /people/v2/people/801"]
    assert by_pco(records, "801").id == removed_id
    assert records.people_by_pco_ids(["802"]) == {}


def test_a_merger_whose_kept_person_pco_does_not_have_links_nothing(
    records: RecordStore, trail: WebhookTrail
) -> None:
    # Given PCO answers 404 for the kept person the merger names
    pco = KeptPersonPco(404)
    applier, removed_id = _merger_with_unknown_kept_person(records, trail, pco)
    before = records.get_person(removed_id)
    # When the merger arrives
    result = send(applier, P + "person_merger.created", ev.merger("m9", "899", "802"))
    # Then nothing is relinked or retired: the record stays linked to 802, and no tombstone is left
    assert result.outcome == "unknown"
    assert "899 is not in PCO" in result.detail
    assert records.people_by_pco_ids(["899"]) == {}
    assert records.get_person(removed_id) == before
    assert trail.tombstone("person", "802") is None


def test_a_merger_check_that_pco_cannot_answer_fails_the_delivery_for_sqs_to_retry(
    records: RecordStore, trail: WebhookTrail
) -> None:
    pco = KeptPersonPco(503)
    applier, removed_id = _merger_with_unknown_kept_person(records, trail, pco)
    before = records.get_person(removed_id)
    with pytest.raises(PcoUnavailable):
        send(applier, P + "person_merger.created", ev.merger("m10", "801", "802"))
    assert records.get_person(removed_id) == before
    assert trail.tombstone("person", "802") is None


def test_a_merger_of_two_known_people_asks_pco_nothing(records: RecordStore, trail: WebhookTrail) -> None:
    pco = KeptPersonPco(500)
    applier = WebhookApplier(records, trail, lambda: NOW, pco=pco.client)
    _people(applier, "811", "812")
    assert send(applier, P + "person_merger.created", ev.merger("m11", "811", "812")).outcome == "applied"
    assert pco.requests == []
