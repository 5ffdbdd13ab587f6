from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from pco_core.store.deliveries import DeliveryLog, WebhookTrail
from pco_core.store.queue import DeliveryQueue
from pco_core.store.records import RecordStore
from tests.unit.store.tables import REGION

SECRET = "whsec-test-0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="webhook-deliveries")["QueueUrl"])


@pytest.fixture
def log(state_table: str, dynamodb: Any) -> DeliveryLog:
    return DeliveryLog(state_table, client=dynamodb)


@pytest.fixture
def trail(state_table: str, dynamodb: Any) -> WebhookTrail:
    return WebhookTrail(state_table, client=dynamodb)


@pytest.fixture
def queue(queue_url: str, sqs: Any) -> DeliveryQueue:
    return DeliveryQueue(queue_url, client=sqs)


@pytest.fixture
def records(records_table: str, dynamodb: Any) -> RecordStore:
    return RecordStore(records_table, client=dynamodb, sleep=lambda _: None)


def http_event(body: bytes, headers: dict[str, str], *, base64_encoded: bool = False) -> dict[str, Any]:
    """What API Gateway's HTTP API (payload v2) hands the Lambda: header names lowercased."""
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/pco",
        "rawPath": "/webhooks/pco",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/pco"}},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


def queued_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def table_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=table).get("Items", []))
