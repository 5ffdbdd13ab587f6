"""The admin API resolver: its routers, the order every request goes through, and its OpenAPI document.

Every request, whatever its route: services for the request → authorisation (401/403) → the body's
shape (api/body.py) → Powertools' validation of path, query and body → the route → Powertools'
validation of the answer. Errors are answered in api/answers.py only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)

from pco_core.api import answers, conflicts, connection, record_writes, records, runs, schedule, webhooks
from pco_core.api.auth import authorise
from pco_core.api.body import read_body
from pco_core.api.common import SERVICES, serve_with
from pco_core.api.services import AdminServices

OPENAPI_PATH = "/api/openapi.json"
TITLE = "PCO Sync admin API"
JSON = content_types.APPLICATION_JSON
VERSION = "1"
POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def create_app(services_factory: Callable[[], AdminServices]) -> APIGatewayHttpResolver:
    """The resolver; `services_factory` is called per request (cache it in the handler)."""
    # Powertools' own validation middlewares, placed by hand: with enable_validation=True the resolver
    # puts request validation before every middleware, so a caller without a token or without
    # pco.manage would be told what a body lacks instead of 401/403.
    app = APIGatewayHttpResolver()

    def provide_services(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        return serve_with(SERVICES, services_factory(), app, next_middleware)

    app.use(
        middlewares=[
            provide_services,
            authorise,
            read_body,
            OpenAPIRequestValidationMiddleware(),
            # A wrong answer is our bug: a 500, never a 422 blaming the request.
            OpenAPIResponseValidationMiddleware(has_response_validation_error=True),
        ]
    )
    routers = (runs, schedule, records, record_writes, connection, webhooks, conflicts)
    for router in (module.router for module in routers):
        app.include_router(router)

    @cache
    def document() -> str:
        # Built on the first request for it, never at import: it costs more than a cold start should.
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        schema = app.get_openapi_schema(
            title=TITLE,
            version=VERSION,
            description="Every route needs a bearer JWT whose roles grant pco.manage. Errors: ErrorAnswer.",
            security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
            security=[{"bearer": []}],
        )
        # Powertools adds its own validation error shapes; every error here is answered as ErrorAnswer.
        if schema.components is not None and schema.components.schemas is not None:
            for unused in POWERTOOLS_ERROR_SCHEMAS:
                schema.components.schemas.pop(unused, None)
        return schema.model_dump_json(by_alias=True, exclude_none=True)

    described = answers.documented(200, None)
    described[200] = {"description": "this document", "content": {JSON: {"schema": {"type": "object"}}}}

    @app.get(OPENAPI_PATH, responses=described)
    def openapi_document() -> Response[str]:
        return Response(200, JSON, document())

    answers.install(app)
    return app
