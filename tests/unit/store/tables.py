"""Moto tables built from template.yaml's own key schema, so tests cannot drift from what deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
REGION = "us-east-1"

_SCHEMA_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def table_schema(logical_id: str) -> dict[str, Any]:
    """The CreateTable arguments (keys and indexes) of table `logical_id`, from template.yaml."""
    from cfnlint.decode import decode

    template, problems = decode(str(TEMPLATE))
    if template is None:
        raise AssertionError(f"template.yaml does not parse: {problems}")
    properties = template["Resources"][logical_id]["Properties"]
    schema: dict[str, Any] = {}
    for field in _SCHEMA_FIELDS:
        if field in properties:
            schema[field] = _plain(properties[field])
    for index in schema.get("GlobalSecondaryIndexes", []):
        index.pop("ProvisionedThroughput", None)
    return schema


def _plain(value: Any) -> Any:
    # cfn-lint decodes to its own dict/str subclasses; boto3 wants plain ones.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def create_table(client: Any, logical_id: str, name: str) -> str:
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **table_schema(logical_id))
    return name
