"""The local stack's TransactWriteItems on moto: all or nothing as DynamoDB's, without copying the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local.stack.moto_transactions import install

TABLE = "records"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield client


def _put(pk: str, value: str, *, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "S"}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _value(client: Any, pk: str) -> str | None:
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": "S"}}).get("Item")
    return item["v"]["S"] if item else None


def test_a_refused_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    # Given an item that a transaction's condition will find
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "held"}, "sk": {"S": "S"}, "v": {"S": "old"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "other"}, "sk": {"S": "S"}, "v": {"S": "before"}})
    # When a transaction overwrites one item, adds another, and then puts one its condition refuses
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                _put("other", "after"),
                _put("new", "x"),
                _put("held", "mine", condition="attribute_not_exists(pk)"),
            ]
        )
    # Then none of its writes happened
    assert (_value(dynamodb, "other"), _value(dynamodb, "new"), _value(dynamodb, "held")) == (
        "before",
        None,
        "old",
    )


def test_an_accepted_transaction_writes_every_item_and_copies_no_table(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(50):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"p{n}"}, "sk": {"S": "S"}, "v": {"S": "v"}})

    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError("the whole table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    dynamodb.transact_write_items(TransactItems=[_put("p1", "changed"), _put("fresh", "new")])
    assert (_value(dynamodb, "p1"), _value(dynamodb, "fresh")) == ("changed", "new")
