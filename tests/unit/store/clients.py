"""DynamoDB client stand-ins for tests: count calls, or leave batch work unprocessed as throttling does."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CountingClient:
    """Delegates to a real (moto) client and counts the operations called."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self._counting = threading.Lock()  # the store sends some calls from a few threads at once

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._counting:
                self.calls[name] += 1
            return operation(*args, **kwargs)

        return call

    def total(self) -> int:
        return sum(self.calls.values())


class ThrottledClient(CountingClient):
    """Serves only `served` keys/requests of each batch call and hands the rest back as unprocessed."""

    def __init__(self, client: Any, served: int) -> None:
        super().__init__(client)
        self.served = served
        self.largest_batch = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls["batch_get_item"] += 1
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.largest_batch = max(self.largest_batch, len(keys))
        assert len(keys) <= 100, "BatchGetItem takes at most 100 keys"
        answer = dict(
            self._client.batch_get_item(RequestItems={table: {**request, "Keys": keys[: self.served]}})
        )
        answer["UnprocessedKeys"] = (
            {table: {**request, "Keys": keys[self.served :]}} if keys[self.served :] else {}
        )
        return answer

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls["batch_write_item"] += 1
        ((table, requests),) = RequestItems.items()
        self.largest_batch = max(self.largest_batch, len(requests))
        assert len(requests) <= 25, "BatchWriteItem takes at most 25 requests"
        answer = dict(self._client.batch_write_item(RequestItems={table: requests[: self.served]}))
        answer["UnprocessedItems"] = {table: requests[self.served :]} if requests[self.served :] else {}
        return answer


class NeverServingClient(CountingClient):
    """A partition throttled for good: every batch call processes nothing."""

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls["batch_get_item"] += 1
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls["batch_write_item"] += 1
        return {"UnprocessedItems": RequestItems}


class AtomicRequestsClient:
    """Makes each call atomic, as every DynamoDB request is: moto's conditional checks are not
    thread-safe (two threads can both pass one), while requests from several threads still interleave."""

    _lock = threading.Lock()

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return operation(*args, **kwargs)

        return call
