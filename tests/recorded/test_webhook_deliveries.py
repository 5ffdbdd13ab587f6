"""A real email.created delivery (developers#1156's envelope around #1181's payload) through the webhook
receiver, and the sandbox's own delivery of the same event compared with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock
from pco_core.pco.models import PcoEmail
from pco_core.webhooks.receive import QueuedDelivery, parse_payload, receive_delivery
from tests.recorded.shapes import assert_same_shape
from tests.recorded.support import recording

SECRET = "recorded-webhook-secret"
NOW = datetime(2024, 4, 16, 6, 30, 20, tzinfo=UTC)


class Claims:
    def __init__(self) -> None:
        self.begun: list[tuple[str, str]] = []
        self.queued: list[str] = []

    def begin(self, delivery_id: str, name: str, received_at: datetime) -> bool:
        self.begun.append((delivery_id, name))
        return True

    def mark_queued(self, delivery_id: str) -> None:
        self.queued.append(delivery_id)

    def abandon(self, delivery_id: str) -> None:
        raise AssertionError("nothing should be abandoned")

    def finish(
        self, delivery_id: str, name: str, outcome: str, detail: str, at: datetime, *, resource: str = ""
    ) -> None:
        raise AssertionError(f"nothing should finish at the receiver: {outcome} {detail}")


class Queue:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send(self, body: str) -> None:
        self.bodies.append(body)


def recorded_delivery() -> bytes:
    """#1156's EventDelivery envelope carrying #1181's email.created data, with #1156's payload links."""
    envelope = recording("developers_1156_event_delivery.json")
    data = dict(recording("developers_1181_email_created.json")["payload_data"])
    person_id = data["relationships"]["person"]["data"]["id"]
    data["links"] = {
        "person": envelope["payload_links"]["person"].format(person_id=person_id),
        "self": f"https://api.planningcenteronline.com/people/v2/emails/{data['id']}",
    }
    delivery = json.loads(json.dumps(envelope["envelope"]))
    delivery["data"][0]["attributes"]["payload"] = json.dumps({"data": data})
    return json.dumps(delivery).encode()


def api_gateway_event(raw: bytes) -> dict[str, Any]:
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {
        "body": base64.b64encode(raw).decode(),
        "isBase64Encoded": True,
        "headers": {
            "x-pco-webhooks-name": "people.v2.events.email.created",
            "x-pco-webhooks-authenticity": signature,
        },
    }


def test_given_the_real_first_email_delivery_when_received_then_it_is_queued_and_reads_primary_false():
    claims, queue = Claims(), Queue()
    answer = receive_delivery(
        api_gateway_event(recorded_delivery()),
        webhook_secret=SECRET,
        claims=claims,
        queue=queue,
        clock=lambda: NOW,
    )
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"accepted": 1, "duplicates": 0}
    assert claims.begun == [("b0000000-0000-0000-0000-000000000008", "people.v2.events.email.created")]
    [body] = queue.bodies
    queued = QueuedDelivery.model_validate_json(body)
    document, resource = parse_payload(queued.text())
    email = PcoEmail.from_resource(resource, document)
    assert (email.id, email.address, email.location, email.blocked) == (
        "94315501",
        "testing123@example.org",
        "Home",
        False,
    )
    # developers#1181: the only email of a new person arrives as not primary.
    assert email.primary is False
    assert email.person_id == "146365670"
    assert email.updated_at == datetime(2024, 4, 16, 6, 30, 13, tzinfo=UTC)


def test_given_the_real_first_email_delivery_when_applied_then_the_persons_only_email_is_primary():
    from pco_core.records import Person
    from pco_core.webhooks.apply import WebhookApplier
    from tests.unit.fakes import FakeRecords
    from tests.unit.merge.test_two_way_person import MemoryTrail

    records = FakeRecords()
    records.add(Person(id="p1", pco_id="146365670", first_name="New", last_name="Person", updated_at=NOW))
    delivery = json.loads(recorded_delivery())["data"][0]
    applier = WebhookApplier(records, MemoryTrail(), lambda: NOW)

    applied = applier.apply(delivery["attributes"]["name"], delivery["attributes"]["payload"], delivery["id"])

    assert applied.outcome == "applied"
    [email] = records.people["p1"].emails
    # PCO stores its first email as primary whatever the event says (developers#1181).
    assert (email.address, email.primary, email.blocked, email.pco_id) == (
        "testing123@example.org",
        True,
        False,
        "94315501",
    )


def test_given_a_wrong_signature_then_the_real_delivery_is_refused_unqueued():
    queue = Queue()
    event = api_gateway_event(recorded_delivery())
    event["headers"]["x-pco-webhooks-authenticity"] = "0" * 64
    answer = receive_delivery(event, webhook_secret=SECRET, claims=Claims(), queue=queue, clock=lambda: NOW)
    assert answer["statusCode"] == 401
    assert queue.bodies == []


def test_the_sandbox_first_email_event_has_the_recorded_shape():
    sandbox = Sandbox.create(SandboxConfig(app_id="a", secret="s", people=3, seed=1), clock=FakeClock())
    events: list[tuple[str, dict[str, Any]]] = []
    sandbox.store.publish = lambda name, resource, included: events.append((name, resource))
    client = create_app(sandbox).test_client()
    person_id = client.post("/_sandbox/people", json={"first_name": "New"}).json["data"]["id"]
    client.post(f"/_sandbox/people/{person_id}/emails", json={"address": "new@example.org"})
    name, resource = events[-1]
    recorded = recording("developers_1181_email_created.json")
    assert name == recorded["event"]
    assert_same_shape(recorded["payload_data"], resource, compare_links=False)
    assert resource["attributes"]["primary"] is recorded["payload_data"]["attributes"]["primary"] is False
