"""Two-way sync of a person never loses an edit: the matrix of who changed what, in every order.

{local only, PCO only, both to the same value, both to different values} x {pull first, push first,
webhook first}, for a person attribute (last name) and a contact item (an email), against the PCO sandbox
in-process. Each case ends with a pull and a push, then checks both sides and the conflict list.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from pco_core.api.bodies import PersonPatch
from pco_core.api.record_edits import RecordEdits
from pco_core.engine.domain import DomainContext, Position
from pco_core.pull.people import PullPeople
from pco_core.push.people import PushPeople
from pco_core.records import ConflictPolicy, Person, has_pending_changes
from pco_core.store.deliveries import SubRecordTrace, Tombstone
from pco_core.webhooks.apply import WebhookApplier
from tests.unit.fakes import FakeClock, FakeRecords
from tests.unit.push.sandbox_pco import Pco

_runs = itertools.count(1)


@dataclass
class MemoryTrail:
    """The webhook trail in memory (tombstones and sub-record traces)."""

    tombs: dict[tuple[str, str], Tombstone] = field(default_factory=dict)
    traces: dict[tuple[str, str], SubRecordTrace] = field(default_factory=dict)

    def tombstone(self, kind: str, pco_id: str) -> Tombstone | None:
        return self.tombs.get((kind, pco_id))

    def bury(self, kind: str, pco_id: str, destroyed_at: datetime, record_id: str | None) -> None:
        self.tombs[(kind, pco_id)] = Tombstone(destroyed_at, record_id)

    def sub_record(self, type_: str, pco_id: str) -> SubRecordTrace | None:
        return self.traces.get((type_, pco_id))

    def trace_sub_record(self, type_: str, pco_id: str, trace: SubRecordTrace) -> None:
        self.traces[(type_, pco_id)] = trace


class Church:
    """One person synced both ways between the sandbox and in-memory local records."""

    def __init__(self, policy: ConflictPolicy = "review") -> None:
        self.pco = Pco(people=0)
        self.records = FakeRecords()
        self.clock = FakeClock()
        self.policy = policy
        self.trail = MemoryTrail()
        client = self.pco.client()
        answer = client.post(
            "/people/v2/people",
            {"data": {"type": "Person", "attributes": {"first_name": "Ada", "last_name": "Lovelace"}}},
        )
        self.pco_id = answer.resources()[0].id
        client.post(
            f"/people/v2/people/{self.pco_id}/emails",
            {"data": {"type": "Email", "attributes": {"address": "ada@example.org", "primary": True}}},
        )
        self.pull()

    # the two sides

    @property
    def local(self) -> Person:
        return self.records.person_by_pco(self.pco_id)

    def edit_local(self, **changes: Any) -> None:
        """An admin's edit through the record-write logic of the admin API (as PATCH /api/people/{id})."""
        body = {
            name: [item.model_dump(mode="json", exclude_none=True) for item in value]
            if name in ("emails", "phones", "addresses")
            else value
            for name, value in changes.items()
        }
        RecordEdits(self.records, self.clock).update_person(self.local.id, PersonPatch.model_validate(body))  # type: ignore[arg-type]

    def edit_pco(self, **attributes: Any) -> None:
        self.pco.client().patch(
            f"/people/v2/people/{self.pco_id}",
            {"data": {"type": "Person", "id": self.pco_id, "attributes": attributes}},
        )
        self.clock.advance(1)

    def edit_pco_email(self, address: str) -> None:
        email_id = self.pco_person()["emails"][0]["id"]
        self.pco.client().patch(
            f"/people/v2/people/{self.pco_id}/emails/{email_id}",
            {"data": {"type": "Email", "id": email_id, "attributes": {"address": address}}},
        )
        self.clock.advance(1)

    def pco_person(self) -> dict[str, Any]:
        doc = self.pco.get(f"/people/v2/people/{self.pco_id}", include="emails")
        emails = [{"id": i["id"], **i["attributes"]} for i in doc.get("included", []) if i["type"] == "Email"]
        return {**doc["data"]["attributes"], "emails": emails}

    # the three ways a change travels

    def context(self) -> DomainContext:
        return DomainContext(
            pco=self.pco.client(),
            records=self.records,
            run_id=f"R{next(_runs)}",
            clock=self.clock,
            policy=self.policy,
        )

    def pull(self) -> None:
        walk(PullPeople().run, self.context())

    def push(self) -> None:
        walk(PushPeople().run, self.context())

    def webhook(self) -> None:
        """PCO's person.updated for the person as PCO holds it now, as the worker applies it."""
        doc = self.pco.get(f"/people/v2/people/{self.pco_id}", include="emails,phone_numbers,addresses")
        payload = {
            "data": doc["data"],
            "included": doc.get("included", []),
            "meta": {"event_time": self.clock().isoformat()},
        }
        applier = WebhookApplier(self.records, self.trail, self.clock, policy=self.policy)
        applier.apply("people.v2.events.person.updated", json.dumps(payload), f"d{next(_runs)}")

    def open_conflicts(self) -> list[tuple[str, Any, Any]]:
        return sorted(
            (e.conflict.field, e.conflict.local, e.conflict.pco)
            for e in self.records.conflict_log.values()
            if e.status == "open"
        )


