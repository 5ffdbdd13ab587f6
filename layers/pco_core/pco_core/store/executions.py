"""Starting executions of the sync state machine (Step Functions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives execution `name` of a standard state machine."""
    prefix, sep, machine = state_machine_arn.partition(":stateMachine:")
    if not sep:
        raise ValueError(f"not a state machine ARN: {state_machine_arn}")
    return f"{prefix}:execution:{machine}:{name}"


class ExecutionStarter:
    def __init__(self, state_machine_arn: str, *, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def client(self) -> SFNClient:
        if self._client is None:
            self._client = boto3.client("stepfunctions")
        return self._client

    def start(self, name: str, input: dict[str, Any]) -> str:
        """Start execution `name`; its ARN. Starting a name that already exists (a retried step) gives
        that execution's ARN, so a retry never starts the run twice."""
        try:
            answer = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(input, sort_keys=True)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return execution_arn(self.state_machine_arn, name)
            raise
        return answer["executionArn"]
