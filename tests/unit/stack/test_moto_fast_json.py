"""The local stack's DynamoDB answers on moto: written as JSON directly, read back by botocore exactly as
moto's own serializer's answers are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult

import local.stack.moto_fast_json as fast_json

TABLE = "records"
ITEM = {
    "pk": {"S": "PERSON#1"},
    "sk": {"S": "RECORD"},
    "kind": {"S": "person"},
    "id": {"S": "1"},
    "n": {"N": "12.50"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "emails": {"L": [{"M": {"address": {"S": "a@x.org"}, "primary": {"BOOL": True}}}]},
    "tags": {"SS": ["a", "b"]},
    "blob": {"B": b"\x00\x01"},
}


def _answers() -> list[Any]:
    """Every item operation the stores use, on one table, and what boto3 read from each answer."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "kind", "id")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "kind-index",
                    "KeySchema": [
                        {"AttributeName": "kind", "KeyType": "HASH"},
                        {"AttributeName": "id", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
        plain = {k: v for k, v in ITEM.items() if k != "blob"} | {"pk": {"S": "PERSON#2"}, "id": {"S": "2"}}
        answers = [
            client.put_item(TableName=TABLE, Item=ITEM, ReturnValues="ALL_OLD"),
            client.put_item(TableName=TABLE, Item=plain),
            client.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
            client.batch_get_item(
                RequestItems={TABLE: {"Keys": [key, {"pk": {"S": "x"}, "sk": {"S": "y"}}]}}
            ),
            client.query(
                TableName=TABLE,
                IndexName="kind-index",
                KeyConditionExpression="kind = :k",
                ExpressionAttributeValues={":k": {"S": "person"}},
                Limit=1,
            ),
            client.query(
                TableName=TABLE,
                IndexName="kind-index",
                KeyConditionExpression="kind = :k AND id = :two",
                ExpressionAttributeValues={":k": {"S": "person"}, ":two": {"S": "2"}},
            ),
            client.update_item(
                TableName=TABLE,
                Key=key,
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
            client.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": key}}]}),
        ]
        for answer in answers:
            answer.pop("ResponseMetadata", None)
        return answers


def test_the_item_answers_read_back_the_same_with_and_without_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original: Callable[..., Any] = ActionResult.execute_result
    monkeypatch.setattr(fast_json, "_installed", False)
    slow = _answers()
    written: list[str] = []
    real_dumps = fast_json.json.dumps

    def counted_dumps(value: Any, **kwargs: Any) -> str:
        body = real_dumps(value, **kwargs)
        written.append(body)
        return body

    monkeypatch.setattr(fast_json.json, "dumps", counted_dumps)
    fast_json.install()
    try:
        fast = _answers()
    finally:
        monkeypatch.setattr(ActionResult, "execute_result", original)
    # Then boto3 read the same from every answer, and the fast path wrote those without binary values
    assert fast == slow
    assert fast[2]["Item"]["blob"] == {"B": b"\x00\x01"}  # binary still reaches boto3 as bytes
    assert fast[4]["LastEvaluatedKey"]["kind"] == {"S": "person"}
    assert fast[5]["Items"][0]["emails"] == ITEM["emails"]
    assert any('"a@x.org"' in body for body in written)  # an item without binary went the fast way
