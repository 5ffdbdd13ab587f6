"""Incremental sync and the deletion audit, run by the engine's page loop against the PCO sandbox in-process
(its clock drives ours) with the in-memory stores: what each run reads from PCO, what it changes locally,
and the watermarks it leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pco_core.engine.page import PageDeps, run_page
from pco_core.records import ConflictEvent, FieldConflict, has_pending_changes
from pco_core.runs.page import DOMAINS
from pco_core.runstate import RUN_DOMAINS, Domain, Run, Watermark
from tests.unit.fakes import FakeRecords, FakeRuns, make_run
from tests.unit.push.sandbox_pco import Pco


class Church:
    """A sandbox church, the local records synced from it, and the deployment's stored watermarks."""

    def __init__(self, people: int = 60) -> None:
        self.pco = Pco(people=people)
        self.admin = self.pco.sandbox_admin()
        self.records = FakeRecords()
        self.watermarks: dict[str, Watermark] = {}
        self.runs = 0
        # The position each committed page left on the run item, page by page (of the last run).
        self.positions: list[dict[str, Any]] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.pco.sandbox.clock.now(), UTC)

    def advance(self, seconds: float) -> None:
        self.pco.sandbox.clock.advance(seconds)  # type: ignore[attr-defined]

    def sync(
        self, run_type: str, *, stop_after: int | None = None, domains: list[Domain] | None = None
    ) -> tuple[Run, list[httpx.Request]]:
        """One run of `run_type` (its domains, or `domains`) to its end (or `stop_after` pages); the run and
        PCO's requests."""
        self.runs += 1
        run = make_run(
            domains or RUN_DOMAINS[run_type],
            run_id=f"R{self.runs}",
            type=run_type,
            started_at=self.now(),
            watermarks=dict(self.watermarks),
        )
        ledger = FakeRuns(run)
        ledger.watermarks = self.watermarks
        deps = PageDeps(
            pco=self.pco.client(),
            records=self.records,
            runs=ledger,
            clock=self.now,
            lease_seconds=900,
            domains=DOMAINS,
            audit=ledger,
        )
        self.pco.requests.clear()
        self.positions = []
        for page in range(500):
            if stop_after is not None and page == stop_after:
                break
            done = run_page(run.id, 0, deps).done
            self.positions.append(ledger.run(run.id).cursor.position)
            if done:
                break
            self.advance(0.2)
        return ledger.run(run.id), list(self.pco.requests)

    def person(self, pco_id: str) -> Any:
        return self.records.person_by_pco(pco_id)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.admin.post(path, json=body)
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json()["data"])

    def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.admin.patch(path, json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["data"])

    def delete(self, path: str) -> None:
        assert self.admin.delete(path).status_code == 204

    def contact_of_another(self, kind: str, taken: set[str]) -> tuple[str, str]:
        """(contact id, person id) of the first contact of `kind` in PCO whose person is not in `taken`."""
        records = sorted(self.pco.sandbox.store.all(kind), key=lambda r: int(r.id))
        record = next(r for r in records if r.link("person") not in taken)
        taken.add(record.link("person"))
        return record.id, record.link("person")


@pytest.fixture
def church() -> Church:
    church = Church()
    run, _ = church.sync("full_sync")
    assert run.status == "COMPLETED"
    church.advance(60)
    return church


def _paths(requests: list[httpx.Request]) -> list[str]:
    return [r.url.path for r in requests]


def test_given_a_quiet_day_then_sync_people_costs_four_requests_and_changes_nothing(church: Church) -> None:
    # Given a Full Sync an hour ago and no change in PCO since
    church.advance(3600)
    # When Sync People runs
    run, requests = church.sync("people")
    # Then it asked PCO once per kind of change (people, emails, phone numbers, addresses) and nothing more
    assert run.status == "COMPLETED"
    assert _paths(requests) == [
        "/people/v2/people",
        "/people/v2/emails",
        "/people/v2/phone_numbers",
        "/people/v2/addresses",
    ]
    assert (run.created, run.updated, run.failed) == (0, 0, 0)
    # And each change listing started at the Full Sync's watermark, not at the start of time
    people = requests[0].url.params
    assert people["order"] == "updated_at"
    assert "where[updated_at][gte]" in people
    assert requests[3].url.params["order"] == "-updated_at"


