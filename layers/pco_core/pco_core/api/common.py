"""What every admin route reads from the request's context (the services, the verified caller) and
the path and query parameter types they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from pco_core.api.services import AdminServices
from pco_core.limits import CURSOR_MAX, ID_MAX

if TYPE_CHECKING:
    from pco_core.api.auth import Principal

SERVICES = "services"
PRINCIPAL = "principal"

# Ids are bounded like every other input: an id no record can have is refused before any lookup.
RecordId = Annotated[str, Path(min_length=1, max_length=ID_MAX)]
Cursor = Annotated[
    str | None,
    Query(max_length=CURSOR_MAX, description="the next_cursor of the previous page; none for the first"),
]


def services(router: BaseRouter) -> AdminServices:
    found: AdminServices = router.context[SERVICES]
    return found


def caller(router: BaseRouter) -> Principal:
    """The verified caller the authorisation middleware put in the context (it ran before any route)."""
    found: Principal = router.context[PRINCIPAL]
    return found
