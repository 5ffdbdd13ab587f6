"""template.yaml's webhook path: route, queue + dead-letter queue, batch failures, least privilege."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import decode

from tests.unit.store.tables import TEMPLATE


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    loaded, problems = decode(str(TEMPLATE))
    assert problems == []
    assert loaded is not None
    return dict(loaded["Resources"])


def test_webhook_function_answers_post_webhooks_pco_on_the_webhook_api(resources: dict[str, Any]) -> None:
    events = resources["WebhookFunction"]["Properties"]["Events"]
    assert [e["Properties"] for e in events.values()] == [
        {"ApiId": {"Ref": "WebhookHttpApi"}, "Path": "/webhooks/pco", "Method": "POST"}
    ]
    assert [e["Type"] for e in events.values()] == ["HttpApi"]


def test_queue_is_encrypted_outlasts_the_worker_and_dead_letters_after_five(
    resources: dict[str, Any],
) -> None:
    queue = resources["WebhookQueue"]["Properties"]
    dlq = resources["WebhookDeadLetterQueue"]["Properties"]
    worker_timeout = resources["WebhookWorkerFunction"]["Properties"]["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_worker_consumes_the_queue_reporting_batch_item_failures(resources: dict[str, Any]) -> None:
    [event] = resources["WebhookWorkerFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_webhook_function_may_only_claim_delivery_ids_send_to_the_queue_and_read_the_secret(
    resources: dict[str, Any],
) -> None:
    policies = resources["WebhookFunction"]["Properties"]["Policies"]
    [statement] = policies[0]["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["SyncStateTable", "Arn"]}
    assert policies[1:] == [
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["WebhookQueue", "QueueName"]}}},
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "PcoCredentialsSecret"}}},
    ]
    worker = resources["WebhookWorkerFunction"]["Properties"]["Policies"]
    assert worker == [
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "RecordsTable"}}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "SyncStateTable"}}},
        # PCO's credentials, to confirm a merger's kept person with one GET before linking it
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "PcoCredentialsSecret"}}},
    ]