def test_given_people_and_contacts_changed_in_pco_then_sync_people_pulls_each_change(church: Church) -> None:
    # Given, after the Full Sync, PCO changes a name, an email, a phone number and an address
    # (four different people, so each change is one update)
    person = sorted(church.pco.sandbox.store.all("Person"), key=lambda r: int(r.id))[0].id
    church.patch(f"/_sandbox/people/{person}", {"last_name": "Renamed"})
    taken = {person}
    email_id, email_person = church.contact_of_another("Email", taken)
    church.patch(f"/_sandbox/emails/{email_id}", {"address": "changed@example.org"})
    phone_id, phone_person = church.contact_of_another("PhoneNumber", taken)
    church.patch(f"/_sandbox/phone_numbers/{phone_id}", {"number": "555-010-9999"})
    address_id, address_person = church.contact_of_another("Address", taken)
    church.patch(f"/_sandbox/addresses/{address_id}", {"city": "Newtown"})
    church.advance(30)

    # When Sync People runs
    run, requests = church.sync("people")

    # Then every change is in the local records, each counted once as an update, and nothing else was
    assert run.status == "COMPLETED"
    assert church.person(person).last_name == "Renamed"
    assert "changed@example.org" in [e.address for e in church.person(email_person).emails]
    assert "555-010-9999" in [p.number for p in church.person(phone_person).phones]
    assert "Newtown" in [a.city for a in church.person(address_person).addresses]
    assert (run.created, run.updated, run.failed) == (0, 4, 0)
    assert len(requests) == 4

    # And the watermarks moved to the second before the run began; a second run finds nothing new
    cap = run.started_at.replace(microsecond=0) - timedelta(seconds=1)
    assert {name: mark.at for name, mark in church.watermarks.items()} == {
        name: cap for name in ("people", "emails", "phone_numbers", "addresses")
    }
    church.advance(60)
    again, requests = church.sync("people")
    assert (again.updated, again.skipped, len(requests)) == (0, 0, 4)


def test_given_changes_in_the_second_before_the_run_then_they_are_read_once_and_remembered(
    church: Church,
) -> None:
    # Given three people changed in PCO in the very second the next run's watermark will stop at
    ids = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)[:3]
    moment = church.now().replace(microsecond=0)
    touched = church.admin.post(
        "/_sandbox/people/touch", json={"ids": ids, "at": f"{moment:%Y-%m-%dT%H:%M:%SZ}"}
    )
    assert touched.status_code == 200, touched.text
    church.advance(1)  # the run starts in the next second: its cap is `moment`

    # When Sync People runs
    first, _ = church.sync("people")

    # Then the watermark is that second with those three ids, so the next run reads them no more
    assert church.watermarks["people"] == Watermark(at=moment, ids=sorted(ids, key=int))
    assert first.status == "COMPLETED"
    church.advance(5)
    second, requests = church.sync("people")
    assert requests[0].url.params["where[updated_at][gte]"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (second.updated, second.skipped) == (0, 0)


def test_given_a_run_that_does_not_complete_then_the_stored_watermarks_stay(church: Church) -> None:
    before = dict(church.watermarks)
    church.advance(600)
    run, _ = church.sync("people", stop_after=2)
    assert run.status == "RUNNING"
    assert church.watermarks == before
    # The watermarks it reached so far are on the run item, committed with the page that reached them
    assert set(run.reached) == {"people", "emails"}


def test_given_a_person_deleted_in_pco_without_a_webhook_then_full_sync_unlinks_it_and_keeps_it(
    church: Church,
) -> None:
    # Given a person deleted in PCO (no webhook reached us)
    pco_id = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)[5]
    before = church.person(pco_id)
    church.delete(f"/_sandbox/people/{pco_id}")

    # When the next Full Sync runs
    run, requests = church.sync("full_sync")

    # Then the local person is still there, inactive, unlinked, with the reason and the id it had
    assert run.status == "COMPLETED"
    after = church.records.people[before.id]
    assert (after.status, after.pco_id) == ("inactive", None)
    assert (after.first_name, after.last_name, after.emails) == (
        before.first_name,
        before.last_name,
        before.emails,
    )
    assert "not found in PCO (404)" in (after.sync.unlinked_reason or "")
    assert after.sync.unlinked_pco_id == pco_id
    # And that took one GET of that person, and PCO's totals match the local linked counts
    assert [r.url.path for r in requests].count(f"/people/v2/people/{pco_id}") == 1
    assert (
        run.totals["people"].pco == run.totals["people"].local == len(church.pco.sandbox.store.all("Person"))
    )
    households = len(church.pco.sandbox.store.all("Household"))
    assert run.totals["households"].pco == run.totals["households"].local == households
    assert run.totals["groups"].pco == run.totals["groups"].local


def test_given_a_pco_person_the_walk_missed_then_the_audit_fetches_it(church: Church) -> None:
    # Given a PCO person with no local record (as if a walk had missed it)
    pco_id = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)[7]
    missed = church.person(pco_id)
    del church.records.people[missed.id]
    # When the audit runs on its own
    run, requests = church.sync("full_sync", domains=["audit_people"])
    # Then that person was fetched by one GET and created, and the totals agree
    assert [r.url.path for r in requests].count(f"/people/v2/people/{pco_id}") == 1
    assert church.person(pco_id).first_name == missed.first_name
    assert run.created == 1
    assert run.totals["people"].pco == run.totals["people"].local


