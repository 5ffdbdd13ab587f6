"""A run's write never replaces a newer change a webhook applied since the run read PCO (issue 15).

Deterministic races: the run's page reads a fake PCO whose answer is held while a webhook is applied to
the same records (the real DynamoDB store on moto, the real appliers), with one fake clock for the page,
the worker and the store, moved on between the steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pco_core.engine.domain import DomainContext
from pco_core.pull.memberships import PullMemberships
from pco_core.pull.people import PullPeople
from pco_core.records import Email, Group, GroupMember, GroupSync, Person, has_pending_changes
from pco_core.store.deliveries import WebhookTrail
from pco_core.store.records import RecordStore
from pco_core.webhooks.apply import WebhookApplier
from tests.unit.fakes import START, FakeClock, FakePco, pco_person
from tests.unit.webhooks import events as ev

P = "people.v2.events."
G = "groups.v2.events."


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store(records_table: str, dynamodb: Any, clock: FakeClock) -> RecordStore:
    return RecordStore(records_table, client=dynamodb, sleep=lambda _: None, now=lambda: clock().timestamp())


@pytest.fixture
def worker(store: RecordStore, trail: WebhookTrail, clock: FakeClock) -> WebhookApplier:
    return WebhookApplier(store, trail, clock)


def context(pco: FakePco, store: RecordStore, clock: FakeClock, run_id: str) -> DomainContext:
    return DomainContext(pco=pco.client(), records=store, run_id=run_id, clock=clock)


def webhook_meanwhile(
    worker: WebhookApplier, clock: FakeClock, name: str, resource: dict[str, Any], delivery_id: str
) -> Callable[[httpx.Request], None]:
    """What PCO's fake does while its answer is on its way: one webhook applied, a second later, and the
    clock moved on past it."""

    def apply(request: httpx.Request) -> None:
        clock.advance(1)
        assert worker.apply(name, ev.payload(resource), delivery_id).outcome == "applied"
        clock.advance(1)

    return apply


ADA_NEW_EMAIL = ev.email("1-e0", "1", "ada@new.example", primary=True, updated_at="2026-03-01T10:00:00Z")


def people(store: RecordStore) -> dict[str, Person]:
    return {p.pco_id: p for p in store.list_people(100, None)[0] if p.pco_id}


def imported(pco: FakePco, store: RecordStore, clock: FakeClock) -> None:
    """Ada (PCO 1), Bob (PCO 2) and Cy (PCO 3) pulled once; group G1 linked with Ada as its only member,
    agreed with PCO (its base), as a memberships pull leaves it."""
    pco.people = [
        pco_person("1", "Ada", "Lovelace", emails=[("ada@old.example", True)]),
        pco_person("2", "Bob", "Kahn"),
        pco_person("3", "Cy", "Young"),
    ]
    PullPeople().run(context(pco, store, clock, "R0"), {})
    ada = people(store)["1"]
    members = [GroupMember(person_id=ada.id)]
    store.save_groups(
        [
            (
                Group(
                    id="g1",
                    pco_id="G1",
                    name="Choir",
                    members=members,
                    updated_at=START,
                    sync=GroupSync(members_base=tuple(members)),
                ),
                None,
            )
        ]
    )
    pco.memberships = {"G1": [{"id": "m1", "person": "1"}]}
    clock.advance(60)


def test_a_membership_added_by_webhook_while_the_run_reads_the_group_is_kept(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given a memberships page about to read group G1, whose PCO list (as read) has Ada and Cy
    pco = FakePco()
    imported(pco, store, clock)
    pco.memberships["G1"].append({"id": "m3", "person": "3"})

    # While PCO's answer is on its way, Bob joins G1 in PCO and the webhook is applied
    pco.while_answering = webhook_meanwhile(
        worker, clock, G + "membership.created", ev.membership("m2", "G1", "2"), "d-1"
    )
    # When the page merges what it read (Ada and Cy) into G1
    page = PullMemberships().run(context(pco, store, clock, "R1"), {})
    # Then G1 holds PCO's list as read and Bob, whom the webhook added meanwhile: nothing is lost
    members = {m.person_id for m in store.groups_by_pco_ids(["G1"])["G1"].members}
    assert members == {people(store)[pco_id].id for pco_id in ("1", "2", "3")}
    # (counted against the list as the webhook left it: Cy created, Ada and Bob there already)
    assert (page.counts.created, page.counts.updated, page.counts.skipped) == (1, 0, 2)


def test_a_membership_removed_by_webhook_while_the_run_reads_the_group_stays_removed(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given G1 with Ada; PCO's list as the page reads it: Ada and Cy; meanwhile Ada leaves (webhook)
    pco = FakePco()
    imported(pco, store, clock)
    pco.memberships["G1"].append({"id": "m3", "person": "3"})

    pco.while_answering = webhook_meanwhile(
        worker, clock, G + "membership.destroyed", ev.destroyed(ev.membership("m1", "G1", "1")), "d-9"
    )
    PullMemberships().run(context(pco, store, clock, "R1"), {})
    # Then Cy (from the read) is in, and Ada (removed after the read) stays out
    members = {m.person_id for m in store.groups_by_pco_ids(["G1"])["G1"].members}
    assert members == {people(store)["3"].id}


def test_a_membership_added_by_webhook_meanwhile_is_merged_three_ways_with_a_removal_made_here(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given Ada removed from G1 here (not pushed yet), PCO's list as the page reads it: Ada and Cy; and
    # meanwhile Bob joins G1 in PCO (webhook)
    pco = FakePco()
    imported(pco, store, clock)
    g1 = store.groups_by_pco_ids(["G1"])["G1"]
    store.save_groups([(g1.model_copy(update={"members": []}), g1)])
    clock.advance(1)
    pco.memberships["G1"].append({"id": "m3", "person": "3"})

    pco.while_answering = webhook_meanwhile(
        worker, clock, G + "membership.created", ev.membership("m2", "G1", "2"), "d-5"
    )
    # When the page merges what it read
    PullMemberships().run(context(pco, store, clock, "R1"), {})
    # Then Bob (the webhook's) and Cy (PCO's, as read) are in, and Ada's removal here is still to push
    group = store.groups_by_pco_ids(["G1"])["G1"]
    ids = people(store)
    assert {m.person_id for m in group.members} == {ids["2"].id, ids["3"].id}
    assert {m.person_id for m in group.sync.members_base or ()} == {ids[p].id for p in ("1", "2", "3")}
    assert has_pending_changes(group)


def test_a_membership_applied_before_the_run_read_pco_is_not_held_back(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given Bob's membership applied by webhook before the page reads PCO, where Bob then left again
    pco = FakePco()
    imported(pco, store, clock)
    worker.apply(G + "membership.created", ev.payload(ev.membership("m2", "G1", "2")), "d-1")
    clock.advance(1)
    # When the page reads PCO (Ada only) and merges it
    page = PullMemberships().run(context(pco, store, clock, "R1"), {})
    # Then PCO's list, read after that change, is written: Bob is gone
    members = [m.person_id for m in store.groups_by_pco_ids(["G1"])["G1"].members]
    assert members == [people(store)["1"].id]
    assert page.counts.updated == 1


def test_an_email_changed_by_webhook_while_the_run_reads_people_is_kept(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given PCO's people as a run reads them: Ada's email was changed there, but the read holds the old
    # email (the webhook for the change is applied while the read's answer is on its way)
    pco = FakePco()
    imported(pco, store, clock)
    pco.people[0]["first_name"] = "Augusta"  # a change the read does carry

    pco.while_answering = webhook_meanwhile(worker, clock, P + "email.updated", ADA_NEW_EMAIL, "d-2")
    # When the People page merges its read
    page = PullPeople().run(context(pco, store, clock, "R1"), {})
    # Then Ada keeps the webhook's newer email; the run does not put the old one back
    ada = people(store)["1"]
    assert [e.address for e in ada.emails] == ["ada@new.example"]
    assert page.counts.skipped >= 1
    # And the next run (reading after the change) brings the rest of PCO's change
    pco.people[0]["emails"] = [("ada@new.example", True)]
    pco.while_answering = lambda request: None
    clock.advance(60)
    PullPeople().run(context(pco, store, clock, "R2"), {})
    ada = people(store)["1"]
    assert (ada.first_name, [e.address for e in ada.emails]) == ("Augusta", ["ada@new.example"])


def test_a_change_saved_between_the_runs_local_read_and_its_write_is_not_overwritten(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a People page that has read PCO and the local records, and is about to write
    pco = FakePco()
    imported(pco, store, clock)
    pco.people[0]["first_name"] = "Augusta"
    real = store._write_unless_newer

    def webhook_just_before_the_write(records: Any, read_at: Any) -> set[str]:
        clock.advance(1)
        assert worker.apply(P + "email.updated", ev.payload(ADA_NEW_EMAIL), "d-3").outcome == "applied"
        return real(records, read_at)

    monkeypatch.setattr(store, "_write_unless_newer", webhook_just_before_the_write)
    # When the page writes
    PullPeople().run(context(pco, store, clock, "R1"), {})
    # Then DynamoDB's condition refused the run's older version: the webhook's email stays
    assert [e.address for e in people(store)["1"].emails] == ["ada@new.example"]
    assert people(store)["2"].first_name == "Bob"  # the rest of the page was written


def test_without_a_webhook_the_run_writes_what_it_read(store: RecordStore, clock: FakeClock) -> None:
    pco = FakePco()
    imported(pco, store, clock)
    pco.people[0]["first_name"] = "Augusta"
    page = PullPeople().run(context(pco, store, clock, "R1"), {})
    assert people(store)["1"].first_name == "Augusta"
    assert (page.counts.updated, page.counts.skipped) == (1, 2)
    assert isinstance(people(store)["1"].emails[0], Email)


def test_a_conflict_the_runs_refused_write_found_is_not_logged_until_a_run_merges_again(
    store: RecordStore, worker: WebhookApplier, clock: FakeClock
) -> None:
    # Given Ada's last name edited here (Byron) and in PCO (King) since they last agreed (Lovelace): a
    # conflict under the review policy; and Ada's email changed by a webhook while a run reads PCO
    pco = FakePco()
    imported(pco, store, clock)
    ada = people(store)["1"]
    store.save_people([(ada.model_copy(update={"last_name": "Byron"}), ada)])
    clock.advance(1)
    pco.people[0]["last_name"] = "King"

    pco.while_answering = webhook_meanwhile(worker, clock, P + "email.updated", ADA_NEW_EMAIL, "d-4")
    # When the run's People page merges its read of Ada (written since by the webhook)
    page = PullPeople().run(context(pco, store, clock, "R1"), {})
    # Then Ada is left as the webhook wrote her, and the conflict the refused write found is not logged
    assert (people(store)["1"].last_name, page.counts.conflicts) == ("Byron", 0)
    assert store.list_conflicts("open", 10, None)[0] == []
    # When the next run reads PCO after that change
    pco.people[0]["emails"] = [("ada@new.example", True)]
    pco.while_answering = lambda request: None
    clock.advance(60)
    page = PullPeople().run(context(pco, store, clock, "R2"), {})
    # Then the conflict is found, logged once and held open: ours kept until an admin decides
    (logged,) = store.list_conflicts("open", 10, None)[0]
    assert (logged.field, logged.local, logged.pco, logged.base) == ("last_name", "Byron", "King", "Lovelace")
    assert (people(store)["1"].last_name, page.counts.conflicts) == ("Byron", 1)
