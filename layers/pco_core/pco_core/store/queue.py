"""The webhook delivery queue (SQS): the receiver sends each new EventDelivery, the worker consumes them;
what the worker failed five times waits in the dead-letter queue until it is replayed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pco_core.errors import ReplayRunning, RetriableError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class DeliveryQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            # Few, fast retries: PCO is waiting for the answer and retries a 5xx itself.
            self._client = boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 2}))
        return self._client

    def send(self, body: str) -> None:
        """Queue one message; RetriableError when SQS does not take it."""
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except (ClientError, BotoCoreError) as exc:
            raise RetriableError(f"the delivery queue did not take the message: {exc}") from exc


@dataclass(frozen=True)
class MoveTask:
    """A dead-letter replay SQS reports for the queue (ListMessageMoveTasks)."""

    status: str
    moved: int
    to_move: int | None


class DeadLetterQueue:
    """The webhook dead-letter queue: how many deliveries wait in it, and their replay to the queue."""

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

    def _attributes(self) -> dict[str, str]:
        try:
            answer = self.client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages", "QueueArn"]
            )
        except (ClientError, BotoCoreError) as exc:
            raise RetriableError(f"the dead-letter queue could not be read: {exc}") from exc
        return {str(name): value for name, value in answer.get("Attributes", {}).items()}

    def waiting(self) -> int:
        """ApproximateNumberOfMessages: SQS's own estimate, good enough for a count on a page."""
        return int(self._attributes().get("ApproximateNumberOfMessages", "0"))

    def running_move(self, queue_arn: str) -> MoveTask | None:
        try:
            answer = self.client.list_message_move_tasks(SourceArn=queue_arn, MaxResults=1)
        except (ClientError, BotoCoreError) as exc:
            raise RetriableError(f"the dead-letter queue's replays could not be listed: {exc}") from exc
        for task in answer.get("Results", []):
            if task.get("Status") == "RUNNING":
                to_move = task.get("ApproximateNumberOfMessagesToMove")
                return MoveTask(
                    status="RUNNING",
                    moved=int(task.get("ApproximateNumberOfMessagesMoved", 0)),
                    to_move=int(to_move) if to_move is not None else None,
                )
        return None

    def replay(self) -> int:
        """Start moving every message back to the queue it came from; how many were waiting.

        ReplayRunning while a replay is still running (SQS runs one move task per queue at a time).
        """
        attributes = self._attributes()
        queue_arn = attributes["QueueArn"]
        if self.running_move(queue_arn) is not None:
            raise ReplayRunning
        try:
            # No DestinationArn: SQS sends each message back to its source queue (the webhook queue).
            self.client.start_message_move_task(SourceArn=queue_arn)
        except (ClientError, BotoCoreError) as exc:
            # Two replays started at once: the loser finds the winner's task running.
            if self.running_move(queue_arn) is not None:
                raise ReplayRunning from exc
            raise RetriableError(f"the dead-letter replay could not be started: {exc}") from exc
        return int(attributes.get("ApproximateNumberOfMessages", "0"))