def test_the_audit_lists_ids_with_sparse_fieldsets_by_keyset_and_no_offset(church: Church) -> None:
    church.advance(60)
    _, requests = church.sync("full_sync")
    listing = [
        r.url.params
        for r in requests
        if r.url.path == "/people/v2/people" and "fields[Person]" in r.url.params
    ]
    assert listing
    assert all(p["fields[Person]"] == "created_at" and p["order"] == "created_at" for p in listing)
    assert all("offset" not in p for p in listing)


def test_given_a_membership_added_then_the_incremental_sync_rereads_only_that_group(church: Church) -> None:
    # Given a person added to one group in PCO after the Full Sync
    linked = sorted(g.pco_id for g in church.records.groups.values() if g.pco_id)
    group = church.pco.sandbox.store.get("Group", linked[0])
    in_group = {m.link("person") for m in church.pco.sandbox.store.children("Membership", "group", group.id)}
    outsider = next(r.id for r in church.pco.sandbox.store.all("Person") if r.id not in in_group)
    church.post(f"/_sandbox/groups/{group.id}/memberships", {"person_id": outsider, "role": "member"})
    church.advance(30)

    # When the hourly Incremental Sync runs
    run, requests = church.sync("incremental_sync")

    # Then that group's member list was read (and no other group's), and it holds the new member
    assert run.status == "COMPLETED"
    member_reads = [p for p in _paths(requests) if p.endswith("/memberships")]
    assert member_reads == [f"/groups/v2/groups/{group.id}/memberships"]
    local = church.records.groups_by_pco_ids([group.id])[group.id]
    assert church.person(outsider).id in {m.person_id for m in local.members}
    # And every household was read again (their updated_at ignores member changes)
    assert "/people/v2/households" in _paths(requests)


def test_given_a_household_member_change_then_the_incremental_sync_moves_the_member(church: Church) -> None:
    # Given a person added to another household in PCO (which does not move the household's updated_at)
    households = sorted(church.pco.sandbox.store.all("Household"), key=lambda r: int(r.id))
    target = households[0]
    members = {
        m.link("person")
        for m in church.pco.sandbox.store.children("HouseholdMembership", "household", target.id)
    }
    mover = next(
        r.id
        for r in sorted(church.pco.sandbox.store.all("Person"), key=lambda r: int(r.id))
        if r.id not in members
    )
    church.post(f"/_sandbox/households/{target.id}/members", {"person_id": mover})
    church.advance(30)
    run, _ = church.sync("incremental_sync")
    family = church.records.families_by_pco_ids([target.id])[target.id]
    assert church.person(mover).id in family.member_ids
    assert run.status == "COMPLETED"


def test_given_many_people_gone_then_the_audit_confirms_them_a_chunk_at_a_time(
    church: Church, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pco_core.pull.audit as audit

    # Given local records compared ten at a time, and 15 people PCO deleted spread across the church
    monkeypatch.setattr(audit, "COMPARE_RECORDS", 10)
    ids = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)
    gone = ids[::4][:15]
    for pco_id in gone:
        church.delete(f"/_sandbox/people/{pco_id}")
    # When the audit runs
    run, _ = church.sync("full_sync", domains=["audit_people"])
    # Then every one of them is unlinked, and no page carried more than one chunk of them to confirm
    assert run.status == "COMPLETED"
    unlinked = [p for p in church.records.people.values() if p.sync.unlinked_pco_id in gone]
    assert len(unlinked) == 15
    assert all(p.pco_id is None and p.status == "inactive" for p in unlinked)
    assert max(len(p.get("missing", [])) for p in church.positions) <= 10
    assert run.totals["people"].pco == run.totals["people"].local


def _edit_locally(church: Church, pco_id: str, **values: Any) -> Any:
    """An admin's edit of the local person (waiting to be pushed): the values differ from the base."""
    person = church.person(pco_id)
    edited = person.model_copy(update=values)
    church.records.save_people([(edited, person)])
    return edited


def test_given_a_pending_local_edit_and_another_pco_change_then_sync_people_keeps_both(
    church: Church,
) -> None:
    # Given a person whose last name was edited here (not pushed yet) and whose first name PCO changed
    pco_id = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)[3]
    _edit_locally(church, pco_id, last_name="Ours")
    church.patch(f"/_sandbox/people/{pco_id}", {"first_name": "Theirs"})
    church.advance(30)

    # When Sync People reads the people PCO changed
    run, _ = church.sync("people")

    # Then PCO's first name is taken, our last name is kept and still waiting for the push, no conflict
    person = church.person(pco_id)
    assert (person.first_name, person.last_name) == ("Theirs", "Ours")
    assert has_pending_changes(person)
    assert person.sync.base is not None
    assert person.sync.base.first_name == "Theirs"
    assert person.sync.base.last_name != "Ours"
    assert (run.updated, run.conflicts) == (1, 0)


