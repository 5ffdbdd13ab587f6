"""The webhook delivery queue (SQS): the receiver sends each new EventDelivery, the worker consumes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pco_core.errors import RetriableError

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
