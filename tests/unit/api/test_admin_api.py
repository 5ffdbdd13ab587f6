"""The admin API's contract: routes, auth answers, validation and error shapes (services faked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.connection import ConnectionStatus, ConnectionTest
from pco_core.errors import (
    ConfigError,
    InvalidRunType,
    RunActive,
    RunAlreadyEnded,
    RunNotFound,
    RunNotResumable,
)
from pco_core.records import Person
from pco_core.runs.schedule_info import ScheduledRun, SyncSchedule
from pco_core.runstate import RUN_LABELS, RecordFailure, Run, RunFailures
from tests.unit.api.events import ADMIN, VOLUNTEER, http_event

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def make_run(run_type: str = "full_sync", **changes: Any) -> Run:
    fields: dict[str, Any] = {
        "id": "20261124T140000Z-abcd1234",
        "type": run_type,
        "label": RUN_LABELS[run_type],
        "status": "RUNNING",
        "started_at": NOW,
        "started_by": "admin@church.example",
    }
    return Run.model_validate(fields | changes)


class FakeRuns:
    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []
        self.active: Run | None = None
        self.history: list[Run] = []

    def start_run(self, run_type: str, started_by: str) -> Run:
        if self.active:
            raise RunActive(self.active.id)
        self.started.append((run_type, started_by))
        self.active = make_run(run_type, started_by=started_by)
        return self.active

    def current_run(self) -> Run | None:
        return self.active

    def list_runs(self, limit: int) -> list[Run]:
        return self.history[:limit]

    def get_run(self, run_id: str) -> Run:
        for run in self.history:
            if run.id == run_id:
                return run
        raise RunNotFound(run_id)

    def list_failures(self, run_id: str) -> RunFailures:
        run = self.get_run(run_id)
        refused = RecordFailure(
            kind="person",
            record_id="p-1",
            name="Zoë Smith-Jones",
            operation="create in PCO",
            status=422,
            message="PCO refused the email address (422): Address is invalid.",
            at=NOW,
        )
        return RunFailures(run_id=run.id, total=run.failed, kept=1, failures=[refused])

    def cancel_run(self, run_id: str) -> Run:
        if self.active is not None and self.active.id == run_id:
            cancelled = self.active.model_copy(update={"status": "CANCELLED"})
            self.active = None
            self.history.insert(0, cancelled)
            return cancelled
        ended = self.get_run(run_id)
        raise RunAlreadyEnded(run_id, ended.status, "cancel")

    def resume_run(self, run_id: str, started_by: str) -> Run:
        failed = self.get_run(run_id)
        if failed.status != "FAILED":
            raise RunNotResumable(run_id, failed.status)
        self.active = make_run(failed.type, id="20261124T150000Z-ef567890", resumed_from=run_id)
        self.started.append((failed.type, started_by))
        return self.active


class FakeConnection:
    def __init__(self) -> None:
        self.tests = 0
        self.result = ConnectionTest(ok=True, organization="Grace Community Church")

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(
            app_id_set=True,
            secret_set=True,
            webhook_secret_set=False,
            webhook_url="https://hooks.example/webhooks/pco",
        )

    def test(self) -> ConnectionTest:
        self.tests += 1
        return self.result


class FakeRecords:
    def __init__(self, people: list[Person]) -> None:
        self.people = {p.id: p for p in people}
        self.list_calls: list[tuple[int, str | None]] = []

    def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def list_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]:
        self.list_calls.append((limit, cursor))
        items = sorted(self.people.values(), key=lambda p: p.id)
        return items[:limit], ("next" if len(items) > limit else None)


@pytest.fixture
def connection() -> FakeConnection:
    return FakeConnection()


@pytest.fixture
def fakes() -> tuple[FakeRuns, FakeRecords]:
    person = Person(
        id="p-1", pco_id="101", first_name="Zoë", last_name="Smith-Jones", birthdate=None, updated_at=NOW
    )
    return FakeRuns(), FakeRecords([person])


@pytest.fixture
def call(fakes: tuple[FakeRuns, FakeRecords], connection: FakeConnection) -> Any:
    runs, records = fakes
    services = AdminServices(
        runs=runs,  # type: ignore[arg-type]
        records=records,  # type: ignore[arg-type]
        role_permissions={"TECH_ADMIN": ["pco.manage"]},
        connection=connection,  # type: ignore[arg-type]
        deliveries=None,  # type: ignore[arg-type]
        dead_letters=None,  # type: ignore[arg-type]
    )
    app = create_app(lambda: services)

    def _call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        kwargs.setdefault("claims", ADMIN)
        answer = app.resolve(http_event(method, path, **kwargs), None)  # type: ignore[arg-type]
        assert answer["headers"]["Content-Type"] == "application/json"
        return answer["statusCode"], json.loads(answer["body"])

    return _call


def test_given_an_admin_when_starting_a_full_sync_then_202_with_the_run_started_by_them(call, fakes):
    status, body = call("POST", "/api/runs", body={"type": "full_sync"})
    assert status == 202
    assert body["label"] == "Full Sync"
    assert body["status"] == "RUNNING"
    assert body["started_by"] == "admin@church.example"
    assert "cursor" not in body  # internal state stays internal
    assert "page_seq" not in body
    assert fakes[0].started == [("full_sync", "admin@church.example")]


def test_given_an_active_run_when_starting_another_then_409_names_it(call):
    call("POST", "/api/runs", body={"type": "people"})
    status, body = call("POST", "/api/runs", body={"type": "groups"})
    assert status == 409
    assert body["message"] == "a run is already active"
    assert body["details"] == [{"run_id": "20261124T140000Z-abcd1234"}]


@pytest.mark.parametrize(
    ("kwargs", "status", "message_part"),
    [
        ({"body": {"type": "everything"}}, 422, "'type': Input should be 'incremental_sync', 'people'"),
        ({"body": {}}, 422, "'type': is required"),
        ({"body": {"type": "people", "by": "me"}}, 422, "'by': is not a field"),
        ({"body": ["people"]}, 400, "must be a JSON object"),
        ({"raw_body": "{not json"}, 400, "not valid JSON"),
        ({}, 400, "needs a JSON object body"),
    ],
)
def test_given_a_bad_start_body_then_it_says_what_is_wrong_and_nothing_starts(
    call, fakes, kwargs, status, message_part
):
    answer_status, body = call("POST", "/api/runs", **kwargs)
    assert answer_status == status
    assert message_part in body["message"]
    assert fakes[0].started == []


def test_given_no_verified_claims_then_401(call, fakes):
    status, body = call("POST", "/api/runs", body={"type": "people"}, claims={})
    assert status == 401
    assert "sign in" in body["message"]
    assert fakes[0].started == []


def test_roles_arrive_as_a_list_from_other_issuers(call):
    status, _ = call("GET", "/api/runs/current", claims={"sub": "x", "cognito:groups": ["TECH_ADMIN"]})
    assert status == 200


def test_current_run_is_null_when_idle_then_the_run_when_active(call):
    assert call("GET", "/api/runs/current") == (200, {"run": None})
    call("POST", "/api/runs", body={"type": "people"})
    status, body = call("GET", "/api/runs/current")
    assert status == 200
    assert body["run"]["type"] == "people"


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_history_limit_is_validated(call, limit):
    status, body = call("GET", "/api/runs", query={"limit": limit})
    assert status == 400
    assert "'limit'" in body["message"]


def test_unknown_run_and_unknown_person_are_404(call):
    assert call("GET", "/api/runs/nope")[0] == 404
    status, body = call("GET", "/api/people/nope")
    assert (status, body) == (404, {"message": "no person with id 'nope'"})


def test_people_list_passes_paging_and_serves_the_record_shape(call, fakes):
    status, body = call("GET", "/api/people", query={"limit": "10", "cursor": "abc"})
    assert status == 200
    assert fakes[1].list_calls == [(10, "abc")]
    assert body["next_cursor"] is None
    (person,) = body["items"]
    assert person == {
        "id": "p-1",
        "pco_id": "101",
        "first_name": "Zoë",
        "last_name": "Smith-Jones",
        "gender": None,
        "birthdate": None,
        "status": "active",
        "given_name": None,
        "middle_name": None,
        "nickname": None,
        "membership": None,
        "child": None,
        "grade": None,
        "anniversary": None,
        "inactivated_at": None,
        "emails": [],
        "phones": [],
        "addresses": [],
        "family_id": None,
        "updated_at": "2026-11-24T14:00:00Z",
    }


def test_unknown_route_is_a_json_404(call):
    status, body = call("GET", "/api/nothing-here")
    assert status == 404
    assert "no route" in body["message"]


def test_a_misconfigured_deployment_answers_500_naming_the_setting():
    def broken() -> AdminServices:
        raise ConfigError("invalid Lambda environment: RECORDS_TABLE: Field required")

    app = create_app(broken)
    answer = app.resolve(http_event("GET", "/api/runs", claims=ADMIN), None)  # type: ignore[arg-type]
    assert answer["statusCode"] == 500
    assert "RECORDS_TABLE" in json.loads(answer["body"])["message"]


def test_given_the_service_refuses_a_field_then_422_passes_its_problems_through_as_details(call, fakes):
    def refuse(run_type: str, started_by: str) -> Run:
        raise InvalidRunType(run_type, ["people"])

    fakes[0].start_run = refuse  # type: ignore[method-assign]
    status, body = call("POST", "/api/runs", body={"type": "push_people"})
    assert (status, body) == (
        422,
        {
            "message": "unknown run type 'push_people': 'type' must be one of: people",
            "details": [{"field": "type", "problem": "must be one of: people"}],
        },
    )


# ---------------------------------------------------------------- connection


def test_connection_status_says_what_is_set_never_the_values(call):
    status, body = call("GET", "/api/connection")
    assert status == 200
    assert body == {
        "app_id_set": True,
        "secret_set": True,
        "webhook_secret_set": False,
        "webhook_url": "https://hooks.example/webhooks/pco",
        "credentials": "untested",
        "checked_at": None,
        "refused_reason": None,
    }


def test_connection_test_answers_the_organisation(call, connection):
    assert call("POST", "/api/connection/test") == (
        200,
        {"ok": True, "organization": "Grace Community Church"},
    )
    assert connection.tests == 1


def test_a_failed_connection_test_is_a_200_with_the_reason(call, connection):
    connection.result = ConnectionTest.failed("rate_limited", "Rate limited: wait 7 s", retry_after=7)
    assert call("POST", "/api/connection/test") == (
        200,
        {"ok": False, "error": "rate_limited", "reason": "Rate limited: wait 7 s", "retry_after": 7},
    )


def test_volunteers_cannot_test_the_connection(call, connection):
    assert call("POST", "/api/connection/test", claims=VOLUNTEER)[0] == 403
    assert connection.tests == 0


# ---------------------------------------------------------------- cancel


def test_given_a_running_run_when_cancelled_then_202_with_the_cancelled_run(call, fakes):
    _, started = call("POST", "/api/runs", body={"type": "full_sync"})
    status, body = call("POST", f"/api/runs/{started['id']}/cancel")
    assert status == 202
    assert body["id"] == started["id"]
    assert body["status"] == "CANCELLED"
    assert "cursor" not in body


def test_given_an_ended_run_when_cancelled_then_409_and_unknown_is_404(call, fakes):
    fakes[0].history = [make_run(status="COMPLETED")]
    status, body = call("POST", "/api/runs/20261124T140000Z-abcd1234/cancel")
    assert status == 409
    assert "already ended (COMPLETED)" in body["message"]
    assert call("POST", "/api/runs/nope/cancel")[0] == 404


# ---------------------------------------------------------------- resume


def test_given_a_failed_run_when_resumed_then_202_with_the_new_run_it_started(call, fakes):
    fakes[0].history = [make_run(status="FAILED", error="PcoUnavailable: PCO answered 503")]
    status, body = call("POST", "/api/runs/20261124T140000Z-abcd1234/resume")
    assert status == 202
    assert (body["status"], body["type"]) == ("RUNNING", "full_sync")
    assert body["resumed_from"] == "20261124T140000Z-abcd1234"
    assert body["id"] != "20261124T140000Z-abcd1234"
    assert fakes[0].started == [("full_sync", "admin@church.example")]
    assert "cursor" not in body


def test_given_a_run_that_did_not_fail_when_resumed_then_409_and_unknown_is_404(call, fakes):
    fakes[0].history = [make_run(status="COMPLETED")]
    status, body = call("POST", "/api/runs/20261124T140000Z-abcd1234/resume")
    assert status == 409
    assert "only a failed run can be resumed" in body["message"]
    assert call("POST", "/api/runs/nope/resume")[0] == 404
    assert fakes[0].started == []


def test_two_resolvers_in_one_process_each_answer_with_their_own_services():
    # Given two admin APIs built in one process: their routers are the same module-level objects
    def app_for(webhook_url: str) -> Any:
        connection = FakeConnection()
        connection.status = lambda: ConnectionStatus(  # type: ignore[method-assign]
            app_id_set=True, secret_set=True, webhook_secret_set=True, webhook_url=webhook_url
        )
        services = AdminServices(
            runs=None,  # type: ignore[arg-type]
            records=None,  # type: ignore[arg-type]
            role_permissions={"TECH_ADMIN": ["pco.manage"]},
            connection=connection,  # type: ignore[arg-type]
            deliveries=None,  # type: ignore[arg-type]
            dead_letters=None,  # type: ignore[arg-type]
        )
        return create_app(lambda: services)

    first, second = (
        app_for("https://first.example/webhooks/pco"),
        app_for("https://second.example/webhooks/pco"),
    )
    # When each is asked for the connection, the first one after the second was built
    for app, expected in [(first, "first"), (second, "second"), (first, "first")]:
        answer = app.resolve(http_event("GET", "/api/connection", claims=ADMIN), None)
        # Then each answers from its own services
        assert json.loads(answer["body"])["webhook_url"] == f"https://{expected}.example/webhooks/pco"


def test_given_a_run_with_failures_when_asking_for_them_then_200_with_each_and_404_for_an_unknown_run(
    call, fakes
):
    run = make_run(status="COMPLETED", failed=1)
    fakes[0].history = [run]

    status, body = call("GET", f"/api/runs/{run.id}/failures")

    assert status == 200
    assert (body["run_id"], body["total"], body["kept"]) == (run.id, 1, 1)
    assert body["failures"][0]["message"] == "PCO refused the email address (422): Address is invalid."
    assert call("GET", "/api/runs/nope/failures")[0] == 404
    assert call("GET", f"/api/runs/{run.id}/failures", claims=VOLUNTEER)[0] == 403


def test_a_completed_run_with_failed_records_is_served_with_its_own_outcome(call, fakes):
    fakes[0].history = [make_run(status="COMPLETED", failed=2)]
    status, body = call("GET", "/api/runs")
    assert status == 200
    assert [(r["status"], r["outcome"]) for r in body["runs"]] == [("COMPLETED", "COMPLETED_WITH_FAILURES")]


def schedule_app(schedules: list[ScheduledRun]) -> Any:
    services = AdminServices(
        runs=FakeRuns(),  # type: ignore[arg-type]
        records=None,  # type: ignore[arg-type]
        role_permissions={"TECH_ADMIN": ["pco.manage"]},
        connection=FakeConnection(),  # type: ignore[arg-type]
        deliveries=None,  # type: ignore[arg-type]
        dead_letters=None,  # type: ignore[arg-type]
        clock=lambda: NOW,
        schedules=schedules,
    )
    app = create_app(lambda: services)

    def _get(claims: dict[str, Any] = ADMIN) -> tuple[int, Any]:
        answer = app.resolve(http_event("GET", "/api/schedule", claims=claims), None)  # type: ignore[arg-type]
        return answer["statusCode"], json.loads(answer["body"])

    return _get


def test_given_a_nightly_schedule_then_the_api_answers_its_next_start_in_utc():
    # 02:00 in Chicago on 25 Nov 2026 (CST, UTC-6) is 08:00 UTC; it is 14:00 UTC on the 24th now.
    nightly = ScheduledRun("full_sync", SyncSchedule.of("cron(0 2 * * ? *)", "America/Chicago", True))
    hourly = ScheduledRun("incremental_sync", SyncSchedule.of("cron(15 * * * ? *)", "America/Chicago", True))
    get = schedule_app([hourly, nightly])

    assert get() == (
        200,
        {
            "schedules": [
                {
                    "expression": "cron(15 * * * ? *)",
                    "timezone": "America/Chicago",
                    "enabled": True,
                    "next_run_at": "2026-11-24T14:15:00Z",
                    "run_type": "incremental_sync",
                },
                {
                    "expression": "cron(0 2 * * ? *)",
                    "timezone": "America/Chicago",
                    "enabled": True,
                    "next_run_at": "2026-11-25T08:00:00Z",
                    "run_type": "full_sync",
                },
            ]
        },
    )
    assert get(VOLUNTEER)[0] == 403


def test_given_a_disabled_schedule_then_no_next_start_and_without_one_a_500_naming_the_setting():
    off = schedule_app(
        [ScheduledRun("full_sync", SyncSchedule.of("cron(0 2 * * ? *)", "America/Chicago", False))]
    )
    [answer] = off()[1]["schedules"]
    assert (answer["enabled"], answer["next_run_at"]) == (False, None)
    status, body = schedule_app([])()
    assert status == 500
    assert "SYNC_SCHEDULE" in body["message"]
