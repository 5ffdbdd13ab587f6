"""Webhook benchmark: the webhook endpoint's answer time for deliveries the sandbox signs and sends, and
how many deliveries per second the worker applies from the queue in batches of 10.

Both handlers are the deployed ones (functions/webhook, functions/webhook_worker), run in this process on
moto with the tables and queues created from template.yaml. The figures are this machine's CPU time for
our code plus moto's in-process AWS: real DynamoDB/SQS round trips add their latency on top.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from moto import mock_aws

from bench.pull import OUT
from local.sandbox.clock import SystemClock
from local.sandbox.webhooks import WebhookHub
from local.stack.resources import create_resources

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 (a local sandbox credential)
EVENT = "people.v2.events.person.created"
BATCH = 10


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id: str = "bench"


def load_handler(folder: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{folder}", ROOT / "functions" / folder / "app.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"functions/{folder}/app.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """What API Gateway's HTTP API (payload v2) hands the webhook Lambda."""
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/pco",
        "rawPath": "/webhooks/pco",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/pco"}, "requestId": "bench"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def person(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    pco_id = str(500_000 + n)
    email = {
        "type": "Email",
        "id": str(900_000 + n),
        "attributes": {
            "address": f"member{n}@example.org",
            "location": "Home",
            "primary": True,
            "updated_at": "2026-11-24T14:00:00Z",
        },
        "relationships": {"person": {"data": {"type": "Person", "id": pco_id}}},
    }
    resource = {
        "type": "Person",
        "id": pco_id,
        "attributes": {
            "first_name": f"Member{n}",
            "last_name": "Okafor",
            "gender": "Female" if n % 2 else "Male",
            "birthdate": "1980-05-17",
            "status": "active",
            "updated_at": "2026-11-24T14:00:00Z",
        },
        "relationships": {"emails": {"data": [{"type": "Email", "id": email["id"]}]}},
    }
    return resource, [email]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run(deliveries: int) -> dict[str, Any]:
    resources = create_resources(
        ROOT / "template.yaml",
        boto_session_or_endpoint=None,
        params={"PcoAppId": "bench-app", "PcoSecret": "bench", "PcoWebhookSecret": WEBHOOK_SECRET},
    )
    for name in ("WebhookFunction", "WebhookWorkerFunction"):
        os.environ.update(resources.function_env(name))
    os.environ["LOG_LEVEL"] = os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    webhook, worker = load_handler("webhook"), load_handler("webhook_worker")
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = resources.queues["WebhookQueue"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    answer_ms: list[float] = []
    statuses: dict[int, int] = {}

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        event = http_event(body, headers)
        started = time.perf_counter()
        answer = webhook.handler(event, LambdaContext("WebhookFunction"))
        answer_ms.append((time.perf_counter() - started) * 1000)
        status = int(answer["statusCode"])
        statuses[status] = statuses.get(status, 0) + 1
        return status

    hub = WebhookHub(SystemClock(), webhook_secret=WEBHOOK_SECRET, sender=send)
    hub.create_subscription(EVENT, "https://webhooks.local/webhooks/pco")
    for n in range(deliveries):
        resource, included = person(n)
        hub.publish(EVENT, resource, included)
    hub.deliver_due()

    applied = failed = 0
    worker_seconds = 0.0
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH, VisibilityTimeout=60)
        messages = got.get("Messages", [])
        if not messages:
            break
        started = time.perf_counter()
        result = worker.handler(sqs_event(messages, queue_arn), LambdaContext("WebhookWorkerFunction"))
        worker_seconds += time.perf_counter() - started
        failures = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        failed += len(failures)
        applied += len(messages) - len(failures)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)
                if m["MessageId"] not in failures
            ],
        )

    people = resources.tables["RecordsTable"]
    stored = boto3.client("dynamodb", region_name=REGION).query(
        TableName=people,
        IndexName="kind-index",
        KeyConditionExpression="kind = :kind",
        ExpressionAttributeValues={":kind": {"S": "person"}},
        Select="COUNT",
    )["Count"]
    return {
        "deliveries": deliveries,
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "answer_ms_median": round(statistics.median(answer_ms), 2),
        "answer_ms_p99": round(percentile(answer_ms, 99), 2),
        "answer_ms_max": round(max(answer_ms), 2),
        "applied": applied,
        "failed": failed,
        "batch_size": BATCH,
        "worker_seconds": round(worker_seconds, 2),
        "applied_per_second": round(applied / worker_seconds, 1) if worker_seconds else None,
        "people_created": stored,
    }


def main(deliveries: int = 1000) -> dict[str, Any]:
    logging.getLogger("botocore").setLevel(logging.WARNING)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "pco-sync-bench",
    }.items():
        os.environ.setdefault(name, value)
    with mock_aws():
        figures = run(deliveries)
    rows = [
        ("Deliveries sent (signed by the sandbox)", f"{figures['deliveries']:,}"),
        ("Endpoint answers", ", ".join(f"{k}: {v:,}" for k, v in figures["answers"].items())),
        ("Answer time, median", f"{figures['answer_ms_median']} ms"),
        ("Answer time, p99", f"{figures['answer_ms_p99']} ms"),
        ("Applied by the worker (batches of 10)", f"{figures['applied']:,} ({figures['failed']} failed)"),
        ("Deliveries applied per second", f"{figures['applied_per_second']}"),
        ("People created from the deliveries", f"{figures['people_created']:,}"),
    ]
    width = max(len(label) for label, _ in rows)
    print("\nWebhooks (moto, in-process handlers)")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "webhooks.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main(int(os.environ.get("BENCH_WEBHOOKS", "1000")))
