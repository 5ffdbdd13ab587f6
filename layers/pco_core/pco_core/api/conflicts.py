"""/api/conflicts: fields both sides changed differently since the last sync, and an admin's choice."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field, model_validator

from pco_core.api.bodies import AddressBody, EmailBody, PersonPatch, PhoneBody, RequestBody, parse_body
from pco_core.api.common import caller, int_param, json_body, json_response, services
from pco_core.conflicts import ConflictResolver
from pco_core.errors import BadRequest, NotFound
from pco_core.records import PERSON_SCALARS, ConflictStatus

router = APIGatewayHttpRouter()

_ITEM_BODIES: dict[str, type[EmailBody] | type[PhoneBody] | type[AddressBody]] = {
    "emails": EmailBody,
    "phones": PhoneBody,
    "addresses": AddressBody,
}


class ResolveBody(RequestBody):
    """Either `{"keep": "local"|"pco"}` or `{"value": ...}` (validated as a record write of that field)."""

    keep: Literal["local", "pco"] | None = None
    value: Any = Field(default=None)

    @model_validator(mode="after")
    def _one_choice(self) -> ResolveBody:
        if (self.keep is None) == ("value" not in self.model_fields_set):
            raise ValueError('send either "keep" ("local" or "pco") or "value"')
        return self


@router.get("/api/conflicts")
def list_conflicts() -> Response[Any]:
    caller(router)
    asked = router.current_event.get_query_string_value("status") or "open"
    statuses: dict[str, ConflictStatus] = {"open": "open", "resolved": "resolved"}
    if asked not in statuses:
        raise BadRequest("'status' must be 'open' or 'resolved'")
    limit = int_param(router, "limit", default=50, low=1, high=100)
    cursor = router.current_event.get_query_string_value("cursor")
    items, next_cursor = services(router).records.list_conflicts(statuses[asked], limit, cursor)
    return json_response(
        200, {"items": [c.model_dump(mode="json") for c in items], "next_cursor": next_cursor}
    )


@router.post("/api/conflicts/<conflict_id>/resolve")
def resolve_conflict(conflict_id: str) -> Response[Any]:
    caller(router)
    found = services(router)
    body = parse_body(ResolveBody, json_body(router))
    value = body.value
    if body.keep is None:
        logged = found.records.get_conflict(conflict_id)
        if logged is None:
            raise NotFound(f"no conflict with id '{conflict_id}'")
        value = _validated(logged.field, value)
    resolver = ConflictResolver(found.records, found.clock)
    resolved = resolver.resolve(conflict_id, keep=body.keep, value=value)
    return json_response(200, resolved.model_dump(mode="json"))


def _validated(field: str, value: Any) -> Any:
    """A value of one's own, checked as a record write of that field would be."""
    if field in PERSON_SCALARS:
        patch = parse_body(PersonPatch, {field: value})
        return patch.model_dump(mode="json")[field]
    kind = field.partition(":")[0]
    if value is None:
        return None
    body: RequestBody = parse_body(_ITEM_BODIES[kind], value)
    return body.model_dump(mode="json")
