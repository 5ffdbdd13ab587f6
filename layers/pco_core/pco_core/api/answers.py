"""The one place errors become HTTP answers, all shaped {"message": ..., "details": [...]}.

Each Refused class has its status here; Powertools' validation errors are answered in the same shape,
naming each field and why (400 when the request cannot be read or a query/path parameter is wrong, 422
when a body field is); a misconfiguration is a 500 naming the setting, another PCO Sync failure a 502,
anything else a 500 that names no internals (the logs have the traceback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import MISSING, BaseModel

from pco_core.errors import (
    BodyNotJson,
    BodyTooLarge,
    ConfigError,
    ConflictNotFound,
    ConflictResolved,
    FieldProblem,
    InvalidCursor,
    InvalidInput,
    InvalidLimit,
    InvalidRecord,
    InvalidRunType,
    MalformedRequest,
    NotPermitted,
    NotSignedIn,
    PcoSyncError,
    RecordNotFound,
    Refused,
    ReplayRunning,
    RunActive,
    RunAlreadyEnded,
    RunAlreadyResumed,
    RunNotFound,
    RunNotResumable,
    RunStopping,
)
from pco_core.observability import logger

STATUS_OF: Mapping[type[Refused], int] = {
    NotSignedIn: 401,
    NotPermitted: 403,
    InvalidInput: 400,
    MalformedRequest: 400,
    InvalidLimit: 400,
    InvalidCursor: 400,
    InvalidRunType: 422,
    InvalidRecord: 422,
    RecordNotFound: 404,
    RunNotFound: 404,
    RunActive: 409,
    RunAlreadyEnded: 409,
    RunNotResumable: 409,
    RunAlreadyResumed: 409,
    ReplayRunning: 409,
    RunStopping: 409,
    ConflictNotFound: 404,
    ConflictResolved: 409,
    BodyTooLarge: 413,
    BodyNotJson: 415,
}
# The statuses every route can answer before its own work: the caller, then the body as read.
COMMON_ERRORS = (400, 401, 403, 413, 415)
# An absurd body can be wrong in thousands of places; the answer names the first few.
MAX_DETAILS = 20
_BODY_ERRORS = {"missing": "the request needs a JSON object body"}


class ErrorAnswer(BaseModel):
    """Every error answer: what went wrong, and for a refused field its name and why."""

    message: str
    details: list[dict[str, Any]] | MISSING = MISSING


def status_of(err: Refused) -> int:
    return next(STATUS_OF[cls] for cls in type(err).__mro__ if cls in STATUS_OF)


def error_response(status: int, message: str, details: Sequence[Mapping[str, Any]] = ()) -> Response[Any]:
    body = ErrorAnswer(message=message, details=[dict(d) for d in details[:MAX_DETAILS]] or MISSING)
    return Response(status, content_types.APPLICATION_JSON, body.model_dump(mode="json"))


def refusal(err: Refused) -> Response[Any]:
    return error_response(status_of(err), err.message, _details(err))


def _details(err: Refused) -> list[dict[str, Any]]:
    if isinstance(err, RunActive):
        return [{"run_id": err.run_id}]
    if isinstance(err, RunAlreadyEnded | RunNotResumable):
        return [{"run_id": err.run_id, "status": err.status}]
    if isinstance(err, RunAlreadyResumed):
        return [{"run_id": err.run_id, "resumed_by": err.resumed_by}]
    return [{"field": p.field, "problem": p.problem} for p in err.problems]


def _problem(error: Mapping[str, Any]) -> FieldProblem:
    field = ".".join(str(part) for part in error["loc"][1:]) or "(body)"
    problem = str(error.get("msg", "")).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        problem = "is not a field of this record (or cannot be written)"
    elif error["type"] == "missing":
        problem = "is required"
    return FieldProblem(field, problem)


def invalid_request(err: RequestValidationError) -> Response[Any]:
    """Powertools' validation errors as our answer: 400 for the request's shape, 422 for a body field."""
    errors = list(err.errors())
    for error in errors:
        if error["type"] == "json_invalid":
            reason = error.get("ctx", {}).get("error", "not JSON")
            return error_response(400, f"the body is not valid JSON: {reason} at position {error['loc'][-1]}")
        if tuple(error["loc"]) == ("body",):
            return error_response(400, _BODY_ERRORS.get(error["type"], "the body must be a JSON object"))
    problems = [_problem(error) for error in errors]
    in_body = all(error["loc"][0] == "body" for error in errors)
    summary = "; ".join(f"'{p.field}': {p.problem}" for p in problems[:MAX_DETAILS])
    where = "the body" if in_body else "the request"
    return error_response(
        422 if in_body else 400,
        f"{where} is not acceptable: {summary}",
        [{"field": p.field, "problem": p.problem} for p in problems],
    )


def documented(
    status: int, model: type[BaseModel] | None, *errors: int, also: Sequence[int] = ()
) -> dict[int, OpenAPIResponse]:
    """A route's answers for the OpenAPI document: its success (and `also` other successes with the
    same model), then each error status it can give."""
    answers: dict[int, OpenAPIResponse] = {}
    for code in (status, *also):
        answers[code] = {"description": "done"}
        if model is not None:
            answers[code]["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    for code in sorted({*COMMON_ERRORS, *errors}):
        answers[code] = {
            "description": "refused (see message)",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorAnswer}},
        }
    return answers


def install(app: APIGatewayHttpResolver) -> None:
    """Register the answers on `app`: the only exception handlers of the admin API."""

    @app.exception_handler(Refused)
    def refused(err: Refused) -> Response[Any]:
        return refusal(err)

    @app.exception_handler(RequestValidationError)
    def not_valid(err: RequestValidationError) -> Response[Any]:
        return invalid_request(err)

    @app.exception_handler(RequestUnsupportedContentType)
    def not_json(_: RequestUnsupportedContentType) -> Response[Any]:
        # api/body.py refuses other types first; this is Powertools' stricter reading of the header.
        content_type = app.current_event.headers.get("content-type", "")
        return refusal(BodyNotJson(content_type))

    @app.exception_handler(ConfigError)
    def config_error(err: ConfigError) -> Response[Any]:
        logger.error("misconfigured", extra={"error": str(err)})
        return error_response(500, f"PCO Sync is misconfigured: {err}")

    @app.exception_handler(PcoSyncError)
    def domain_error(err: PcoSyncError) -> Response[Any]:
        logger.exception("request failed")
        return error_response(502, f"{type(err).__name__}: {err}")

    @app.exception_handler(Exception)
    def unexpected(err: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        request_id = app.current_event.request_context.request_id
        return error_response(500, f"internal error (request {request_id}); see the logs")

    @app.not_found
    def not_found(_: Exception) -> Response[Any]:
        event = app.current_event
        return error_response(404, f"no route {event.http_method} {event.path}")