def test_given_a_pending_local_edit_and_a_pco_contact_change_then_sync_people_keeps_both(
    church: Church,
) -> None:
    # Given a person whose last name was edited here and one of whose phone numbers PCO changed
    phone_id, pco_id = church.contact_of_another("PhoneNumber", set())
    _edit_locally(church, pco_id, last_name="Ours")
    church.patch(f"/_sandbox/phone_numbers/{phone_id}", {"number": "555-010-4242"})
    church.advance(30)

    # When Sync People reads the phone numbers PCO changed
    run, _ = church.sync("people")

    # Then the phone is PCO's new number, the last name ours and still pending, and the base has PCO's phone
    person = church.person(pco_id)
    assert "555-010-4242" in [p.number for p in person.phones]
    assert person.last_name == "Ours"
    assert has_pending_changes(person)
    assert person.sync.base is not None
    assert "555-010-4242" in [p.number for p in person.sync.base.phones]
    assert (run.updated, run.conflicts) == (1, 0)


def test_given_an_email_changed_differently_here_and_in_pco_then_sync_people_records_a_conflict(
    church: Church,
) -> None:
    # Given an email edited here (not pushed yet) and the same PCO email changed to another value in PCO
    email_id, pco_id = church.contact_of_another("Email", set())
    person = church.person(pco_id)
    ours = [
        e.model_copy(update={"address": "ours@example.org"}) if e.pco_id == email_id else e
        for e in person.emails
    ]
    _edit_locally(church, pco_id, emails=ours)
    church.patch(f"/_sandbox/emails/{email_id}", {"address": "theirs@example.org"})
    church.advance(30)

    # When Sync People reads the emails PCO changed
    run, _ = church.sync("people")

    # Then (policy review) our value stays, held back from push, and the conflict is open and logged,
    # naming the run, with both values; the run counts it
    after = church.person(pco_id)
    addresses = [e.address for e in after.emails]
    assert "ours@example.org" in addresses
    assert "theirs@example.org" not in addresses
    [conflict] = after.sync.conflicts
    assert conflict.field == f"emails:{email_id}"
    assert (conflict.local["address"], conflict.pco["address"]) == ("ours@example.org", "theirs@example.org")
    assert conflict.source == run.id
    logged = church.records.conflict_log[conflict.id]
    assert (logged.status, logged.record_id) == ("open", after.id)
    assert run.conflicts == 1
    # And a second run, with nothing new in PCO, keeps the conflict as it is and counts nothing
    church.advance(60)
    again, _ = church.sync("people")
    assert church.person(pco_id).sync.conflicts == (conflict,)
    assert (again.updated, again.conflicts) == (0, 0)


def test_given_a_person_with_a_pending_edit_and_an_open_conflict_deleted_in_pco_then_the_audit_closes_both(
    church: Church,
) -> None:
    # Given a person with a local edit waiting to be pushed and a conflict open on another field
    pco_id = sorted((r.id for r in church.pco.sandbox.store.all("Person")), key=int)[9]
    person = _edit_locally(church, pco_id, last_name="Ours")
    conflict = FieldConflict(
        id="C1",
        field="first_name",
        label="x",
        base="A",
        local="B",
        pco="C",
        detected_at=church.now(),
        source="R0",
    )
    held = person.model_copy(
        update={"sync": person.sync.model_copy(update={"conflicts": (conflict,), "edited": ("last_name",)})}
    )
    church.records.save_people([(held, person)])
    church.records.log_conflicts([ConflictEvent("person", person.id, conflict, "open")])
    # And PCO deletes that person (no webhook reached us)
    church.delete(f"/_sandbox/people/{pco_id}")

    # When the Full Sync's audit runs
    run, _ = church.sync("full_sync", domains=["audit_people"])

    # Then the person keeps its local values, inactive and unlinked, with no base, no edit or conflict held
    # for a PCO record that is gone, so no push visits it; and the conflict log closes the conflict
    assert run.status == "COMPLETED"
    after = church.records.people[person.id]
    assert (after.pco_id, after.status, after.last_name) == (None, "inactive", "Ours")
    assert (after.sync.base, after.sync.conflicts, after.sync.edited) == (None, (), ())
    assert not has_pending_changes(after)
    logged = church.records.conflict_log["C1"]
    assert (logged.status, logged.resolution) == ("resolved", "pco_record_gone")
