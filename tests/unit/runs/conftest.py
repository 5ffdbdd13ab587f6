"""Run fixtures on moto: the state machine, the run store and a RunService with a settable clock.

The tables come from tests/unit/conftest.py (built from template.yaml's own key schema).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from pco_core.runs.service import RunService
from pco_core.store.executions import ExecutionStarter
from pco_core.store.runs import RunStore
from tests.unit.runs.support import DEFINITION, LEASE, MAX_WAIT, T0, Clock
from tests.unit.store.tables import REGION


@pytest.fixture
def sfn(aws: None) -> tuple[Any, str]:
    client = boto3.client("stepfunctions", region_name=REGION)
    arn = client.create_state_machine(
        name="pco-sync-sync-run",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return client, arn


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store(dynamodb: Any, state_table: str) -> RunStore:
    return RunStore(state_table, client=dynamodb)


@pytest.fixture
def service(store: RunStore, sfn: tuple[Any, str], clock: Clock) -> RunService:
    client, arn = sfn
    return RunService(store, ExecutionStarter(arn, client=client), clock, LEASE, max_wait_seconds=MAX_WAIT)
