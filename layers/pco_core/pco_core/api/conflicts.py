"""/api/conflicts: fields both sides changed differently since the last sync, and an admin's choice."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, ValidationError, model_validator

from pco_core.api.answers import documented
from pco_core.api.bodies import AddressBody, EmailBody, PersonPatch, PhoneBody, RequestBody
from pco_core.api.common import Cursor, RecordId, services
from pco_core.conflicts import ConflictResolver
from pco_core.errors import ConflictNotFound, FieldProblem, InvalidRecord
from pco_core.records import PERSON_SCALARS, LoggedConflict

router = APIGatewayHttpRouter()

_ITEM_BODIES: dict[str, type[EmailBody] | type[PhoneBody] | type[AddressBody]] = {
    "emails": EmailBody,
    "phones": PhoneBody,
    "addresses": AddressBody,
}


class ConflictPage(BaseModel):
    """One page of conflicts, newest first; `next_cursor` fetches the next one and is null on the last."""

    items: list[LoggedConflict]
    next_cursor: str | None


class ResolveBody(RequestBody):
    """`{"keep": "local"}`, `{"keep": "pco"}`, or `{"value": ...}` (checked as a write of that field)."""

    keep: Literal["local", "pco"] | None = None
    value: Any = Field(default=None)

    @model_validator(mode="after")
    def _one_choice(self) -> ResolveBody:
        if (self.keep is None) == ("value" not in self.model_fields_set):
            raise ValueError('send either "keep" ("local" or "pco") or "value"')
        return self


@router.get("/api/conflicts", responses=documented(200, ConflictPage))
def list_conflicts(
    status: Annotated[Literal["open", "resolved"], Query(description="open (default) or resolved")] = "open",
    limit: Annotated[int, Query(ge=1, le=100, description="how many conflicts, 1 to 100")] = 50,
    cursor: Cursor = None,
) -> ConflictPage:
    items, next_cursor = services().records.list_conflicts(status, limit, cursor)
    return ConflictPage(items=items, next_cursor=next_cursor)


@router.post("/api/conflicts/<conflict_id>/resolve", responses=documented(200, LoggedConflict, 404, 409, 422))
def resolve_conflict(conflict_id: RecordId, body: Annotated[ResolveBody, Body()]) -> LoggedConflict:
    found = services()
    value = body.value
    if body.keep is None:
        logged = found.records.get_conflict(conflict_id)
        if logged is None:
            raise ConflictNotFound(conflict_id)
        value = _validated(logged.field, value)
    return ConflictResolver(found.records, found.clock).resolve(conflict_id, keep=body.keep, value=value)


def _validated(field: str, value: Any) -> Any:
    """A value of the admin's own, checked as a record write of that field would be."""
    try:
        if field in PERSON_SCALARS:
            patch = PersonPatch.model_validate({field: value})
            return patch.model_dump(mode="json")[field]
        if value is None:
            return None  # removes that email, phone or address
        item: RequestBody = _ITEM_BODIES[field.partition(":")[0]].model_validate(value)
        return item.model_dump(mode="json")
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(["value", *(str(p) for p in err["loc"][1:])]), str(err["msg"]))
            for err in exc.errors(include_url=False)
        ]
        raise InvalidRecord.of(problems) from None
