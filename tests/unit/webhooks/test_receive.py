"""The webhook endpoint: signed deliveries are queued once; anything else writes nothing."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from local.sandbox.clock import FakeClock
from local.sandbox.webhooks import WebhookHub, sign
from pco_core.limits import WEBHOOK_BODY_MAX_BYTES
from pco_core.store.deliveries import DeliveryLog
from pco_core.store.queue import DeliveryQueue
from pco_core.webhooks.receive import QueuedDelivery, receive_delivery
from tests.unit.webhooks.conftest import NOW, SECRET, http_event, queued_messages, table_items

PERSON = {
    "type": "Person",
    "id": "101",
    "attributes": {"first_name": "Ada", "last_name": "Lovelace", "updated_at": "2026-03-01T11:00:00Z"},
    "relationships": {},
}
EVENT = "people.v2.events.person.updated"


class Receiver:
    """Plays API Gateway + the webhook Lambda for the sandbox's hub, keeping every answer."""

    def __init__(self, log: DeliveryLog, queue: DeliveryQueue, secret: str | None = SECRET) -> None:
        self.log, self.queue, self.secret = log, queue, secret
        self.answers: list[dict[str, Any]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        answer = receive_delivery(
            http_event(body, headers),
            webhook_secret=self.secret,
            claims=self.log,
            queue=self.queue,
            clock=lambda: NOW,
        )
        self.answers.append(answer)
        return int(answer["statusCode"])


def hub_for(receiver: Receiver, clock: FakeClock | None = None) -> WebhookHub:
    hub = WebhookHub(clock or FakeClock(), webhook_secret=SECRET, sender=receiver)
    hub.create_subscription(EVENT, "https://example.test/webhooks/pco")
    return hub


def signed_body(payload: dict[str, Any] | str, delivery_id: str = "d-1") -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    body = {
        "data": [
            {
                "id": delivery_id,
                "type": "EventDelivery",
                "attributes": {"name": EVENT, "attempt": 1, "payload": text},
            }
        ]
    }
    return json.dumps(body).encode()


def receive(
    log: DeliveryLog, queue: DeliveryQueue, body: bytes, headers: dict[str, str], **kw: Any
) -> dict[str, Any]:
    return receive_delivery(
        http_event(body, headers, base64_encoded=kw.pop("b64", False)),
        webhook_secret=kw.pop("secret", SECRET),
        claims=log,
        queue=queue,
        clock=lambda: NOW,
    )


def test_given_a_delivery_signed_by_the_hub_then_it_is_logged_and_queued(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    receiver = Receiver(log, queue)
    hub = hub_for(receiver)
    [delivery_id] = hub.publish(EVENT, PERSON)
    # When the hub delivers it
    assert hub.deliver_due() == 1
    # Then the answer is 200 with one accepted, and the hub is done with it
    assert receiver.answers[0]["statusCode"] == 200
    assert json.loads(receiver.answers[0]["body"]) == {"accepted": 1, "duplicates": 0}
    assert hub.pending == 0
    # And the queue holds the delivery's id, name and the payload string PCO sent
    [message] = queued_messages(sqs, queue_url)
    assert message["delivery_id"] == delivery_id
    assert message["name"] == EVENT
    assert json.loads(message["payload"])["data"] == PERSON
    # And the log marks it queued, expiring after about seven days
    item = log.get(delivery_id)
    assert item is not None
    assert item["status"] == "queued"
    assert item["name"] == EVENT
    assert item["expires_at"] == int(NOW.timestamp()) + 7 * 86_400


def test_given_a_base64_body_when_signed_over_the_raw_bytes_then_accepted(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    body = signed_body({"data": PERSON, "included": [], "meta": {}})
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)}, b64=True)
    assert answer["statusCode"] == 200
    assert len(queued_messages(sqs, queue_url)) == 1


def _flip_one_byte(body: bytes) -> bytes:
    index = body.index(b"Lovelace")
    return body[:index] + b"l" + body[index + 1 :]


