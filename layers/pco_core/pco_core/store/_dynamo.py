"""DynamoDB plumbing shared by the stores: item (de)serialisation and batch calls that finish their work."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from pco_core.errors import StoreConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        WriteRequestTypeDef,
    )

Item = dict[str, Any]
Key = tuple[str, str]
Sleep = Callable[[float], None]

BATCH_GET_SIZE = 100
BATCH_WRITE_SIZE = 25
# Unprocessed keys/items come back when a partition is throttled; AWS asks for a backed-off retry.
MAX_BATCH_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5}))


class DynamoTable:
    """One DynamoDB table; the client is made on first use (never at import), or injected by tests."""

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = dynamodb_client()
        return self._client


def _to_dynamo_value(value: Any) -> Any:
    """Plain JSON-able data -> what TypeSerializer takes (it refuses floats: they become exact Decimals)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo_value(v) for v in value]
    return value


def serialise(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {k: _serializer.serialize(_to_dynamo_value(v)) for k, v in item.items()}


def serialise_value(value: Any) -> AttributeValueTypeDef:
    return _serializer.serialize(_to_dynamo_value(value))


def deserialise(item: Mapping[str, Any]) -> Item:
    return {k: _from_dynamo_value(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def condition_failed(exc: ClientError) -> bool:
    """Whether a DynamoDB error is a conditional write that found the condition false."""
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))


def _chunks[T](items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_get(
    client: DynamoDBClient, table: str, keys: Iterable[Key], *, sleep: Sleep = time.sleep
) -> dict[Key, Item]:
    """Read many items by key (deduplicated), 100 per call, retrying what DynamoDB leaves unprocessed."""
    unique = list(dict.fromkeys(keys))
    found: dict[Key, Item] = {}
    for chunk in _chunks(unique, BATCH_GET_SIZE):
        request: dict[str, KeysAndAttributesTypeDef] = {
            table: {"Keys": [key(pk, sk) for pk, sk in chunk], "ConsistentRead": True}
        }
        for attempt in range(MAX_BATCH_ATTEMPTS):
            answer = client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(table, []):
                item = deserialise(raw)
                found[(item["pk"], item["sk"])] = item
            unprocessed = (answer.get("UnprocessedKeys") or {}).get(table)
            if not unprocessed or not unprocessed.get("Keys"):
                break
            request = {table: cast("KeysAndAttributesTypeDef", unprocessed)}
            sleep(_backoff(attempt))
        else:
            raise StoreConflict(f"DynamoDB left {len(request[table]['Keys'])} reads unprocessed; try again")
    return found


def batch_write(
    client: DynamoDBClient,
    table: str,
    puts: Sequence[Mapping[str, Any]] = (),
    deletes: Iterable[Key] = (),
    *,
    sleep: Sleep = time.sleep,
) -> None:
    """Put and delete many items, 25 per call, retrying what DynamoDB leaves unprocessed.

    A batch may not touch one key twice: a put wins over a delete of the same key, a later put over an
    earlier one.
    """
    requests: dict[Key, WriteRequestTypeDef] = {}
    for pk, sk in deletes:
        requests[(pk, sk)] = {"DeleteRequest": {"Key": key(pk, sk)}}
    for item in puts:
        requests.pop((item["pk"], item["sk"]), None)
        requests[(item["pk"], item["sk"])] = {"PutRequest": {"Item": serialise(item)}}
    for chunk in _chunks(list(requests.values()), BATCH_WRITE_SIZE):
        pending: list[WriteRequestTypeDef] = list(chunk)
        for attempt in range(MAX_BATCH_ATTEMPTS):
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = cast("list[WriteRequestTypeDef]", (answer.get("UnprocessedItems") or {}).get(table, []))
            if not pending:
                break
            sleep(_backoff(attempt))
        else:
            raise StoreConflict(f"DynamoDB left {len(pending)} writes unprocessed; try again")
