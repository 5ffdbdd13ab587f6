"""The sync-run state machine, created in moto from statemachines/sync_run.asl.json and actually executed.

Lambda invocations are answered by a scripted dispatcher that replaces moto's `LambdaBackend.invoke` (the
same hook the local stack uses to run the real handlers), so these tests check the ASL's paths: the page
loop, the rate-limit Wait, Retry on the retriable error names, Catch -> FailRun, and continue-as-new.
Retry intervals and Wait states are recorded instead of slept, so the whole file runs in about a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.utils import TMP_THREADS

from pco_core import errors

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachines" / "sync_run.asl.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PAGE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pco-sync-SyncPageFunction"
STEP_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pco-sync-RunStepFunction"
SUBSTITUTIONS = {"SyncPageFunctionArn": PAGE_ARN, "RunStepFunctionArn": STEP_ARN}
RUN_ID = "20261124T143000Z-0a1b2c3d"
EXECUTION_DEADLINE_SECONDS = 10

RETRIABLE_PAGE_ERRORS = ["PcoUnavailable", "RateLimited", "StoreConflict"]
# How a Lambda that died or failed outside our exception tree is reported to Step Functions.
CRASH_ERRORS = [
    "Runtime.ExitError",
    "Sandbox.Timedout",
    "Lambda.Unknown",
    "States.Timeout",
    "States.TaskFailed",
]
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def substitute(definition: str, substitutions: dict[str, str]) -> str:
    """What CloudFormation does with DefinitionSubstitutions: replace every ${Name}, leave nothing behind."""

    def replace(match: re.Match[str]) -> str:
        return substitutions[match.group(1)]

    return re.sub(r"\$\{(\w+)\}", replace, definition)


def page(
    *, wait_seconds: int = 0, done: bool = False, continue_as_new: bool = False, cursor: Any = None
) -> dict[str, Any]:
    """A PageResult as the page Lambda returns it."""
    return {
        "run_id": RUN_ID,
        "cursor": cursor,
        "wait_seconds": wait_seconds,
        "done": done,
        "continue_as_new": continue_as_new,
    }


@dataclass
class LambdaError:
    """A scripted function error: the handler raised `error_type`."""

    error_type: str
    message: str = "scripted failure"


Answer = dict[str, Any] | LambdaError


@dataclass
class ScriptedLambdas:
    """Stands in for moto's `LambdaBackend.invoke`: answers each function from its own script, in order.

    Set as a class attribute it is not a descriptor, so moto calls it without `self`:
    `invoke(function_name, qualifier, body, headers, response_headers)`.
    """

    scripts: dict[str, list[Answer]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(
        self, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body) if body else {}
        self.calls.append((function_name, event))
        script = self.scripts.get(function_name)
        if not script:
            raise AssertionError(f"unexpected invocation of {function_name} with {event}")
        answer = script.pop(0)
        if isinstance(answer, LambdaError):
            # What Lambda answers when a Python handler raises: Step Functions names the error by errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = {"errorType": answer.error_type, "errorMessage": answer.message}
        return json.dumps(answer).encode()

    def events_for(self, function_arn: str) -> list[dict[str, Any]]:
        return [event for name, event in self.calls if name == function_arn]


@dataclass
class Machine:
    client: Any
    arn: str
    lambdas: ScriptedLambdas
    retry_intervals: list[float]
    waits: list[int]

    def run(self, *, name: str = RUN_ID, max_wait_seconds: int = 60) -> Execution:
        threads_before = len(TMP_THREADS)
        execution_arn = self.client.start_execution(
            stateMachineArn=self.arn,
            name=name,
            input=json.dumps({"run_id": RUN_ID, "max_wait_seconds": max_wait_seconds}),
        )["executionArn"]
        # moto runs the execution on its own threads: join them instead of polling.
        for thread in list(TMP_THREADS[threads_before:]):
            thread.join(EXECUTION_DEADLINE_SECONDS)
        described = self.client.describe_execution(executionArn=execution_arn)
        assert described["status"] != "RUNNING", "execution did not finish before the deadline"
        events = self.client.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return Execution(described, events)


@dataclass
class Execution:
    described: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return str(self.described["status"])

    @property
    def output(self) -> dict[str, Any]:
        return dict(json.loads(self.described["output"]))

    @property
    def states(self) -> list[str]:
        """Names of the states entered, in order."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]

    def failure(self) -> dict[str, Any]:
        (failed,) = [e for e in self.events if e["type"] == "ExecutionFailed"]
        return dict(failed["executionFailedEventDetails"])