@pytest.mark.parametrize(
    "headers_for",
    [
        pytest.param(lambda body: {}, id="missing"),
        pytest.param(lambda body: {"X-PCO-Webhooks-Authenticity": ""}, id="empty"),
        pytest.param(
            lambda body: {"X-PCO-Webhooks-Authenticity": sign("another-secret", body)}, id="other-secret"
        ),
        pytest.param(
            lambda body: {"X-PCO-Webhooks-Authenticity": sign(SECRET, _flip_one_byte(body))}, id="one-byte"
        ),
        pytest.param(
            lambda body: {"X-PCO-Webhooks-Authenticity": "zz" + sign(SECRET, body)[2:]}, id="not-hex"
        ),
    ],
)
def test_given_a_missing_or_wrong_signature_then_401_and_nothing_written(
    log: DeliveryLog,
    queue: DeliveryQueue,
    sqs: Any,
    queue_url: str,
    dynamodb: Any,
    state_table: str,
    headers_for: Any,
) -> None:
    body = signed_body({"data": PERSON, "included": [], "meta": {}})
    answer = receive(log, queue, body, headers_for(body))
    assert answer["statusCode"] == 401
    assert table_items(dynamodb, state_table) == []
    assert queued_messages(sqs, queue_url) == []


def test_given_a_body_altered_by_one_byte_after_signing_then_401(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str, dynamodb: Any, state_table: str
) -> None:
    body = signed_body({"data": PERSON, "included": [], "meta": {}})
    signature = sign(SECRET, body)
    answer = receive(log, queue, _flip_one_byte(body), {"X-PCO-Webhooks-Authenticity": signature})
    assert answer["statusCode"] == 401
    assert table_items(dynamodb, state_table) == []
    assert queued_messages(sqs, queue_url) == []


def test_given_no_webhook_secret_configured_then_even_a_signed_delivery_is_refused(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    body = signed_body({"data": PERSON, "included": [], "meta": {}})
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign("", body)}, secret=None)
    assert answer["statusCode"] == 401
    assert "not configured" in json.loads(answer["body"])["message"]
    assert queued_messages(sqs, queue_url) == []


@pytest.mark.parametrize("b64", [False, True], ids=["plain", "base64"])
def test_given_a_signed_body_over_the_size_limit_then_413_and_nothing_written(
    log: DeliveryLog,
    queue: DeliveryQueue,
    sqs: Any,
    queue_url: str,
    dynamodb: Any,
    state_table: str,
    b64: bool,
) -> None:
    # Given a correctly signed delivery one byte over the limit (a 300 KB-name person, many times over)
    name = "x" * WEBHOOK_BODY_MAX_BYTES
    body = signed_body({"data": {**PERSON, "attributes": {**PERSON["attributes"], "first_name": name}}})
    assert len(body) > WEBHOOK_BODY_MAX_BYTES
    # When it arrives
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)}, b64=b64)
    # Then it is refused as too large, with the limit in the message, and nothing is logged or queued
    assert answer["statusCode"] == 413
    assert str(WEBHOOK_BODY_MAX_BYTES) in json.loads(answer["body"])["message"]
    assert table_items(dynamodb, state_table) == []
    assert queued_messages(sqs, queue_url) == []


def test_given_a_signed_body_at_the_size_limit_then_it_is_accepted(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    small = signed_body({"data": PERSON, "included": [], "meta": {}})
    padding = WEBHOOK_BODY_MAX_BYTES - len(small)
    body = small.replace(b'"attempt": 1', b'"attempt": 1' + b" " * padding)
    assert len(body) == WEBHOOK_BODY_MAX_BYTES
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    assert answer["statusCode"] == 200
    assert len(queued_messages(sqs, queue_url)) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"{}", id="no-data"),
        pytest.param(b'{"data": []}', id="empty-data"),
        pytest.param(
            json.dumps(
                {"data": [{"id": "d", "type": "Person", "attributes": {"name": EVENT, "payload": "{}"}}]}
            ).encode(),
            id="wrong-type",
        ),
        pytest.param(
            json.dumps(
                {"data": [{"id": "d", "type": "EventDelivery", "attributes": {"name": EVENT}}]}
            ).encode(),
            id="no-payload",
        ),
        pytest.param(signed_body("{not json"), id="payload-not-json"),
        pytest.param(signed_body({"data": [PERSON]}), id="payload-data-a-list"),
        pytest.param(signed_body({"data": {"id": "1"}}), id="payload-resource-without-type"),
        pytest.param(signed_body("[]"), id="payload-not-an-object"),
    ],
)
def test_given_a_malformed_envelope_then_400_and_nothing_written(
    log: DeliveryLog,
    queue: DeliveryQueue,
    sqs: Any,
    queue_url: str,
    dynamodb: Any,
    state_table: str,
    body: bytes,
) -> None:
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    assert answer["statusCode"] == 400
    assert table_items(dynamodb, state_table) == []
    assert queued_messages(sqs, queue_url) == []


