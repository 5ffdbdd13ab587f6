"""/api/people, /api/families, /api/groups: the church's records as PCO Sync holds them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.common import caller, int_param, json_response, services
from pco_core.errors import NotFound

router = APIGatewayHttpRouter()


def _page(items: list[Any], next_cursor: str | None) -> Response[Any]:
    return json_response(
        200, {"items": [item.model_dump(mode="json") for item in items], "next_cursor": next_cursor}
    )


def _paging() -> tuple[int, str | None]:
    return int_param(
        router, "limit", default=50, low=1, high=100
    ), router.current_event.get_query_string_value("cursor")


def _found(record: BaseModel | None, kind: str, record_id: str) -> Response[Any]:
    if record is None:
        raise NotFound(f"no {kind} with id '{record_id}'")
    return json_response(200, record.model_dump(mode="json"))


@router.get("/api/people")
def list_people() -> Response[Any]:
    caller(router)
    return _page(*services(router).records.list_people(*_paging()))


@router.get("/api/people/<person_id>")
def get_person(person_id: str) -> Response[Any]:
    caller(router)
    return _found(services(router).records.get_person(person_id), "person", person_id)


@router.get("/api/families")
def list_families() -> Response[Any]:
    caller(router)
    return _page(*services(router).records.list_families(*_paging()))


@router.get("/api/families/<family_id>")
def get_family(family_id: str) -> Response[Any]:
    caller(router)
    return _found(services(router).records.get_family(family_id), "family", family_id)


@router.get("/api/groups")
def list_groups() -> Response[Any]:
    caller(router)
    return _page(*services(router).records.list_groups(*_paging()))


@router.get("/api/groups/<group_id>")
def get_group(group_id: str) -> Response[Any]:
    caller(router)
    return _found(services(router).records.get_group(group_id), "group", group_id)
