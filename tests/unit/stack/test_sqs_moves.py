"""The local stack's SQS dead-letter redrive (moto lacks StartMessageMoveTask / ListMessageMoveTasks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.stack.sqs_moves import install


@pytest.fixture
def sqs() -> Iterator[Any]:
    install()
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queues(sqs: Any) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return source, dlq, dlq_arn


def _bodies(sqs: Any, url: str) -> list[str]:
    # Visibility 0: looking does not hide them from the next receive or move.
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return sorted(m["Body"] for m in got.get("Messages", []))


def test_a_move_without_destination_returns_dead_letters_to_their_source_queue(sqs: Any) -> None:
    source, dlq, dlq_arn = _queues(sqs)
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=dlq, MessageBody=body)

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]

    assert _bodies(sqs, dlq) == []
    assert _bodies(sqs, source) == ["a", "b"]
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)["Results"]
    assert (task["TaskHandle"], task["Status"], task["ApproximateNumberOfMessagesMoved"]) == (
        handle,
        "COMPLETED",
        2,
    )


def test_a_moved_message_arrives_as_new_so_it_gets_its_full_receive_count(sqs: Any) -> None:
    source, dlq, dlq_arn = _queues(sqs)
    sqs.send_message(QueueUrl=source, MessageBody="x")
    sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)
    assert _bodies(sqs, source) == []  # past maxReceiveCount 1: moto's redrive moved it
    assert _bodies(sqs, dlq) == ["x"]
    sqs.start_message_move_task(SourceArn=dlq_arn)
    got = sqs.receive_message(QueueUrl=source, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in got] == [("x", "1")]


def test_an_unknown_queue_is_refused(sqs: Any) -> None:
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:123456789012:nope")
