"""The state machine's bookkeeping steps: the FailRun step's reason for the run history (what failed, and
whether it was retried first), and on moto what a run refused by PCO (401/403) tells the connection card."""

from __future__ import annotations

import json

import pytest

from pco_core.runs.steps import GAVE_UP, MAX_ERROR_LENGTH, CaughtError, FailStep, RunStep, RunSteps
from pco_core.store.connection_checks import ConnectionChecks


def caught(error: str, cause: str | None) -> CaughtError:
    event = {"action": "fail", "run_id": "r", "error": {"Error": error, "Cause": cause}}
    step = RunStep.model_validate(event).root
    assert isinstance(step, FailStep)
    return step.error


def test_a_fatal_error_is_told_as_the_lambda_raised_it() -> None:
    cause = json.dumps({"errorType": "PcoAuthError", "errorMessage": "PCO rejected the credentials (401)"})
    assert caught("PcoAuthError", cause).describe() == "PcoAuthError: PCO rejected the credentials (401)"


@pytest.mark.parametrize(
    ("error", "cause", "message"),
    [
        (
            "PcoUnavailable",
            json.dumps(
                {"errorType": "PcoUnavailable", "errorMessage": "PCO answered 503: Service Unavailable"}
            ),
            "PcoUnavailable: PCO answered 503: Service Unavailable",
        ),
        # A killed process: Lambda's cause is not the handler's JSON
        (
            "Runtime.ExitError",
            "RequestId: 42 Error: Runtime exited with error: signal: killed",
            "Runtime.ExitError: RequestId: 42 Error: Runtime exited with error: signal: killed",
        ),
        ("States.Timeout", None, "States.Timeout"),
    ],
)
def test_an_error_the_state_machine_retried_says_it_gave_up_and_how_to_go_on(
    error: str, cause: str | None, message: str
) -> None:
    assert caught(error, cause).describe() == message + GAVE_UP


def test_a_long_reason_is_cut_but_keeps_the_advice() -> None:
    described = caught("PcoUnavailable", "x" * 2000).describe()
    assert len(described) == MAX_ERROR_LENGTH
    assert described.startswith("PcoUnavailable: xxx")
    assert described.endswith(GAVE_UP)


def fail(steps: RunSteps, run_id: str, error: str, message: str) -> None:
    cause = json.dumps({"errorType": error, "errorMessage": message})
    steps.apply(FailStep(action="fail", run_id=run_id, error=CaughtError(Error=error, Cause=cause)))


def test_given_a_run_pco_refused_when_it_fails_then_the_connection_card_learns_the_credentials_were_refused(
    service, store, dynamodb, state_table
):
    checks = ConnectionChecks(state_table, client=dynamodb)
    steps = RunSteps(service, checks)
    run = service.start_run("people", "a")

    fail(steps, run.id, "PcoAuthError", "PCO rejected the credentials (401)")

    assert store.get_run(run.id).status == "FAILED"
    check = checks.latest()
    assert check is not None
    assert (check.ok, check.source, check.checked_at) == (False, run.id, service.clock())
    assert "PcoAppId" in (check.reason or "")


def test_given_a_run_that_failed_for_another_reason_then_the_credentials_verdict_is_untouched(
    service, dynamodb, state_table
):
    checks = ConnectionChecks(state_table, client=dynamodb)
    steps = RunSteps(service, checks)
    run = service.start_run("people", "a")

    fail(steps, run.id, "PcoUnavailable", "PCO answered 503")

    assert checks.latest() is None
