"""DynamoDB TransactWriteItems on moto at the cost of the items it writes, not of the whole table.

moto (5.2) deep-copies every table a transaction touches before it starts, to roll back if one of its
writes is refused. The records table holds every person and lookup item, so each first-sync page (which
links up to 100 PCO ids in one transaction) copied all of it: seconds per page at a few thousand people,
and the bench's memory grew by hundreds of MB a page. This keeps moto's own transaction code and its
all-or-nothing outcome, but takes the copy of just the items the transaction writes and puts those back on
a cancellation.

`install()` is idempotent.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_lock = threading.Lock()
_installed = False


class _TablesAreNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend: its rollback copy of a whole table
    becomes the table itself (nothing to restore from it); any other copy is a real one."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _key_of(table: Table, operation: str, request: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    attrs = request["Item"] if operation == "Put" else request["Key"]
    hash_key = DynamoType(attrs[table.hash_key_attr])
    range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    """Put `item` back under its key (None: the key held nothing), as moto's Table stores items."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def _transact_with_item_rollback(original: Callable[..., None]) -> Callable[..., None]:
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            operation, request = next(iter(entry.items()))
            table = self.tables.get(request.get("TableName", ""))
            if table is None or operation == "ConditionCheck":
                continue
            try:
                hash_key, range_key = _key_of(table, operation, request)
            except KeyError:
                continue  # moto's own code refuses the malformed request
            current = table.get_item(hash_key, range_key)
            before.append((table, hash_key, range_key, copy.deepcopy(current)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(before):
                _restore(table, hash_key, range_key, item)
            raise

    return transact_write_items


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        dynamodb_models.copy = _TablesAreNotCopied  # type: ignore[assignment]
        DynamoDBBackend.transact_write_items = _transact_with_item_rollback(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items
        )
        _installed = True
