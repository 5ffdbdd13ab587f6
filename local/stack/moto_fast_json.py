"""DynamoDB's data-plane answers on moto written as JSON directly, not through moto's generic serializer.

moto (5.2) turns every answer into the wire format by walking the operation's output shape value by value:
about 5 ms of CPU per item returned here, which made BatchGetItem (a page's lookups of up to 100 records)
three quarters of the local stack's time and kept `make bench` far from PCO's rate-limit floor. DynamoDB's
items are already wire-format JSON in moto's results (`{"S": ...}`, `{"N": "1"}`, ...), so for the item
operations the answer is `json.dumps` of the result; botocore reads it by the same shape. Anything that is
not plain JSON (binary values, timestamps), and every other operation or service, still goes through
moto's serializer, and so do errors.

`install()` is idempotent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoResult

_ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)
CONTENT_TYPE = "application/x-amz-json-1.0"

_lock = threading.Lock()
_installed = False


def _fast(original: Callable[[ActionResult, Any], Any]) -> Callable[[ActionResult, Any], Any]:
    def execute_result(self: ActionResult, context: Any) -> Any:
        if (
            type(self) in (ActionResult, DynamoResult)
            and context.service_model.service_name == "dynamodb"
            and context.operation_model.name in _ITEM_OPERATIONS
        ):
            try:
                body = json.dumps(self.result, separators=(",", ":"))
            except (TypeError, ValueError):
                return original(self, context)
            return 200, {"Content-Type": CONTENT_TYPE}, body
        return original(self, context)

    return execute_result


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        ActionResult.execute_result = _fast(ActionResult.execute_result)  # type: ignore[method-assign]
        _installed = True
