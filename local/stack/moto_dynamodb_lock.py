"""moto's DynamoDB, one request at a time, as a real table's item reads and writes are atomic.

moto keeps each item as a live dict and builds an answer by walking it: a GetItem walking a run's item while
another thread's UpdateItem adds an attribute to it (a run's per-step counters) fails with "dictionary
changed size during iteration". The local stack runs pages, the API and the tests' pollers in threads, so
every DynamoDB request to moto is served under one lock. `install()` is idempotent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_serving = threading.RLock()
_installed = False


def _serialised(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    def call_action(self: DynamoHandler) -> Any:
        with _serving:
            return original(self)

    return call_action


def install() -> None:
    global _installed
    with _serving:
        if _installed:
            return
        DynamoHandler.call_action = _serialised(DynamoHandler.call_action)  # type: ignore[method-assign]
        _installed = True
