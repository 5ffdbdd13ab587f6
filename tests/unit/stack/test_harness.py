"""harness.py on the real template and handlers: the API goes through the stand-in, machines really run."""

from __future__ import annotations

import json
import os

import pytest

from local.stack.harness import LocalStack
from tests.unit.stack.conftest import REAL_TEMPLATE

pytestmark = pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")


def test_given_a_started_stack_then_api_machines_and_environment_work_and_exit_restores() -> None:
    before = dict(os.environ)

    with LocalStack.start("http://127.0.0.1:9", "app", "secret") as stack:
        env = stack.environment
        assert os.environ["RECORDS_TABLE"] == env["RECORDS_TABLE"]
        assert env["PCO_BASE_URL"] == "http://127.0.0.1:9"
        assert stack.api("GET", "/api/runs") == (401, {"message": "Unauthorized"})
        status, body = stack.api("GET", "/api/runs", role="TECH_ADMIN")
        assert (status, body) == (200, {"runs": []})
        assert stack.api("GET", "/api/runs", role="VOLUNTEER")[0] == 403

        # A run that does not exist: the real page handler answers done and the machine succeeds.
        arn = stack.stepfunctions.start_execution(
            stateMachineArn=env["SYNC_STATE_MACHINE_ARN"],
            name="no-such-run",
            input=json.dumps({"run_id": "no-such-run", "max_wait_seconds": 0}),
        )["executionArn"]
        assert stack.wait_for_execution(arn, timeout=20)["status"] == "SUCCEEDED"
        assert "LambdaFunctionSucceeded" in [e["type"] for e in stack.execution_history(arn)]
        with pytest.raises(TimeoutError, match="missing"):
            stack.wait_for_run("no-such-run", timeout=0.05)

    assert dict(os.environ) == before