def walk(page: Callable[[DomainContext, Position | None], Any], context: DomainContext) -> None:
    position: Position | None = None
    for _ in range(20):
        result = page(context, position)
        position = result.next_position
        if position is None:
            return
    raise AssertionError("the domain never finished")


FIRST: dict[str, Callable[[Church], None]] = {
    "pull first": lambda c: (c.pull(), c.push()),
    "push first": lambda c: (c.push(), c.pull()),
    "webhook first": lambda c: (c.webhook(), c.push()),
}
ORDERS = list(FIRST)


def settle(church: Church, order: str) -> None:
    FIRST[order](church)
    church.pull()
    church.push()


# ---------------------------------------------------------------- a person attribute


@pytest.mark.parametrize("order", ORDERS)
def test_a_local_edit_reaches_pco(order: str) -> None:
    church = Church()
    church.edit_local(last_name="Byron")

    settle(church, order)

    assert church.local.last_name == church.pco_person()["last_name"] == "Byron"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_a_pco_edit_reaches_us(order: str) -> None:
    church = Church()
    church.edit_pco(last_name="King")

    settle(church, order)

    assert church.local.last_name == church.pco_person()["last_name"] == "King"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_edits_of_different_fields_on_both_sides_both_survive(order: str) -> None:
    # The bug this design fixes: a local last name and a PCO first name, each lost to the other side.
    church = Church()
    church.edit_local(last_name="Byron")
    church.edit_pco(first_name="Augusta")

    settle(church, order)

    pco = church.pco_person()
    assert (church.local.first_name, church.local.last_name) == ("Augusta", "Byron")
    assert (pco["first_name"], pco["last_name"]) == ("Augusta", "Byron")
    assert church.open_conflicts() == []
    assert not has_pending_changes(church.local)


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_edit_on_both_sides_converges(order: str) -> None:
    church = Church()
    church.edit_local(last_name="King")
    church.edit_pco(last_name="King")

    settle(church, order)

    assert church.local.last_name == church.pco_person()["last_name"] == "King"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_different_edits_of_one_field_are_a_conflict_that_keeps_ours_and_holds_it_back(order: str) -> None:
    church = Church()
    church.edit_local(last_name="Byron")
    church.edit_pco(last_name="King")

    settle(church, order)

    assert church.local.last_name == "Byron"  # ours, kept
    assert church.pco_person()["last_name"] == "King"  # held back from push: PCO's stays
    assert church.open_conflicts() == [("last_name", "Byron", "King")]
    assert not has_pending_changes(church.local)  # a held field does not make the record pending


@pytest.mark.parametrize(("policy", "expected"), [("pco_wins", "King"), ("local_wins", "Byron")])
@pytest.mark.parametrize("order", ORDERS)
def test_other_policies_decide_the_conflict_and_record_it_resolved(
    order: str, policy: ConflictPolicy, expected: str
) -> None:
    church = Church(policy)
    church.edit_local(last_name="Byron")
    church.edit_pco(last_name="King")

    settle(church, order)

    assert church.local.last_name == church.pco_person()["last_name"] == expected
    assert church.open_conflicts() == []
    resolved = [e for e in church.records.conflict_log.values() if e.status == "resolved"]
    assert [(e.conflict.field, e.resolution) for e in resolved] == [("last_name", policy)]


# ---------------------------------------------------------------- a contact item


def local_email(church: Church) -> str:
    (email,) = church.local.emails
    return email.address


@pytest.mark.parametrize("order", ORDERS)
def test_a_local_email_edit_patches_the_pco_email_in_place(order: str) -> None:
    church = Church()
    (email,) = church.local.emails
    church.edit_local(emails=[email.model_copy(update={"address": "countess@example.org"})])

    settle(church, order)

    assert [e["address"] for e in church.pco_person()["emails"]] == ["countess@example.org"]
    assert local_email(church) == "countess@example.org"
    assert church.local.emails[0].pco_id == email.pco_id  # the same PCO email, edited


