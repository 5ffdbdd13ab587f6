"""The admin API resolver: its routers and the one place domain errors become HTTP answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from pco_core.api import conflicts, connection, record_writes, records, runs, webhooks
from pco_core.api.common import json_response
from pco_core.api.services import AdminServices
from pco_core.errors import ApiError, ConfigError, PcoSyncError
from pco_core.observability import logger


def create_app(services_factory: Callable[[], AdminServices]) -> APIGatewayHttpResolver:
    """The resolver; `services_factory` is called per request (cache it in the handler)."""
    app = APIGatewayHttpResolver()

    def provide_services(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        app.append_context(services=services_factory())
        return next_middleware(app)

    app.use(middlewares=[provide_services])
    app.include_router(runs.router)
    app.include_router(records.router)
    app.include_router(record_writes.router)
    app.include_router(connection.router)
    app.include_router(webhooks.router)
    app.include_router(conflicts.router)

    @app.exception_handler(ApiError)
    def api_error(err: ApiError) -> Response[Any]:
        body: dict[str, Any] = {"message": err.message}
        if err.details:
            body["details"] = err.details
        return json_response(err.status, body)

    @app.exception_handler(ConfigError)
    def config_error(err: ConfigError) -> Response[Any]:
        logger.error("misconfigured", extra={"error": str(err)})
        return json_response(500, {"message": f"PCO Sync is misconfigured: {err}"})

    @app.exception_handler(PcoSyncError)
    def domain_error(err: PcoSyncError) -> Response[Any]:
        logger.exception("request failed")
        return json_response(502, {"message": f"{type(err).__name__}: {err}"})

    @app.exception_handler(Exception)
    def unexpected(err: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        request_id = app.current_event.request_context.request_id
        return json_response(500, {"message": f"internal error (request {request_id}); see the logs"})

    @app.not_found
    def not_found(_: Exception) -> Response[Any]:
        return json_response(
            404, {"message": f"no route {app.current_event.http_method} {app.current_event.path}"}
        )

    return app
