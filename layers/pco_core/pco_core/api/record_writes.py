"""Writes to /api/people, /api/families and group memberships: the church's own edits, which push sends."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.answers import documented
from pco_core.api.bodies import FamilyCreate, FamilyPatch, GroupMembershipPut, PersonCreate, PersonPatch
from pco_core.api.common import RecordId, services
from pco_core.api.record_edits import RecordEdits
from pco_core.records import Family, Group, Person

router = APIGatewayHttpRouter()


def _edits() -> RecordEdits:
    found = services()
    return RecordEdits(found.records, found.clock)


@router.post("/api/people", status_code=201, responses=documented(201, Person, 422))
def create_person(body: Annotated[PersonCreate, Body()]) -> Person:
    return _edits().create_person(body)


@router.patch("/api/people/<person_id>", responses=documented(200, Person, 404, 422))
def update_person(person_id: RecordId, body: Annotated[PersonPatch, Body()]) -> Person:
    return _edits().update_person(person_id, body)


@router.post("/api/families", status_code=201, responses=documented(201, Family, 422))
def create_family(body: Annotated[FamilyCreate, Body()]) -> Family:
    return _edits().create_family(body)


@router.patch("/api/families/<family_id>", responses=documented(200, Family, 404, 422))
def update_family(family_id: RecordId, body: Annotated[FamilyPatch, Body()]) -> Family:
    return _edits().update_family(family_id, body)


@router.put(
    "/api/groups/<group_id>/members/<person_id>",
    responses=documented(200, Group, 404, 422, also=(201,)),
    description="201 when the person joins the group, 200 when their role changes or stays",
)
def put_group_member(
    group_id: RecordId, person_id: RecordId, body: Annotated[GroupMembershipPut, Body()]
) -> Response[Group]:
    group, added = _edits().put_group_member(group_id, person_id, body.role)
    return Response(201 if added else 200, content_types.APPLICATION_JSON, group)


@router.delete("/api/groups/<group_id>/members/<person_id>", responses=documented(200, Group, 404))
def remove_group_member(group_id: RecordId, person_id: RecordId) -> Group:
    return _edits().remove_group_member(group_id, person_id)
