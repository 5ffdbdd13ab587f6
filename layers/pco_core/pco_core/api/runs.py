"""/api/runs: start a run, watch the current one, read the history and a run's failed records, cancel a run,
resume a failed one."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.answers import documented
from pco_core.api.bodies import RunStart
from pco_core.api.common import RecordId, caller, services
from pco_core.runstate import Run, RunFailures

router = APIGatewayHttpRouter()


class CurrentRun(BaseModel):
    run: Run | None


class RunHistory(BaseModel):
    runs: list[Run]


@router.post("/api/runs", status_code=202, responses=documented(202, Run, 409, 422))
def start_run(body: Annotated[RunStart, Body()]) -> Run:
    return services().runs.start_run(body.type, started_by=caller().display_name)


@router.get("/api/runs/current", responses=documented(200, CurrentRun))
def current_run() -> CurrentRun:
    return CurrentRun(run=services().runs.current_run())


@router.get("/api/runs", responses=documented(200, RunHistory))
def list_runs(
    limit: Annotated[int, Query(ge=1, le=100, description="how many runs, newest first")] = 20,
) -> RunHistory:
    return RunHistory(runs=services().runs.list_runs(limit))


@router.get("/api/runs/<run_id>", responses=documented(200, Run, 404))
def get_run(run_id: RecordId) -> Run:
    return services().runs.get_run(run_id)


@router.get("/api/runs/<run_id>/failures", responses=documented(200, RunFailures, 404))
def list_failures(run_id: RecordId) -> RunFailures:
    """The records the run could not sync, with why (the first ones kept), and how many failed."""
    return services().runs.list_failures(run_id)


@router.post("/api/runs/<run_id>/cancel", status_code=202, responses=documented(202, Run, 404, 409))
def cancel_run(run_id: RecordId) -> Run:
    return services().runs.cancel_run(run_id)


@router.post("/api/runs/<run_id>/resume", status_code=202, responses=documented(202, Run, 404, 409))
def resume_run(run_id: RecordId) -> Run:
    """A new run that goes on from where the failed run `run_id` stopped (its last committed page)."""
    return services().runs.resume_run(run_id, started_by=caller().display_name)
