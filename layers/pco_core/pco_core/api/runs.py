"""/api/runs: start a run, watch the current one, read the history, cancel a run, resume a failed one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.common import caller, int_param, json_body, json_response, services
from pco_core.errors import BadRequest
from pco_core.runstate import RUN_LABELS

router = APIGatewayHttpRouter()


@router.post("/api/runs")
def start_run() -> Response[Any]:
    who = caller(router)
    body = json_body(router)
    run_type = body.get("type")
    if not isinstance(run_type, str) or run_type not in RUN_LABELS:
        raise BadRequest(f"'type' must be one of: {', '.join(RUN_LABELS)}")
    run = services(router).runs.start_run(run_type, started_by=who.display_name)
    return json_response(202, run.model_dump(mode="json"))


@router.get("/api/runs/current")
def current_run() -> Response[Any]:
    caller(router)
    run = services(router).runs.current_run()
    return json_response(200, {"run": run.model_dump(mode="json") if run else None})


@router.get("/api/runs")
def list_runs() -> Response[Any]:
    caller(router)
    limit = int_param(router, "limit", default=20, low=1, high=100)
    runs = services(router).runs.list_runs(limit)
    return json_response(200, {"runs": [run.model_dump(mode="json") for run in runs]})


@router.get("/api/runs/<run_id>")
def get_run(run_id: str) -> Response[Any]:
    caller(router)
    return json_response(200, services(router).runs.get_run(run_id).model_dump(mode="json"))


@router.post("/api/runs/<run_id>/cancel")
def cancel_run(run_id: str) -> Response[Any]:
    caller(router)
    return json_response(202, services(router).runs.cancel_run(run_id).model_dump(mode="json"))


@router.post("/api/runs/<run_id>/resume")
def resume_run(run_id: str) -> Response[Any]:
    who = caller(router)
    run = services(router).runs.resume_run(run_id, started_by=who.display_name)
    return json_response(202, run.model_dump(mode="json"))