@pytest.fixture
def asl() -> dict[str, Any]:
    return dict(json.loads(ASL_PATH.read_text()))


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Machine]:
    lambdas = ScriptedLambdas()
    retry_intervals: list[float] = []
    waits: list[int] = []
    monkeypatch.setattr(LambdaBackend, "invoke", lambdas)
    # Retriers call time.sleep(interval) in this module only; record the interval instead.
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=retry_intervals.append))

    def record_wait(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        waits.append(wait_seconds)

    monkeypatch.setattr(WaitFunction, "_wait_interval", record_wait)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = client.create_state_machine(
            name="pco-sync-sync-run",
            definition=substitute(ASL_PATH.read_text(), SUBSTITUTIONS),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/pco-sync-SyncRunStateMachineRole",
        )["stateMachineArn"]
        yield Machine(client, arn, lambdas, retry_intervals, waits)


def script(machine: Machine, *, pages: list[Answer], steps: list[Answer] | None = None) -> None:
    machine.lambdas.scripts[PAGE_ARN] = list(pages)
    machine.lambdas.scripts[STEP_ARN] = list(steps or [])


# ---------------------------------------------------------------- shape


def test_every_transition_target_exists(asl: dict[str, Any]) -> None:
    # Given the definition; When collecting every Next/Default/Catch target; Then each names a state
    # (neither cfn-lint nor `sam validate --lint` checks this).
    states = asl["States"]
    targets = {asl["StartAt"]}
    for state in states.values():
        targets.update(x for x in [state.get("Next"), state.get("Default")] if x)
        targets.update(choice["Next"] for choice in state.get("Choices", []))
        targets.update(catcher["Next"] for catcher in state.get("Catch", []))
    assert targets - set(states) == set()
    # and no state is dead code
    assert set(states) - targets == set()


def test_every_substitution_is_declared(asl: dict[str, Any]) -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    assert placeholders == set(SUBSTITUTIONS)


def subclass_names(base: type[Exception]) -> set[str]:
    """The names of `base`'s subclasses in the exception tree (pco_core.errors), however deep."""
    found: set[str] = set()
    for sub in base.__subclasses__():
        if sub.__module__ == errors.__name__:
            found |= {sub.__name__} | subclass_names(sub)
    return found


def test_retriable_names_are_the_exception_tree(asl: dict[str, Any]) -> None:
    # The Retry names must be real pco_core.errors classes, or a typo silently stops (or starts) retrying.
    fatal, retriable, crashes = asl["States"]["Page"]["Retry"]
    app_names = [n for n in retriable["ErrorEquals"] if not n.startswith("Lambda.")]
    assert app_names == RETRIABLE_PAGE_ERRORS
    assert set(app_names) == subclass_names(errors.RetriableError)
    assert set(retriable["ErrorEquals"]) - set(app_names) == set(LAMBDA_SERVICE_ERRORS)
    assert (retriable["IntervalSeconds"], retriable["BackoffRate"], retriable["MaxAttempts"]) == (2, 2, 6)
    # Every fatal error, and only those, is matched first and never retried (a crash retrier would
    # otherwise retry them through its States.TaskFailed wildcard).
    assert set(fatal["ErrorEquals"]) == subclass_names(errors.FatalError)
    assert fatal["MaxAttempts"] == 0
    # Crashes: a bounded few retries, further apart.
    assert crashes["ErrorEquals"] == CRASH_ERRORS
    assert (crashes["IntervalSeconds"], crashes["BackoffRate"], crashes["MaxAttempts"]) == (5, 2, 3)


def test_moto_accepts_the_definition(machine: Machine) -> None:
    described = machine.client.describe_state_machine(stateMachineArn=machine.arn)
    assert PAGE_ARN in described["definition"]
    assert "${" not in described["definition"]


# ---------------------------------------------------------------- paths, executed


def test_pages_loop_until_done(machine: Machine) -> None:
    # Given a run whose third page finishes it
    script(machine, pages=[page(cursor="a"), page(cursor="b"), page(done=True)])
    # When the execution runs
    execution = machine.run(max_wait_seconds=45)
    # Then the page Lambda ran three times with only run_id and max_wait_seconds, and the machine succeeded
    assert execution.status == "SUCCEEDED"
    assert machine.lambdas.events_for(PAGE_ARN) == [{"run_id": RUN_ID, "max_wait_seconds": 45}] * 3
    assert machine.lambdas.events_for(STEP_ARN) == []
    assert execution.states == ["Page", "AfterPage"] * 3 + ["Done"]
    assert machine.waits == []
    assert execution.output["page"] == page(done=True)


def test_rate_limited_page_waits_then_continues(machine: Machine) -> None:
    # Given a page that reports PCO's budget is spent for 17 seconds
    script(machine, pages=[page(wait_seconds=17), page(done=True)])
    # When the execution runs
    execution = machine.run()
    # Then the machine waits the page's seconds in a Wait state (never inside a Lambda) and goes on
    assert execution.status == "SUCCEEDED"
    assert execution.states == ["Page", "AfterPage", "Wait", "Page", "AfterPage", "Done"]
    assert machine.waits == [17]


@pytest.mark.parametrize("error_type", [*RETRIABLE_PAGE_ERRORS, "Lambda.TooManyRequestsException"])
def test_retriable_page_error_is_retried(machine: Machine, error_type: str) -> None:
    # Given a page that fails once with a retriable error, then finishes
    script(machine, pages=[LambdaError(error_type), page(done=True)])
    # When the execution runs
    execution = machine.run()
    # Then the page is retried after the first interval and the run is not failed
    assert execution.status == "SUCCEEDED"
    assert len(machine.lambdas.events_for(PAGE_ARN)) == 2
    assert machine.lambdas.events_for(STEP_ARN) == []
    assert machine.retry_intervals == [2]


def test_retries_exhausted_fail_the_run(machine: Machine) -> None:
    # Given PCO stays unavailable for longer than the retry budget
    script(machine, pages=[LambdaError("PcoUnavailable", "PCO answered 503")] * 7, steps=[{}])
    # When the execution runs
    execution = machine.run()
    # Then the page was tried 1 + 6 times with exponential backoff, then FailRun recorded the error
    assert len(machine.lambdas.events_for(PAGE_ARN)) == 7
    assert machine.retry_intervals == [2, 4, 8, 16, 32, 64]
    (fail_event,) = machine.lambdas.events_for(STEP_ARN)
    assert fail_event["action"] == "fail"
    assert fail_event["error"]["Error"] == "PcoUnavailable"
    assert execution.status == "FAILED"
    assert execution.failure()["error"] == "PcoUnavailable"


def test_fatal_page_error_fails_the_run_at_once(machine: Machine) -> None:
    # Given PCO rejects the credentials
    script(machine, pages=[LambdaError("PcoAuthError", "PCO answered 401")], steps=[{}])
    # When the execution runs
    execution = machine.run()
    # Then there is no retry; FailRun gets the run id and the caught {Error, Cause}; the execution fails
    assert machine.retry_intervals == []
    (fail_event,) = machine.lambdas.events_for(STEP_ARN)
    assert set(fail_event) == {"action", "run_id", "error"}
    assert fail_event["action"] == "fail"
    assert fail_event["run_id"] == RUN_ID
    assert fail_event["error"]["Error"] == "PcoAuthError"
    assert json.loads(fail_event["error"]["Cause"])["errorMessage"] == "PCO answered 401"
    assert execution.states == ["Page", "FailRun", "Failed"]
    assert execution.status == "FAILED"
    assert execution.failure()["error"] == "PcoAuthError"
    assert "PCO answered 401" in execution.failure()["cause"]


@pytest.mark.parametrize("fatal", sorted(subclass_names(errors.FatalError)))
def test_every_fatal_error_fails_the_run_without_a_retry(machine: Machine, fatal: str) -> None:
    script(machine, pages=[LambdaError(fatal)], steps=[{}])
    execution = machine.run()
    assert (len(machine.lambdas.events_for(PAGE_ARN)), machine.retry_intervals) == (1, [])
    assert execution.failure()["error"] == fatal


@pytest.mark.parametrize(
    "error_type",
    # States.Timeout is Step Functions' own name (a TimeoutSeconds passed), never a Lambda's errorType.
    [name for name in CRASH_ERRORS if not name.startswith("States.")] + ["MemoryError", "KeyError"],
    ids=lambda name: name,
)
def test_a_crashed_page_is_retried_and_the_run_goes_on(machine: Machine, error_type: str) -> None:
    # Given a page whose Lambda died (killed, out of memory, timed out) or raised outside the tree, once
    script(machine, pages=[LambdaError(error_type, "RequestId: x Error: Runtime exited"), page(done=True)])
    # When the execution runs
    execution = machine.run()
    # Then the page ran again after the crash retrier's first interval and the run finished
    assert execution.status == "SUCCEEDED"
    assert len(machine.lambdas.events_for(PAGE_ARN)) == 2
    assert machine.lambdas.events_for(STEP_ARN) == []
    assert machine.retry_intervals == [5]


def test_a_page_that_keeps_crashing_fails_the_run_after_a_bounded_number_of_retries(machine: Machine) -> None:
    # Given a page whose Lambda process dies every time
    script(machine, pages=[LambdaError("Runtime.ExitError", "signal: killed")] * 4, steps=[{}])
    # When the execution runs
    execution = machine.run()
    # Then the page ran 1 + 3 times, further apart each time, then FailRun recorded why
    assert len(machine.lambdas.events_for(PAGE_ARN)) == 4
    assert machine.retry_intervals == [5, 10, 20]
    (fail_event,) = machine.lambdas.events_for(STEP_ARN)
    assert fail_event["error"]["Error"] == "Runtime.ExitError"
    assert execution.status == "FAILED"


def test_crashes_and_pco_failures_have_their_own_retry_budgets(machine: Machine) -> None:
    # Given PCO failing five times, then the Lambda crashing twice, then the page finishing
    pages: list[Answer] = [LambdaError("PcoUnavailable")] * 5 + [LambdaError("Runtime.ExitError")] * 2
    script(machine, pages=[*pages, page(done=True)])
    # When the execution runs
    execution = machine.run()
    # Then neither budget was spent: each retrier counts its own errors
    assert execution.status == "SUCCEEDED"
    assert machine.retry_intervals == [2, 4, 8, 16, 32, 5, 10]


def test_fail_run_is_retried_on_lambda_service_errors(machine: Machine) -> None:
    # Given the fail step first hits a Lambda service error
    script(
        machine,
        pages=[LambdaError("LeaseLost")],
        steps=[LambdaError("Lambda.ServiceException"), {}],
    )
    # When the execution runs
    execution = machine.run()
    # Then the failure is still recorded (the second attempt) and the execution fails with the page's error
    fail_events = machine.lambdas.events_for(STEP_ARN)
    assert len(fail_events) == 2
    assert fail_events[0] == fail_events[1]
    assert machine.retry_intervals == [2]
    assert execution.failure()["error"] == "LeaseLost"


def test_continue_as_new_hands_the_run_over(machine: Machine) -> None:
    # Given a page that says this execution's history is full
    script(
        machine,
        pages=[page(), page(continue_as_new=True)],
        steps=[{"execution_arn": "arn:aws:states:us-east-1:123456789012:execution:m:x-2"}],
    )
    # When the execution runs
    execution = machine.run(max_wait_seconds=30)
    # Then RunStep is asked to continue the run in a new execution, and this one succeeds
    assert machine.lambdas.events_for(STEP_ARN) == [
        {"action": "continue", "run_id": RUN_ID, "max_wait_seconds": 30}
    ]
    assert execution.status == "SUCCEEDED"
    assert execution.states[-2:] == ["ContinueAsNew", "ContinuedAsNew"]


def test_continue_as_new_that_fails_fails_the_run(machine: Machine) -> None:
    # Given continue-as-new cannot start the next execution
    script(
        machine,
        pages=[page(continue_as_new=True)],
        steps=[LambdaError("ConfigError", "no machine"), {}],
    )
    # When the execution runs
    execution = machine.run()
    # Then the run is failed rather than left RUNNING until its lease expires
    continue_event, fail_event = machine.lambdas.events_for(STEP_ARN)
    assert continue_event["action"] == "continue"
    assert fail_event["action"] == "fail"
    assert fail_event["error"]["Error"] == "ConfigError"
    assert execution.status == "FAILED"


def test_done_wins_over_continue_and_wait(machine: Machine) -> None:
    # Given the last page also says continue_as_new and wait (a cancelled run, say)
    script(machine, pages=[page(done=True, continue_as_new=True, wait_seconds=5)])
    # When the execution runs
    execution = machine.run()
    # Then the machine stops: no new execution, no wait
    assert execution.states == ["Page", "AfterPage", "Done"]
    assert machine.lambdas.events_for(STEP_ARN) == []
    assert machine.waits == []


def test_continue_wins_over_wait(machine: Machine) -> None:
    script(machine, pages=[page(continue_as_new=True, wait_seconds=5)], steps=[{}])
    execution = machine.run()
    assert "Wait" not in execution.states
    assert execution.states[-1] == "ContinuedAsNew"


def test_continued_execution_names_do_not_collide(machine: Machine) -> None:
    # Given one run spread over two executions named <run id> and <run id>-2 (as RunStep names them)
    script(machine, pages=[page(continue_as_new=True), page(done=True)], steps=[{}])
    first = machine.run(name=RUN_ID)
    second = machine.run(name=f"{RUN_ID}-2")
    # Then both ran to the end
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
