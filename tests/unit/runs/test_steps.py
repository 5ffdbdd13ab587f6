"""The state machine's bookkeeping steps on moto: a run failed with the error it caught, and what a run
refused by PCO (401/403) tells the connection card."""

from __future__ import annotations

import json

from pco_core.runs.steps import CaughtError, FailStep, RunSteps
from pco_core.store.connection_checks import ConnectionChecks


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
