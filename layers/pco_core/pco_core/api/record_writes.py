"""Writes to /api/people, /api/families and group memberships: the church's own edits, which push sends."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.bodies import (
    FamilyCreate,
    FamilyPatch,
    GroupMembershipPut,
    PersonCreate,
    PersonPatch,
    RequestBody,
    parse_body,
)
from pco_core.api.common import caller, json_body, json_response, services
from pco_core.api.record_edits import RecordEdits

router = APIGatewayHttpRouter()


def _edits() -> RecordEdits:
    found = services(router)
    return RecordEdits(found.records, found.clock)


def _body[B: RequestBody](model: type[B]) -> B:
    return parse_body(model, json_body(router))


@router.post("/api/people")
def create_person() -> Response[Any]:
    caller(router)
    person = _edits().create_person(_body(PersonCreate))
    return json_response(201, person.model_dump(mode="json"))


@router.patch("/api/people/<person_id>")
def update_person(person_id: str) -> Response[Any]:
    caller(router)
    person = _edits().update_person(person_id, _body(PersonPatch))
    return json_response(200, person.model_dump(mode="json"))


@router.post("/api/families")
def create_family() -> Response[Any]:
    caller(router)
    family = _edits().create_family(_body(FamilyCreate))
    return json_response(201, family.model_dump(mode="json"))


@router.patch("/api/families/<family_id>")
def update_family(family_id: str) -> Response[Any]:
    caller(router)
    family = _edits().update_family(family_id, _body(FamilyPatch))
    return json_response(200, family.model_dump(mode="json"))


@router.put("/api/groups/<group_id>/members/<person_id>")
def put_group_member(group_id: str, person_id: str) -> Response[Any]:
    caller(router)
    body = _body(GroupMembershipPut)
    group, added = _edits().put_group_member(group_id, person_id, body.role)
    return json_response(201 if added else 200, group.model_dump(mode="json"))


@router.delete("/api/groups/<group_id>/members/<person_id>")
def remove_group_member(group_id: str, person_id: str) -> Response[Any]:
    caller(router)
    return json_response(200, _edits().remove_group_member(group_id, person_id).model_dump(mode="json"))
