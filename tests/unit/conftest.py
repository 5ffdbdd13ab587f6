"""Fixtures every unit tier shares: moto's AWS and the two tables built from template.yaml's own schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.unit.store.tables import REGION, create_table


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def records_table(dynamodb: Any) -> str:
    return create_table(dynamodb, "RecordsTable", "records")


@pytest.fixture
def state_table(dynamodb: Any) -> str:
    return create_table(dynamodb, "SyncStateTable", "sync-state")