@pytest.mark.parametrize("order", ORDERS)
def test_a_pco_email_edit_reaches_us(order: str) -> None:
    church = Church()
    church.edit_pco_email("king@example.org")

    settle(church, order)

    assert local_email(church) == "king@example.org"
    assert [e["address"] for e in church.pco_person()["emails"]] == ["king@example.org"]


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_email_edit_on_both_sides_converges(order: str) -> None:
    church = Church()
    (email,) = church.local.emails
    church.edit_local(emails=[email.model_copy(update={"address": "same@example.org"})])
    church.edit_pco_email("same@example.org")

    settle(church, order)

    assert local_email(church) == "same@example.org"
    assert [e["address"] for e in church.pco_person()["emails"]] == ["same@example.org"]
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_different_edits_of_one_email_are_a_conflict(order: str) -> None:
    church = Church()
    (email,) = church.local.emails
    church.edit_local(emails=[email.model_copy(update={"address": "ours@example.org"})])
    church.edit_pco_email("theirs@example.org")

    settle(church, order)

    assert local_email(church) == "ours@example.org"
    assert [e["address"] for e in church.pco_person()["emails"]] == ["theirs@example.org"]
    ((name, ours, theirs),) = church.open_conflicts()
    assert name == f"emails:{email.pco_id}"
    assert (ours["address"], theirs["address"]) == ("ours@example.org", "theirs@example.org")


@pytest.mark.parametrize("order", ORDERS)
def test_an_email_removed_locally_is_deleted_in_pco(order: str) -> None:
    church = Church()
    church.edit_local(emails=[])

    settle(church, order)

    assert church.local.emails == []
    assert church.pco_person()["emails"] == []


def test_a_pull_right_after_a_push_changes_nothing() -> None:
    church = Church()
    church.edit_local(last_name="Byron", emails=[])
    church.push()
    before = church.local

    context = church.context()
    page = PullPeople().run(context, None)

    assert church.local == before
    assert (page.counts.updated, page.counts.conflicts) == (0, 0)


def test_a_no_op_push_sends_nothing_to_pco() -> None:
    church = Church()
    church.pco.requests.clear()

    church.push()

    assert church.pco.requests == []


def test_an_open_conflict_closes_by_itself_when_the_two_sides_come_to_agree() -> None:
    church = Church()
    church.edit_local(last_name="Byron")
    church.edit_pco(last_name="King")
    church.pull()
    assert church.open_conflicts() == [("last_name", "Byron", "King")]

    church.edit_pco(last_name="Byron")  # someone in PCO makes it ours
    church.pull()

    assert church.open_conflicts() == []
    (closed,) = [e for e in church.records.conflict_log.values() if e.status == "resolved"]
    assert closed.resolution == "converged"
    assert church.local.sync.conflicts == ()
    assert not has_pending_changes(church.local)


# ---------------------------------------------------------------- records from before bases existed


def legacy(church: Church, **local_edits: Any) -> None:
    """The person as the hash-only design left it: no base; `pco_hash` of what was last exchanged."""
    from pco_core.merge.person import local_fields

    person = church.local
    exchanged = local_fields(person).content_hash()
    edited = person.model_copy(update=local_edits)
    sync = person.sync.model_copy(update={"base": None, "pco_hash": exchanged, "edited": ()})
    church.records.add(edited.model_copy(update={"sync": sync}))


def test_a_legacy_record_without_local_edits_takes_pcos_changes_and_gets_a_base() -> None:
    church = Church()
    legacy(church)
    church.edit_pco(first_name="Augusta")

    church.pull()

    assert church.local.first_name == "Augusta"
    assert church.local.sync.base is not None
    assert church.open_conflicts() == []


def test_a_legacy_record_with_a_pending_edit_loses_nothing_differences_become_conflicts() -> None:
    church = Church()
    legacy(church, last_name="Byron")  # edited here before the upgrade, never pushed
    church.edit_pco(first_name="Augusta")

    church.pull()

    # Which side changed what cannot be known without a base: both values are kept, as conflicts.
    local = church.local
    assert local.last_name == "Byron"
    assert local.sync.base is not None
    assert [name for name, _, _ in church.open_conflicts()] == ["first_name", "last_name"]
    church.push()
    assert church.pco_person()["last_name"] == "Lovelace"  # held back until an admin decides
