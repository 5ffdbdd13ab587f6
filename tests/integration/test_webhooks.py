"""Webhooks end to end: the sandbox's signed deliveries over HTTP to the API stand-in, the real webhook
Lambda, moto's SQS, the SQS event source running the real worker Lambda, and the records in DynamoDB.

The sandbox's hub delivers synchronously (`deliver_due()`), and the harness drains the queue in this
thread (`drain_queues`), so nothing here waits on a background thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

from local.sandbox.webhooks import DeliveryAttempt, sign
from local.stack.harness import LocalStack
from local.stack.pco_sandbox import PCO_WEBHOOK_EVENTS, RunningSandbox
from pco_core.records import Person
from pco_core.store.records import RecordStore
from pco_core.webhooks.apply import WebhookApplier
from tests.stack import ADMIN, APP_ID, SECRET, running_sandbox

pytestmark = pytest.mark.timeout(240)

PEOPLE = 40
SEED = 11
BURST = 1000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """This module's own sandbox (overrides the session's): webhook deliveries go to this module's stacks."""
    with running_sandbox(PEOPLE, SEED) as running:
        yield running


class Hooked:
    """The stack's API served on a real port, the sandbox subscribed to it, and a Full Sync done."""

    def __init__(self, stack: LocalStack, sandbox: RunningSandbox, url: str) -> None:
        self.stack = stack
        self.sandbox = sandbox
        self.url = url
        self.records = RecordStore(stack.env("RECORDS_TABLE"))
        self.http = httpx.Client(base_url=sandbox.url, timeout=10)

    @property
    def hub(self) -> Any:
        return self.sandbox.sandbox.hub

    def pco(self, method: str, path: str, **kwargs: Any) -> Any:
        """A change as church staff make it in PCO (the sandbox's /_sandbox endpoints)."""
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    def pco_get(self, path: str) -> Any:
        answer = self.http.get(path, auth=(APP_ID, SECRET))
        answer.raise_for_status()
        return answer.json()

    def deliver(self) -> list[DeliveryAttempt]:
        """Every due delivery POSTed now; the attempts made."""
        before = len(self.hub.deliveries)
        self.hub.deliver_due()
        return self.hub.deliveries[before:]

    def person(self, pco_id: str) -> Person:
        found = self.records.people_by_pco_ids([pco_id])
        assert pco_id in found, f"no local person for PCO person {pco_id}"
        return found[pco_id]

    def full_sync(self) -> None:
        status, run = self.stack.api("POST", "/api/runs", json={"type": "full_sync"}, role=ADMIN)
        assert status == 202, run
        final = self.stack.wait_for_run(run["id"], timeout=180)
        assert final["status"] == "COMPLETED", final


