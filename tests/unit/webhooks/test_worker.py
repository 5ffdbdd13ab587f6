"""The worker Lambda: SQS batches applied through the real handler, partial failures reported per message."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.sandbox.clock import FakeClock
from local.sandbox.webhooks import WebhookHub
from pco_core.store.deliveries import DeliveryLog
from pco_core.store.queue import DeliveryQueue
from pco_core.store.records import RecordStore
from pco_core.webhooks.receive import QueuedDelivery, receive_delivery
from tests.unit.webhooks import events as ev
from tests.unit.webhooks.conftest import NOW, SECRET, http_event

ROOT = Path(__file__).resolve().parents[3]
CREATED = "people.v2.events.person.created"


@dataclass
class FakeContext:
    function_name: str = "WebhookWorkerFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:WebhookWorkerFunction"
    aws_request_id: str = "req-1"


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch, records_table: str, state_table: str) -> Iterator[ModuleType]:
    monkeypatch.setenv("RECORDS_TABLE", records_table)
    monkeypatch.setenv("STATE_TABLE", state_table)
    # Read only when a merger's kept person must be confirmed: none of these deliveries needs PCO.
    monkeypatch.setenv("PCO_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:pco-x")
    monkeypatch.setenv("PCO_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CONFLICT_POLICY", "review")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "pco-sync")
    spec = importlib.util.spec_from_file_location(
        "webhook_worker_app", ROOT / "functions/webhook_worker/app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module.deps.cache_clear()


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhook-deliveries",
        "awsRegion": "us-east-1",
    }


def message(delivery_id: str, pco_id: str, first: str) -> str:
    resource, included = ev.person(pco_id, first, "Turing", "2026-03-01T10:00:00Z")
    return QueuedDelivery(
        delivery_id=delivery_id, name=CREATED, payload=ev.payload(resource, included)
    ).model_dump_json()


def test_a_batch_with_one_bad_message_reports_exactly_that_one(
    worker: ModuleType, records: RecordStore, log: DeliveryLog
) -> None:
    event = {
        "Records": [
            sqs_record("m-1", message("d-1", "701", "Alan")),
            sqs_record("m-2", "{not a queued delivery"),
            sqs_record("m-3", message("d-3", "703", "Joan")),
        ]
    }
    answer = worker.handler(event, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    people = records.people_by_pco_ids(["701", "703"])
    assert {p.first_name for p in people.values()} == {"Alan", "Joan"}
    first = log.get("d-1")
    assert first is not None
    assert (first["status"], first["outcome"], first["name"]) == ("applied", "applied", CREATED)
    assert isinstance(first["expires_at"], int)
    # And the recent list (the admin page's last deliveries) has both applied ones
    recent = log.recent()
    assert {(r["delivery_id"], r["resource"], r["outcome"]) for r in recent} == {
        ("d-1", "Person 701", "applied"),
        ("d-3", "Person 703", "applied"),
    }


def test_a_message_delivered_twice_by_sqs_is_applied_once(
    worker: ModuleType, records: RecordStore, log: DeliveryLog
) -> None:
    body = message("d-9", "709", "Alan")
    worker.handler({"Records": [sqs_record("m-1", body)]}, FakeContext())
    person = records.people_by_pco_ids(["709"])["709"]
    # Given a local edit after the first application
    records.save_people([(person.model_copy(update={"first_name": "Edited"}), person)])
    # When SQS hands the same message again
    assert worker.handler({"Records": [sqs_record("m-2", body)]}, FakeContext()) == {"batchItemFailures": []}
    # Then nothing is re-applied
    assert records.people_by_pco_ids(["709"])["709"].first_name == "Edited"


def test_a_delivery_signed_by_the_sandbox_reaches_the_records(
    worker: ModuleType, records: RecordStore, log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    def deliver(url: str, body: bytes, headers: dict[str, str]) -> int:
        answer = receive_delivery(
            http_event(body, headers), webhook_secret=SECRET, claims=log, queue=queue, clock=lambda: NOW
        )
        return int(answer["statusCode"])

    hub = WebhookHub(FakeClock(), webhook_secret=SECRET, sender=deliver)
    hub.create_subscription(CREATED, "https://example.test/webhooks/pco")
    resource, included = ev.person(
        "801",
        "Katherine",
        "Johnson",
        "2026-03-01T10:00:00Z",
        emails=[ev.email("e81", "801", "kj@example.org")],
    )
    [delivery_id] = hub.publish(CREATED, resource, included)
    hub.deliver_due()
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [sqs_record(m["MessageId"], m["Body"]) for m in received]}
    assert worker.handler(event, FakeContext()) == {"batchItemFailures": []}
    person = records.people_by_pco_ids(["801"])["801"]
    assert (person.first_name, [e.address for e in person.emails]) == ("Katherine", ["kj@example.org"])
    logged = log.get(delivery_id)
    assert logged is not None
    assert logged["outcome"] == "applied"
    assert json.loads(received[0]["Body"])["delivery_id"] == delivery_id


def test_a_message_that_failed_is_applied_when_replayed_from_the_dead_letter_queue(
    records: RecordStore, log: DeliveryLog, trail: Any, dynamodb: Any
) -> None:
    from pco_core.webhooks.apply import WebhookApplier, apply_queued

    body = message("d-5", "705", "Mary")
    # Given the records table is unreachable when the message first arrives (a bug, an outage)
    broken = WebhookApplier(RecordStore("no-such-table", client=dynamodb), trail, lambda: NOW)
    with pytest.raises(ClientError, match="ResourceNotFound"):
        apply_queued(body, broken, log)
    assert log.get("d-5") is None
    # When the same message is replayed after the fix
    result = apply_queued(body, WebhookApplier(records, trail, lambda: NOW), log)
    # Then it is applied and logged
    assert result.outcome == "applied"
    assert records.people_by_pco_ids(["705"])["705"].first_name == "Mary"
    logged = log.get("d-5")
    assert logged is not None
    assert logged["outcome"] == "applied"


# 1,000 take about 18 s on moto (three AWS calls each); the full burst belongs to `make bench`.
BURST = 200


def test_a_burst_of_deliveries_is_absorbed(
    log: DeliveryLog, queue: DeliveryQueue, sqs: Any, queue_url: str
) -> None:
    from local.sandbox.webhooks import sign

    answers = []
    for n in range(BURST):
        body = json.dumps(
            {
                "data": [
                    {
                        "id": f"burst-{n}",
                        "type": "EventDelivery",
                        "attributes": {
                            "name": CREATED,
                            "attempt": 1,
                            "payload": ev.payload(ev.person(str(n), "A", "B", "2026-03-01T10:00:00Z")[0]),
                        },
                    }
                ]
            }
        ).encode()
        headers = {"X-PCO-Webhooks-Authenticity": sign(SECRET, body)}
        answers.append(
            receive_delivery(
                http_event(body, headers), webhook_secret=SECRET, claims=log, queue=queue, clock=lambda: NOW
            )
        )
    assert {a["statusCode"] for a in answers} == {200}
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == str(BURST)
