"""/api/people, /api/families, /api/groups: the church's records as PCO Sync holds them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.answers import documented
from pco_core.api.common import Cursor, RecordId, services
from pco_core.errors import RecordNotFound
from pco_core.records import Family, Group, Person

router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=100, description="how many records, 1 to 100")]


class Page[R: Person | Family | Group](BaseModel):
    """One page of a list; `next_cursor` fetches the next one and is null on the last."""

    items: list[R]
    next_cursor: str | None


def _found[R: Person | Family | Group](record: R | None, kind: str, record_id: str) -> R:
    if record is None:
        raise RecordNotFound(kind, record_id)
    return record


@router.get("/api/people", responses=documented(200, Page[Person]))
def list_people(limit: Limit = 50, cursor: Cursor = None) -> Page[Person]:
    items, next_cursor = services().records.list_people(limit, cursor)
    return Page[Person](items=items, next_cursor=next_cursor)


@router.get("/api/people/<person_id>", responses=documented(200, Person, 404))
def get_person(person_id: RecordId) -> Person:
    return _found(services().records.get_person(person_id), "person", person_id)


@router.get("/api/families", responses=documented(200, Page[Family]))
def list_families(limit: Limit = 50, cursor: Cursor = None) -> Page[Family]:
    items, next_cursor = services().records.list_families(limit, cursor)
    return Page[Family](items=items, next_cursor=next_cursor)


@router.get("/api/families/<family_id>", responses=documented(200, Family, 404))
def get_family(family_id: RecordId) -> Family:
    return _found(services().records.get_family(family_id), "family", family_id)


@router.get("/api/groups", responses=documented(200, Page[Group]))
def list_groups(limit: Limit = 50, cursor: Cursor = None) -> Page[Group]:
    items, next_cursor = services().records.list_groups(limit, cursor)
    return Page[Group](items=items, next_cursor=next_cursor)


@router.get("/api/groups/<group_id>", responses=documented(200, Group, 404))
def get_group(group_id: RecordId) -> Group:
    return _found(services().records.get_group(group_id), "group", group_id)
