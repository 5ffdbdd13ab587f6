"""lambdas.py: real handlers behind moto's Lambda, so Step Functions' Catch/Retry see class names."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.stack.lambdas import (
    LambdaContext,
    function_name_of,
    install_lambda_dispatcher,
    lambda_dispatcher,
    load_handler,
    load_handlers,
)
from local.stack.resources import LocalResources, create_resources
from tests.unit.stack.conftest import FIXTURE_TEMPLATE, PARAMS

ECHO = "pco-sync-local-EchoFunction"
ECHO_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{ECHO}"


@pytest.fixture
def stack(aws: None) -> Iterator[LocalResources]:
    res = create_resources(FIXTURE_TEMPLATE, boto_session_or_endpoint=None, params=PARAMS)
    with lambda_dispatcher(load_handlers(res.functions), functions=res.functions):
        yield res


def invoke(name: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    response = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=name, Payload=json.dumps(event).encode()
    )
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def run_execution(machine_arn: str, name: str, event: dict[str, Any]) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(event))["executionArn"]
    deadline = time.monotonic() + 10
    while (desc := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.01)
    return desc


def test_function_names_come_from_names_partial_and_full_arns() -> None:
    assert function_name_of("fn") == "fn"
    assert function_name_of("fn:live") == "fn"
    assert function_name_of("123456789012:function:fn") == "fn"
    assert function_name_of("arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST") == "fn"


def test_each_load_is_a_fresh_module(stack: LocalResources) -> None:
    fn = stack.functions["EchoFunction"]
    first, second = load_handler(fn), load_handler(fn)

    assert first.__module__ != second.__module__
    assert first.__globals__["ATTEMPTS"] is not second.__globals__["ATTEMPTS"]  # type: ignore[attr-defined]


def test_given_the_dispatcher_when_invoked_by_name_or_arn_then_the_real_handler_answers(
    stack: LocalResources,
) -> None:
    for name in (ECHO, ECHO_ARN):
        error, payload = invoke(name, {"hello": "world"})

        assert error is None
        assert payload["event"] == {"hello": "world"}
        assert payload["function_name"] == ECHO
        assert payload["memory"] == 512  # the template's MemorySize reaches the context
        assert 0 < payload["remaining_ms"] <= 10_000


def test_a_raising_handler_becomes_a_function_error_named_by_its_class(stack: LocalResources) -> None:
    error, payload = invoke(ECHO, {"fail": True})

    assert error == "Unhandled"
    assert payload["errorType"] == "FlakyError"
    assert payload["errorMessage"] == "always fails"


def test_step_functions_run_the_handler_and_catch_by_exception_class(stack: LocalResources) -> None:
    machine = stack.state_machines["LoopMachine"]

    ok = run_execution(machine, "ok", {"key": "a"})
    flaky = run_execution(machine, "flaky", {"key": "b", "flaky_until": 1})
    other = run_execution(machine, "other", {"key": "c", "fail": True})

    assert ok["status"] == "SUCCEEDED"
    assert json.loads(ok["output"])["result"]["event"] == {"key": "a"}
    assert (flaky["status"], flaky["error"]) == ("FAILED", "CaughtFlaky")
    assert (other["status"], other["error"]) == ("FAILED", "CaughtOther")


def test_unknown_functions_fall_through_and_uninstall_restores_moto(aws: None) -> None:
    uninstall = install_lambda_dispatcher({"known": lambda event, context: event})
    try:
        assert invoke("known", {"x": 1}) == (None, {"x": 1})
        with pytest.raises(ClientError, match="ResourceNotFound"):
            invoke("unknown", {})
    finally:
        uninstall()
    with pytest.raises(ClientError, match="ResourceNotFound"):
        invoke("known", {})


def test_the_context_has_what_powertools_reads() -> None:
    context = LambdaContext(function_name="fn", memory_limit_in_mb=128, timeout_seconds=3)

    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert context.aws_request_id
    assert context.log_group_name == "/aws/lambda/fn"
    assert 0 < context.get_remaining_time_in_millis() <= 3000
