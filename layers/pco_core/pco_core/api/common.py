"""What every admin route reads of the request being served (the services, the verified caller) and
the path and query parameter types they share.

The services and the caller are context variables, set by the middlewares for one request: a route
never reads them from a router, whose context is that of whichever resolver included it last.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from pco_core.api.services import AdminServices
from pco_core.limits import CURSOR_MAX, ID_MAX

if TYPE_CHECKING:
    from pco_core.api.auth import Principal

SERVICES: ContextVar[AdminServices] = ContextVar("admin_services")
PRINCIPAL: ContextVar[Principal] = ContextVar("admin_principal")

# Ids are bounded like every other input: an id no record can have is refused before any lookup.
RecordId = Annotated[str, Path(min_length=1, max_length=ID_MAX)]
Cursor = Annotated[
    str | None,
    Query(max_length=CURSOR_MAX, description="the next_cursor of the previous page; none for the first"),
]


def services() -> AdminServices:
    return SERVICES.get()


def caller() -> Principal:
    """The verified caller the authorisation middleware set (it runs before any route)."""
    return PRINCIPAL.get()


def serve_with[T](
    variable: ContextVar[T], value: T, app: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """The rest of the request, with `variable` set to `value` while it is served."""
    token = variable.set(value)
    try:
        return next_middleware(app)
    finally:
        variable.reset(token)
