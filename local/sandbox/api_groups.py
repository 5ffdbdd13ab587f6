"""The Groups API (/groups/v2) routes. Groups cannot be created or deleted through the API (405)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, Response, request

from local.sandbox import resources
from local.sandbox.api_people import listing_response, organization, single_response
from local.sandbox.data import Record, Store
from local.sandbox.groups import GroupsService
from local.sandbox.jsonapi import json_response, read_document
from local.sandbox.query import ListSpec

# Groups 2023-07-10 `where[archive_status]`: not_archived (the default), only, include (PCO_API.md, from
# PCO's docs). Like any value PCO cannot apply, another one is ignored: the default list is answered.
ARCHIVE_STATUSES = ("not_archived", "only", "include")


def _archive_status(records: list[Record], value: str) -> list[Record]:
    value = value.casefold()
    if value == "include":
        return records
    archived = value == "only"
    return [r for r in records if bool(r.attributes.get("archived_at")) == archived]


def _not_archived_unless_asked(records: list[Record]) -> list[Record]:
    """PCO lists only groups that are not archived unless where[archive_status] names a known value."""
    asked = request.args.get("where[archive_status]", "").casefold()
    if asked in ARCHIVE_STATUSES:
        return records  # the where[] filter narrows them
    return [r for r in records if not r.attributes.get("archived_at")]


def _group_type_of(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    kind = store.find("GroupType", record.link("group_type"))
    return [resources.group_type(store, kind, base)] if kind else []


def _membership_person(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    person = store.find("Person", record.link("person"))
    return [resources.groups_person(store, person, base)] if person else []


def _membership_group(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    group = store.find("Group", record.link("group"))
    return [resources.group(store, group, base)] if group else []


GROUPS = ListSpec(
    can_order_by=("created_at", "memberships_count", "name"),
    can_query_by=("name", "archive_status"),
    can_include=("enrollment", "group_type", "location"),
    includers={"group_type": _group_type_of},
    renderer=resources.group,
    special_where={"archive_status": _archive_status},
)
GROUP_TYPES = ListSpec(
    can_order_by=("name", "position"),
    can_query_by=("name",),
    renderer=resources.group_type,
)


def _member_name(part: str) -> Callable[[Store, Record], Any]:
    def name(store: Store, record: Record) -> Any:
        person = store.find("Person", record.link("person"))
        return person.attributes.get(part) if person else None

    return name


MEMBERSHIPS = ListSpec(
    can_order_by=("first_name", "joined_at", "last_name", "role"),
    derived={"first_name": _member_name("first_name"), "last_name": _member_name("last_name")},
    can_query_by=("role",),
    can_include=("group", "person"),
    includers={"person": _membership_person, "group": _membership_group},
    renderer=resources.membership,
)
GROUPS_PEOPLE = ListSpec(
    can_order_by=("first_name", "last_name"),
    can_query_by=("first_name", "last_name"),
    renderer=resources.groups_person,
)


def groups_blueprint(store: Store) -> Blueprint:
    bp = Blueprint("groups_v2", __name__, url_prefix="/groups/v2")
    service = GroupsService(store)

    listing = partial(listing_response, store)
    single = partial(single_response, store)

    @bp.get("")
    def org() -> Response:
        return json_response(organization(store, "/groups/v2"))

    @bp.get("/groups")
    def list_groups() -> Response:
        return listing(_not_archived_unless_asked(store.all("Group")), GROUPS)

    @bp.get("/groups/<group_id>")
    def get_group(group_id: str) -> Response:
        return single(store.get("Group", group_id), GROUPS)

    @bp.patch("/groups/<group_id>")
    def update_group(group_id: str) -> Response:
        store.get("Group", group_id)
        attributes, _ = read_document(request.get_data(), "Group")
        return single(service.update_group(group_id, attributes), GROUPS)

    @bp.get("/group_types")
    def list_group_types() -> Response:
        return listing(store.all("GroupType"), GROUP_TYPES)

    @bp.get("/group_types/<type_id>")
    def get_group_type(type_id: str) -> Response:
        return single(store.get("GroupType", type_id), GROUP_TYPES)

    @bp.get("/group_types/<type_id>/groups")
    def group_type_groups(type_id: str) -> Response:
        store.get("GroupType", type_id)
        records = _not_archived_unless_asked(store.children("Group", "group_type", type_id))
        return listing(records, GROUPS, {"id": type_id, "type": "GroupType"})

    def group_parent(group_id: str) -> dict[str, str]:
        return {"id": group_id, "type": "Group"}

    @bp.get("/groups/<group_id>/memberships")
    def list_memberships(group_id: str) -> Response:
        store.get("Group", group_id)
        return listing(store.children("Membership", "group", group_id), MEMBERSHIPS, group_parent(group_id))

    @bp.post("/groups/<group_id>/memberships")
    def create_membership(group_id: str) -> Response:
        store.get("Group", group_id)
        attributes, _ = read_document(request.get_data(), "Membership")
        record = service.create_membership(group_id, attributes)
        return single(record, MEMBERSHIPS, 201, group_parent(group_id))

    @bp.get("/groups/<group_id>/memberships/<membership_id>")
    def get_membership(group_id: str, membership_id: str) -> Response:
        return single(service.membership(group_id, membership_id), MEMBERSHIPS, 200, group_parent(group_id))

    @bp.patch("/groups/<group_id>/memberships/<membership_id>")
    def update_membership(group_id: str, membership_id: str) -> Response:
        service.membership(group_id, membership_id)
        attributes, _ = read_document(request.get_data(), "Membership")
        record = service.update_membership(group_id, membership_id, attributes)
        return single(record, MEMBERSHIPS, 200, group_parent(group_id))

    @bp.delete("/groups/<group_id>/memberships/<membership_id>")
    def delete_membership(group_id: str, membership_id: str) -> Response:
        service.delete_membership(group_id, membership_id)
        return Response(status=204)

    @bp.get("/people")
    def list_people() -> Response:
        return listing(store.all("Person"), GROUPS_PEOPLE)

    @bp.get("/people/<groups_person_id>")
    def get_person(groups_person_id: str) -> Response:
        person_id = resources.people_person_id(store, groups_person_id)
        return single(store.get("Person", person_id or ""), GROUPS_PEOPLE)

    return bp
