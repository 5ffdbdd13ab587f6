"""SQS event sources, as Lambda runs them: poll the queue, invoke the real handler with Lambda's SQS event.

For every function with an `SQS` event in the template, an `SqsPoller` receives up to BatchSize messages,
invokes the handler with the exact event Lambda sends (Records[] with messageId, receiptHandle, body,
attributes, messageAttributes, md5OfBody, eventSource, eventSourceARN, awsRegion) and then:
- handler returned normally, without ReportBatchItemFailures: every message is deleted;
- with ReportBatchItemFailures: every message is deleted except those in `batchItemFailures`; an answer
  Lambda cannot read (an itemIdentifier not in the batch, not a list...) fails the whole batch, as Lambda;
- handler raised: nothing is deleted.
Messages not deleted come back after the visibility timeout; locally that wait is shortened to
`retry_visibility_seconds` (0 in the harness's drain_queues). The redrive to the dead-letter queue
(RedrivePolicy maxReceiveCount) is SQS's own: moto moves a message on the receive past the limit.

Two ways to run it: `start()` (a bounded background thread per source, long polling, for `make run`) or
`poll_once()` from the caller's thread (the harness's deterministic `drain_queues`).
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.stack.lambdas import Handler, invoke_handler
from local.stack.resources import LocalResources
from local.stack.template import Template

log = logging.getLogger("local.stack.sqs")

DEFAULT_BATCH_SIZE = 10
MAX_WAIT_SECONDS = 20  # SQS's longest long poll
LOCAL_RETRY_VISIBILITY_SECONDS = 5


@dataclass(frozen=True)
class SqsEventSource:
    """One SQS event of one function, resolved against the created resources."""

    function_logical_id: str
    function_name: str
    handler: Handler
    queue_url: str
    queue_arn: str
    region: str
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window_seconds: int = 0
    report_batch_item_failures: bool = False
    enabled: bool = True
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256


@dataclass(frozen=True)
class BatchOutcome:
    """What one poll did: messages received, deleted, and left for a retry (failed)."""

    received: int
    deleted: int
    failed: int
    handler_error: str | None = None


def sqs_events_of(template: Template) -> list[tuple[str, dict[str, Any]]]:
    """(function logical id, resolved Properties) of every SQS event of every SAM function."""
    out = []
    for lid, res in template.resources_of("AWS::Serverless::Function"):
        for event in ((res.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "SQS":
                out.append((lid, dict(template.resolve(event.get("Properties") or {}))))
    return out


def event_sources(resources: LocalResources, handlers: Mapping[str, Handler]) -> list[SqsEventSource]:
    """The template's SQS event sources bound to the created queues and the loaded handlers."""
    template = resources.template
    url_by_arn = {template.physical[lid].attrs["Arn"]: url for lid, url in resources.queues.items()}
    sources = []
    for lid, props in sqs_events_of(template):
        arn = str(props.get("Queue", ""))
        if arn not in url_by_arn:
            raise ValueError(f"{lid}: its SQS event's queue {arn!r} is not a queue of this stack")
        fn = resources.functions[lid]
        sources.append(
            SqsEventSource(
                function_logical_id=lid,
                function_name=fn.name,
                handler=handlers[fn.name],
                queue_url=url_by_arn[arn],
                queue_arn=arn,
                region=template.context.region,
                batch_size=int(props.get("BatchSize", DEFAULT_BATCH_SIZE)),
                batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in list(props.get("FunctionResponseTypes") or []),
                enabled=str(props.get("Enabled", True)).lower() != "false",
                timeout_seconds=float(fn.timeout),
                memory_limit_in_mb=fn.memory_size,
            )
        )
    return sources


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


def lambda_event(messages: list[dict[str, Any]], source: SqsEventSource) -> dict[str, Any]:
    """The event Lambda's SQS poller gives the function for these received messages."""
    records = []
    for message in messages:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {k: str(v) for k, v in (message.get("Attributes") or {}).items()},
            "messageAttributes": {
                name: _message_attribute(value)
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": source.queue_arn,
            "awsRegion": source.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def failed_ids(result: Any, message_ids: set[str]) -> set[str] | None:
    """The messageIds the function reported failed; None when the answer fails the whole batch."""
    if result is None:
        return set()
    if not isinstance(result, Mapping):
        return set()  # Lambda ignores a response that is not a batch response: success
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(ident, str) or ident not in message_ids:
            return None  # empty/unknown identifier: Lambda fails the whole batch
        out.add(ident)
    return out


class SqsPoller:
    """Lambda's event-source mapping for one source: receive, invoke, delete what succeeded."""

    def __init__(
        self,
        source: SqsEventSource,
        client_factory: Callable[[], Any],
        *,
        retry_visibility_seconds: int | None = LOCAL_RETRY_VISIBILITY_SECONDS,
    ) -> None:
        self.source = source
        self._client_factory = client_factory
        self._client: Any = None
        self.retry_visibility_seconds = retry_visibility_seconds
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.errors: list[str] = []

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def poll_once(self, wait_seconds: int = 0) -> BatchOutcome:
        """One receive (long polling up to `wait_seconds`) and, when it got messages, one invocation."""
        source = self.source
        answer = self.client.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=max(1, min(source.batch_size, 10)),
            WaitTimeSeconds=max(0, min(wait_seconds, MAX_WAIT_SECONDS)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = list(answer.get("Messages") or [])
        if not messages:
            return BatchOutcome(0, 0, 0)
        result, errored = invoke_handler(
            source.handler,
            source.function_name,
            lambda_event(messages, source),
            timeout_seconds=source.timeout_seconds,
            memory_limit_in_mb=source.memory_limit_in_mb,
        )
        by_id = {m["MessageId"]: m for m in messages}
        error: str | None = None
        if errored:
            failed: set[str] = set(by_id)
            error = f"{result.get('errorType')}: {result.get('errorMessage')}"
        elif source.report_batch_item_failures:
            reported = failed_ids(result, set(by_id))
            failed = set(by_id) if reported is None else reported
            if reported is None:
                error = f"unreadable batch response: {result!r}"
        else:
            failed = set()
        done = [m for mid, m in by_id.items() if mid not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.client.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        if failed and self.retry_visibility_seconds is not None:
            retry = [by_id[mid] for mid in failed]
            for start in range(0, len(retry), 10):
                chunk = retry[start : start + 10]
                self.client.change_message_visibility_batch(
                    QueueUrl=source.queue_url,
                    Entries=[
                        {
                            "Id": str(i),
                            "ReceiptHandle": m["ReceiptHandle"],
                            "VisibilityTimeout": self.retry_visibility_seconds,
                        }
                        for i, m in enumerate(chunk)
                    ],
                )
        if error is not None:
            self.errors.append(error)
            log.warning("%s: batch of %d failed: %s", source.function_logical_id, len(messages), error)
        return BatchOutcome(len(messages), len(done), len(failed), error)

    # ------------------------------------------------------------------ background thread (make run)
    def start(self) -> None:
        if self._thread is not None or not self.source.enabled:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"sqs-{self.source.function_logical_id}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        wait = max(1, min(self.source.batching_window_seconds or 1, MAX_WAIT_SECONDS))
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=wait)
            except Exception:
                log.exception("%s: polling %s failed", self.source.function_logical_id, self.source.queue_url)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 30.0) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None