def test_given_the_same_delivery_twice_then_one_message(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    body = signed_body({"data": PERSON, "included": [], "meta": {}})
    headers = {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)}
    first = receive(log, queue, body, headers)
    second = receive(log, queue, body, headers)
    assert json.loads(first["body"]) == {"accepted": 1, "duplicates": 0}
    assert second["statusCode"] == 200
    assert json.loads(second["body"]) == {"accepted": 0, "duplicates": 1}
    assert len(queued_messages(sqs, queue_url)) == 1


def test_given_sqs_fails_then_5xx_and_pcos_retry_is_accepted(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    # Given a queue that does not take messages (its URL names no queue)
    broken = DeliveryQueue(queue_url + "-missing", client=sqs)
    receiver = Receiver(log, broken)
    clock = FakeClock()
    hub = hub_for(receiver, clock)
    [delivery_id] = hub.publish(EVENT, PERSON)
    # When the hub delivers, the answer is a 5xx (never 410), and nothing claims the delivery as seen
    hub.deliver_due()
    assert receiver.answers[0]["statusCode"] == 503
    assert log.get(delivery_id) is None
    assert queued_messages(sqs, queue_url) == []
    # When the queue is back and PCO retries 30 s later
    receiver.queue = queue
    clock.advance(30)
    assert hub.deliver_due() == 1
    # Then the retry is accepted and queued once
    assert json.loads(receiver.answers[1]["body"]) == {"accepted": 1, "duplicates": 0}
    assert [m["delivery_id"] for m in queued_messages(sqs, queue_url)] == [delivery_id]
    assert hub.pending == 0


def test_given_a_receiver_that_died_between_claim_and_send_then_the_retry_is_queued(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    # Given a claim left `receiving` by a crashed invocation
    assert log.begin("d-1", EVENT, NOW)
    body = signed_body({"data": PERSON, "included": [], "meta": {}}, delivery_id="d-1")
    # When PCO retries
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    # Then it is queued, not ignored as a duplicate
    assert json.loads(answer["body"]) == {"accepted": 1, "duplicates": 0}
    assert len(queued_messages(sqs, queue_url)) == 1
    item = log.get("d-1")
    assert item is not None
    assert item["status"] == "queued"


def _big_person(emails: int, note: str = "") -> dict[str, Any]:
    """A person.updated payload with many included emails (PCO sends what the person holds)."""
    included = [
        {
            "type": "Email",
            "id": str(n),
            "attributes": {"address": f"member{n}@example.org", "location": "Home", "primary": n == 0},
            "relationships": {"person": {"data": {"type": "Person", "id": "101"}}},
        }
        for n in range(emails)
    ]
    person = {**PERSON, "attributes": {**PERSON["attributes"], "note": note}}
    return {"data": person, "included": included, "meta": {}}


def test_given_a_payload_too_big_for_one_sqs_message_then_it_is_queued_compressed(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    payload = json.dumps(_big_person(3000))
    assert len(payload) > 400 * 1024  # SQS takes 256 KiB
    body = signed_body(payload)
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    assert json.loads(answer["body"]) == {"accepted": 1, "duplicates": 0}
    [message] = queued_messages(sqs, queue_url)
    assert message["payload"] == ""
    # The worker reads back exactly the string PCO sent
    assert QueuedDelivery.model_validate(message).text() == payload


def test_given_a_payload_too_big_even_compressed_then_200_and_it_is_logged_failed_not_retried(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    # Random text does not compress: a 503 would have PCO retry it for days, then disable the hook
    payload = json.dumps(_big_person(1, note=base64.b64encode(os.urandom(600 * 1024)).decode()))
    body = signed_body(payload)
    answer = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    assert answer["statusCode"] == 200
    assert queued_messages(sqs, queue_url) == []
    item = log.get("d-1")
    assert item is not None
    assert item["status"] == "failed"
    assert "too large" in str(item["detail"])
    # PCO's retry of it is a duplicate, answered 200
    again = receive(log, queue, body, {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)})
    assert json.loads(again["body"]) == {"accepted": 0, "duplicates": 1}


def test_a_queued_delivery_holds_exactly_one_payload() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        QueuedDelivery(delivery_id="d", name=EVENT)
    with pytest.raises(ValueError, match="exactly one"):
        QueuedDelivery(delivery_id="d", name=EVENT, payload="{}", payload_zlib="eJw=")
