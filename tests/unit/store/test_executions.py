"""ExecutionStarter on moto Step Functions."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from pco_core.store.executions import ExecutionStarter, execution_arn
from tests.unit.store.tables import REGION

DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


@pytest.fixture
def machine(aws: None) -> tuple[Any, str]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="pco-sync-sync-run",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return sfn, arn


def test_start_names_the_execution_and_passes_the_input(machine):
    sfn, arn = machine
    starter = ExecutionStarter(arn)  # the client is created lazily, on first use

    execution = starter.start(
        "20261124T140000Z-0000aaaa", {"run_id": "20261124T140000Z-0000aaaa", "max_wait_seconds": 0}
    )

    described = sfn.describe_execution(executionArn=execution)
    assert described["name"] == "20261124T140000Z-0000aaaa"
    assert json.loads(described["input"]) == {"run_id": "20261124T140000Z-0000aaaa", "max_wait_seconds": 0}
    assert execution == execution_arn(arn, "20261124T140000Z-0000aaaa")


def test_starting_the_same_name_again_gives_the_existing_execution(machine):
    sfn, arn = machine
    starter = ExecutionStarter(arn, client=sfn)
    first = starter.start("run-1-1000", {"run_id": "run-1", "max_wait_seconds": 5})
    again = starter.start("run-1-1000", {"run_id": "run-1", "max_wait_seconds": 5})
    assert again == first
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_execution_arn_needs_a_state_machine_arn():
    with pytest.raises(ValueError, match="state machine ARN"):
        execution_arn("arn:aws:lambda:us-east-1:1:function:x", "n")