@pytest.fixture
def hooked(stack: LocalStack, sandbox: RunningSandbox) -> Iterator[Hooked]:
    server = make_server("127.0.0.1", 0, stack.assembled.api_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="it-webhooks-api", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/pco"
    try:
        sandbox.sandbox.hub.deliver_due()  # an earlier test's leftovers go to its deleted subscriptions
        assert sandbox.subscribe_webhooks(url) == len(PCO_WEBHOOK_EVENTS)
        hooked = Hooked(stack, sandbox, url)
        hooked.full_sync()
        assert hooked.stack.drain_queues(5) == []  # the pull itself sends nothing through the queue
        yield hooked
        hooked.http.close()
    finally:
        server.shutdown()
        thread.join(10)


def _people_with_email(h: Hooked, count: int, skip: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(PCO person id, one of their emails) for `count` people of the sandbox."""
    doc = h.pco_get("/people/v2/people?per_page=100&include=emails")
    emails = {e["id"]: e for e in doc.get("included", []) if e["type"] == "Email"}
    out = []
    for person in doc["data"]:
        rel = person["relationships"]["emails"]["data"]
        if rel and rel[0]["id"] in emails:
            out.append((person["id"], emails[rel[0]["id"]]))
    return out[skip : skip + count]


def test_an_edit_in_pco_reaches_the_local_record(hooked: Hooked) -> None:
    ((pco_id, email),) = _people_with_email(hooked, 1)
    local_id = hooked.person(pco_id).id
    hooked.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"first_name": "Renamed"})
    hooked.pco("PATCH", f"/_sandbox/emails/{email['id']}", json={"address": "renamed@example.org"})

    attempts = hooked.deliver()
    assert [a.name for a in attempts] == ["people.v2.events.person.updated", "people.v2.events.email.updated"]
    assert {a.status for a in attempts} == {200}
    outcomes = hooked.stack.drain_queues(30)
    assert sum(o.received for o in outcomes) == 2
    assert not any(o.failed for o in outcomes)

    person = hooked.person(pco_id)
    assert person.id == local_id
    assert person.first_name == "Renamed"
    assert "renamed@example.org" in [e.address for e in person.emails]
    assert hooked.stack.queue_messages("WebhookDeadLetterQueue") == 0


def test_a_household_member_removed_in_pco_leaves_the_local_family_by_webhook(hooked: Hooked) -> None:
    # Given a PCO household of at least two (PCO does not move its updated_at when members change: #1253)
    doc = hooked.pco_get("/people/v2/households?per_page=100&include=people")
    household = next(h for h in doc["data"] if len(h["relationships"]["people"]["data"]) >= 2)
    member_ids = [p["id"] for p in household["relationships"]["people"]["data"]]
    primary = household["relationships"]["primary_contact"]["data"]["id"]
    leaving = next(pid for pid in member_ids if pid != primary)
    family = hooked.records.families_by_pco_ids([household["id"]])[household["id"]]
    assert hooked.person(leaving).id in family.member_ids

    # When staff remove that member in PCO and the delivery arrives
    hooked.pco("DELETE", f"/_sandbox/households/{household['id']}/members/{leaving}")
    attempts = hooked.deliver()
    assert "people.v2.events.household.updated" in [a.name for a in attempts]
    assert not any(o.failed for o in hooked.stack.drain_queues(30))

    # Then the local family no longer holds them, and the others stay
    after = hooked.records.families_by_pco_ids([household["id"]])[household["id"]]
    assert hooked.person(leaving).id not in after.member_ids
    assert {hooked.person(pid).id for pid in member_ids if pid != leaving} == set(after.member_ids)


def test_an_email_changed_in_pco_replaces_the_old_address(hooked: Hooked) -> None:
    ((pco_id, email),) = _people_with_email(hooked, 1, skip=8)
    hooked.pco("PATCH", f"/_sandbox/emails/{email['id']}", json={"address": "changed@example.org"})
    assert {a.status for a in hooked.deliver()} == {200}
    hooked.stack.drain_queues(30)
    addresses = [e.address for e in hooked.person(pco_id).emails]
    assert "changed@example.org" in addresses
    assert email["attributes"]["address"] not in addresses


def test_an_email_destroyed_in_pco_is_removed_locally(hooked: Hooked) -> None:
    ((pco_id, email),) = _people_with_email(hooked, 1, skip=9)
    assert email["id"] in [e.pco_id for e in hooked.person(pco_id).emails], "the pull links PCO's ids"
    hooked.pco("DELETE", f"/_sandbox/emails/{email['id']}")
    attempts = hooked.deliver()
    assert [a.name for a in attempts] == ["people.v2.events.email.destroyed"]
    hooked.stack.drain_queues(30)
    assert email["id"] not in [e.pco_id for e in hooked.person(pco_id).emails]
    assert email["attributes"]["address"] not in [e.address for e in hooked.person(pco_id).emails]


def test_a_destroyed_person_becomes_inactive_and_unlinked(hooked: Hooked) -> None:
    ((pco_id, _),) = _people_with_email(hooked, 1, skip=1)
    before = hooked.person(pco_id)
    hooked.pco("DELETE", f"/_sandbox/people/{pco_id}")

    attempts = hooked.deliver()
    assert "people.v2.events.person.destroyed" in [a.name for a in attempts]
    assert {a.status for a in attempts} == {200}
    hooked.stack.drain_queues(30)

    after = hooked.records.get_person(before.id)
    assert after is not None, "a destroyed person is never deleted locally"
    assert after.status == "inactive"
    assert after.pco_id is None
    assert (after.first_name, after.last_name, after.emails) == (
        before.first_name,
        before.last_name,
        before.emails,
    )
    assert pco_id not in hooked.records.people_by_pco_ids([pco_id])


def test_a_merger_in_pco_moves_the_removed_persons_data_and_groups_and_a_pull_agrees(hooked: Hooked) -> None:
    groups = [g for g in hooked.records.list_groups(100, None)[0] if g.members]
    group = groups[0]
    in_group = {m.person_id for m in group.members}
    people = hooked.records.list_people(100, None)[0]
    remove = next(p for p in people if p.id in in_group and p.pco_id and p.emails)
    keep = next(p for p in people if p.id not in in_group and p.pco_id and p.status == "active")
    assert keep.pco_id is not None
    assert remove.pco_id is not None
    hooked.pco(
        "POST",
        "/_sandbox/person_mergers",
        json={"person_to_keep_id": keep.pco_id, "person_to_remove_id": remove.pco_id},
    )
    attempts = hooked.deliver()
    assert "people.v2.events.person_merger.created" in [a.name for a in attempts]
    assert {a.status for a in attempts} == {200}
    hooked.stack.drain_queues(30)

    kept = hooked.person(keep.pco_id)
    assert {e.address for e in remove.emails} <= {e.address for e in kept.emails}
    retired = hooked.records.get_person(remove.id)
    assert retired is not None
    assert (retired.status, retired.pco_id) == ("inactive", None)
    after_webhooks = hooked.records.get_group(group.id)
    assert after_webhooks is not None
    members = {m.person_id for m in after_webhooks.members}
    assert keep.id in members
    assert remove.id not in members

    # PCO moved the membership too: the next pull finds the group's members as the webhook left them
    hooked.full_sync()
    after_pull = hooked.records.get_group(group.id)
    assert after_pull is not None
    assert {m.person_id for m in after_pull.members} == members


def test_the_same_delivery_twice_is_applied_once(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    ((pco_id, _),) = _people_with_email(hooked, 1, skip=2)
    hooked.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"last_name": "Once"})
    (attempt,) = hooked.deliver()
    assert attempt.status == 200
    hooked.stack.drain_queues(30)
    assert hooked.person(pco_id).last_name == "Once"

    applied: list[str] = []
    real_apply = WebhookApplier.apply

    def counting(self: WebhookApplier, name: str, payload: str, delivery_id: str) -> Any:
        applied.append(delivery_id)
        return real_apply(self, name, payload, delivery_id)

    monkeypatch.setattr(WebhookApplier, "apply", counting)
    # PCO retries the very same EventDelivery (same id, body and signature), e.g. after a timeout.
    again = httpx.post(hooked.url, content=attempt.body, headers=attempt.headers, timeout=10)
    assert again.status_code == 200
    hooked.stack.drain_queues(30)
    assert applied == []
    assert hooked.person(pco_id).last_name == "Once"


def _captured(h: Hooked, change: Callable[[], None]) -> DeliveryAttempt:
    """The delivery a change makes, taken from the hub instead of being sent."""
    sent: list[DeliveryAttempt] = []
    real = h.hub.sender
    h.hub.sender = lambda url, body, headers: 200
    try:
        change()
        sent = h.deliver()
    finally:
        h.hub.sender = real
    assert len(sent) == 1
    return sent[0]


def test_a_wrong_signature_is_refused_and_nothing_is_written(hooked: Hooked) -> None:
    ((pco_id, _),) = _people_with_email(hooked, 1, skip=3)
    before = hooked.person(pco_id)
    attempt = _captured(
        hooked, lambda: hooked.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"first_name": "Forged"})
    )
    headers = {**attempt.headers, "X-PCO-Webhooks-Authenticity": sign("not-the-secret", attempt.body)}
    answer = httpx.post(hooked.url, content=attempt.body, headers=headers, timeout=10)
    assert answer.status_code == 401
    missing = {k: v for k, v in attempt.headers.items() if k != "X-PCO-Webhooks-Authenticity"}
    assert httpx.post(hooked.url, content=attempt.body, headers=missing, timeout=10).status_code == 401

    assert hooked.stack.queue_messages("WebhookQueue") == 0
    assert hooked.stack.drain_queues(5) == []
    assert hooked.person(pco_id) == before
    status, body = hooked.stack.api("GET", "/api/webhooks/deliveries", role=ADMIN)
    assert status == 200
    assert attempt.delivery_id not in [d["id"] for d in body["deliveries"]]

    # The genuine delivery is still taken afterwards (the refused one did not claim its id).
    assert (
        httpx.post(hooked.url, content=attempt.body, headers=attempt.headers, timeout=10).status_code == 200
    )
    hooked.stack.drain_queues(30)
    assert hooked.person(pco_id).first_name == "Forged"


def test_a_worker_crash_mid_batch_loses_nothing(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = _people_with_email(hooked, 3, skip=4)
    for n, (pco_id, _) in enumerate(targets):
        hooked.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"first_name": f"Crash{n}"})
    assert {a.status for a in hooked.deliver()} == {200}

    real_apply = WebhookApplier.apply
    calls: list[str] = []

    def crash_once(self: WebhookApplier, name: str, payload: str, delivery_id: str) -> Any:
        calls.append(delivery_id)
        if len(calls) == 2:
            raise RuntimeError("worker crashed mid-batch")
        return real_apply(self, name, payload, delivery_id)

    monkeypatch.setattr(WebhookApplier, "apply", crash_once)
    outcomes = hooked.stack.drain_queues(30)

    assert (outcomes[0].received, outcomes[0].failed, outcomes[0].deleted) == (3, 1, 2)
    assert sum(o.deleted for o in outcomes) == 3
    assert calls[1] in calls[3:], "the failed delivery was redelivered and applied"
    assert [hooked.person(pco_id).first_name for pco_id, _ in targets] == ["Crash0", "Crash1", "Crash2"]
    assert hooked.stack.queue_messages("WebhookQueue") == 0
    assert hooked.stack.queue_messages("WebhookDeadLetterQueue") == 0


def test_a_delivery_failing_for_good_waits_in_the_dead_letter_queue_until_replayed(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    ((pco_id, _),) = _people_with_email(hooked, 1, skip=7)
    hooked.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"first_name": "Poison"})

    def always(self: WebhookApplier, name: str, payload: str, delivery_id: str) -> Any:
        raise RuntimeError("a bug in the worker")

    monkeypatch.setattr(WebhookApplier, "apply", always)
    assert {a.status for a in hooked.deliver()} == {200}
    outcomes = hooked.stack.drain_queues(30)
    assert [o.failed for o in outcomes] == [1] * 5  # maxReceiveCount 5, then SQS's redrive
    assert hooked.stack.queue_messages("WebhookQueue") == 0
    assert hooked.stack.queue_messages("WebhookDeadLetterQueue") == 1
    assert hooked.person(pco_id).first_name != "Poison"
    status, listed = hooked.stack.api("GET", "/api/webhooks/deliveries", role=ADMIN)
    assert (status, listed["dead_letter_count"]) == (200, 1)

    # After the fix, the admin replays the dead letters and the delivery is applied
    monkeypatch.undo()
    status, replay = hooked.stack.api("POST", "/api/webhooks/replay", role=ADMIN)
    assert (status, replay) == (202, {"moving": 1})
    assert hooked.stack.queue_messages("WebhookDeadLetterQueue") == 0
    outcomes = hooked.stack.drain_queues(30)
    assert [(o.received, o.failed) for o in outcomes] == [(1, 0)]
    assert hooked.person(pco_id).first_name == "Poison"
    status, listed = hooked.stack.api("GET", "/api/webhooks/deliveries", role=ADMIN)
    assert listed["dead_letter_count"] == 0
    assert listed["deliveries"][0]["outcome"] == "applied"


def test_a_burst_of_a_thousand_deliveries_is_absorbed(hooked: Hooked) -> None:
    people = hooked.pco_get("/people/v2/people?per_page=100")["data"]
    for n in range(BURST):
        resource = people[n % len(people)]
        hooked.hub.publish("people.v2.events.person.updated", resource)
    with httpx.Client(timeout=10) as client:
        # The same POSTs over HTTP, on one kept-alive connection instead of a new client per POST.
        hooked.hub.sender = lambda url, body, headers: (
            client.post(url, content=body, headers=headers).status_code
        )
        attempts = hooked.deliver()

    # Absorbed: every delivery answered 200 and waits in the queue, none in the dead-letter queue.
    # (Applying a thousand is measured by bench/webhooks.py; the batches here show they apply.)
    assert len(attempts) == BURST
    assert {a.status for a in attempts} == {200}
    assert hooked.stack.queue_messages("WebhookQueue") == BURST
    assert hooked.stack.queue_messages("WebhookDeadLetterQueue") == 0
