"""The SQS event-source emulation: Lambda's event shape, partial batch failures, redrive, the thread."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import boto3
import pytest

from local.sandbox.people import EVENT_NAMES
from local.stack.pco_sandbox import PCO_WEBHOOK_EVENTS
from local.stack.sqs_events import SqsEventSource, SqsPoller, failed_ids, sqs_events_of
from local.stack.template import Template
from tests.unit.stack.conftest import PARAMS, REAL_TEMPLATE

REGION = "us-east-1"


class Recorder:
    """A handler that records its events and answers what the test says."""

    def __init__(self, answer: Any = None, *, raises: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer
        self.raises = raises

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        assert context.function_name == "worker"
        if self.raises:
            raise RuntimeError("crash")
        return self.answer(event) if callable(self.answer) else self.answer


def _queues(sqs: Any, max_receive: int = 3) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": "360",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def _count(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _poller(handler: Recorder, url: str, arn: str, *, report: bool = True, batch: int = 10) -> SqsPoller:
    source = SqsEventSource(
        function_logical_id="Worker",
        function_name="worker",
        handler=handler,
        queue_url=url,
        queue_arn=arn,
        region=REGION,
        batch_size=batch,
        report_batch_item_failures=report,
    )
    return SqsPoller(source, lambda: boto3.client("sqs", region_name=REGION), retry_visibility_seconds=0)


def test_the_event_has_lambdas_sqs_shape(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, _ = _queues(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"n": 1}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "person"}},
    )
    handler = Recorder()
    outcome = _poller(handler, url, arn).poll_once()

    assert (outcome.received, outcome.deleted, outcome.failed) == (1, 1, 0)
    (record,) = handler.events[0]["Records"]
    assert record["body"] == '{"n": 1}'
    assert record["md5OfBody"] == hashlib.md5(b'{"n": 1}').hexdigest()  # noqa: S324 - SQS's checksum
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == REGION
    assert record["messageId"]
    assert record["receiptHandle"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "person"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert _count(sqs, url) == 0


def test_only_the_reported_failures_come_back_then_go_to_the_dead_letter_queue(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, dlq = _queues(sqs, max_receive=3)
    for n in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")

    def fail_m2(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "m2"
            ]
        }

    handler = Recorder(fail_m2)
    poller = _poller(handler, url, arn)
    first = poller.poll_once()
    assert (first.received, first.deleted, first.failed) == (4, 3, 1)
    second = poller.poll_once()  # visible again at once: the local visibility timeout is 0
    assert (second.received, second.failed) == (1, 1)
    assert handler.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert poller.poll_once().failed == 1
    assert poller.poll_once().received == 0  # the 4th receive: SQS moved it to the DLQ instead
    assert _count(sqs, url) == 0
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "m2"


@pytest.mark.parametrize(
    "answer",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        {"batchItemFailures": "nonsense"},
    ],
)
def test_an_unreadable_batch_response_fails_the_whole_batch(aws: None, answer: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, _ = _queues(sqs)
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    outcome = _poller(Recorder(answer), url, arn).poll_once()
    assert (outcome.received, outcome.deleted, outcome.failed) == (2, 0, 2)
    assert outcome.handler_error is not None
    assert _count(sqs, url) == 2


def test_a_raising_handler_deletes_nothing_and_without_reporting_success_deletes_all(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, _ = _queues(sqs)
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    crashed = _poller(Recorder(raises=True), url, arn).poll_once()
    assert (crashed.deleted, crashed.failed) == (0, 3)
    assert "RuntimeError: crash" in (crashed.handler_error or "")
    # Without ReportBatchItemFailures, a batchItemFailures answer means nothing: the batch succeeded.
    ignored = _poller(Recorder({"batchItemFailures": [{"itemIdentifier": "x"}]}), url, arn, report=False)
    assert ignored.poll_once().deleted == 3
    assert _count(sqs, url) == 0


def test_batches_are_bounded_by_the_batch_size(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, _ = _queues(sqs)
    for n in range(7):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    poller = _poller(Recorder(), url, arn, batch=3)
    assert [poller.poll_once().received for _ in range(4)] == [3, 3, 1, 0]


def test_the_background_thread_consumes_and_stops(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn, _ = _queues(sqs)
    seen = threading.Event()

    def note(event: dict[str, Any]) -> None:
        seen.set()

    poller = _poller(Recorder(note), url, arn)
    poller.start()
    try:
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        assert seen.wait(10)
    finally:
        poller.stop(timeout=10)
    assert poller._thread is None
    assert _count(sqs, url) == 0


def test_failed_ids() -> None:
    ids = {"a", "b"}
    assert failed_ids(None, ids) == set()
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": None}]}, ids) is None
    assert failed_ids("ok", ids) == set()


def test_the_real_template_declares_the_webhook_worker_source() -> None:
    template = Template.load(REAL_TEMPLATE, parameters=PARAMS)
    events = dict(sqs_events_of(template))
    props = events["WebhookWorkerFunction"]
    assert props["Queue"] == template.physical["WebhookQueue"].attrs["Arn"]
    assert props["BatchSize"] == 10
    assert "ReportBatchItemFailures" in props["FunctionResponseTypes"]


def test_make_run_subscribes_to_every_event_the_sandbox_sends() -> None:
    sent = {
        f"{prefix}.{action}"
        for prefix in EVENT_NAMES.values()
        for action in ("created", "updated", "destroyed")
        if not prefix.endswith("person_merger") or action == "created"
    }
    assert set(PCO_WEBHOOK_EVENTS) == sent
    assert len(PCO_WEBHOOK_EVENTS) == len(set(PCO_WEBHOOK_EVENTS))
