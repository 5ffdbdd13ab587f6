"""/_sandbox: changes as church staff make them in PCO's own UI (no auth), plus health, settings and data.

Bodies are plain JSON objects of attributes (not JSON:API), e.g. POST /_sandbox/people
{"first_name": "Ana", "last_name": "Lee", "emails": [{"address": "ana@example.com"}]}.
Every change fires the webhook events PCO would fire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flask

from local.sandbox import resources
from local.sandbox.clock import FakeClock
from local.sandbox.groups import GroupsService
from local.sandbox.jsonapi import ApiError, bad_payload, json_response
from local.sandbox.people import PeopleService

if TYPE_CHECKING:
    from local.sandbox.app import Sandbox
    from local.sandbox.data import Record

CONTACT_PATHS = {"emails": "Email", "phone_numbers": "PhoneNumber", "addresses": "Address"}


def _body() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    if body is None and not flask.request.get_data():
        return {}
    if not isinstance(body, dict):
        raise bad_payload("The body must be a JSON object")
    return body


def admin_blueprint(sandbox: Sandbox) -> flask.Blueprint:
    bp = flask.Blueprint("sandbox_admin", __name__, url_prefix="/_sandbox")
    store = sandbox.store
    people = PeopleService(store)
    groups = GroupsService(store)

    def answer(record: Record, status: int = 200) -> flask.Response:
        with store.lock:
            return json_response(
                {"data": resources.render(store, record, flask.request.host_url.rstrip("/"))}, status
            )

    def gone() -> flask.Response:
        return flask.Response(status=204)

    @bp.get("/health")
    def health() -> flask.Response:
        counts = {kind: store.count(kind) for kind in ("Person", "Household", "Group", "Membership")}
        return json_response({"status": "ok", "counts": counts, "seed": sandbox.config.seed})

    @bp.get("/settings")
    def get_settings() -> flask.Response:
        return json_response(store.settings.as_json())

    @bp.route("/settings", methods=["PATCH", "POST"])
    def change_settings() -> flask.Response:
        try:
            store.settings.update(_body())
        except ValueError as err:
            raise ApiError(400, "Bad Request", str(err), code="invalid_setting") from err
        return json_response(store.settings.as_json())

    @bp.post("/reset")
    def reset() -> flask.Response:
        body = _body()
        try:
            count = int(body.get("people", sandbox.config.people))
            seed = int(body.get("seed", sandbox.config.seed))
        except (TypeError, ValueError) as err:
            raise bad_payload("people and seed must be integers") from err
        sandbox.regenerate(people=count, seed=seed)
        return health()

    @bp.get("/dataset")
    def dump_dataset() -> flask.Response:
        return json_response(store.dump())

    @bp.put("/dataset")
    def load_dataset() -> flask.Response:
        try:
            store.load(_body())
        except (ValueError, KeyError, TypeError) as err:
            raise ApiError(
                400, "Bad Request", f"not a sandbox dataset: {err}", code="invalid_dataset"
            ) from err
        return health()

    @bp.post("/clock/advance")
    def advance_clock() -> flask.Response:
        if not isinstance(sandbox.clock, FakeClock):
            raise ApiError(409, "Conflict", "the sandbox runs on the system clock", code="real_clock")
        sandbox.clock.advance(float(_body().get("seconds", 0)))
        return json_response({"now": sandbox.clock.now()})

    # ---- people and their contact details
    @bp.post("/people")
    def create_person() -> flask.Response:
        body = dict(_body())
        contacts = {path: body.pop(path, []) for path in CONTACT_PATHS}
        with store.lock:
            person = people.create_person(body, admin=True)
            for path, items in contacts.items():
                for item in items:
                    people.create_contact(CONTACT_PATHS[path], person.id, item, admin=True)
        return answer(person, 201)

    @bp.post("/people/touch")
    def touch_people() -> flask.Response:
        """{"ids": [...]} or {"count": N} (the first N by id), optional "at": one updated_at for all."""
        body = _body()
        with store.lock:
            if "ids" in body:
                ids = [str(i) for i in body["ids"]] if isinstance(body["ids"], list) else []
            else:
                try:
                    count = int(body.get("count", 0))
                except (TypeError, ValueError) as err:
                    raise bad_payload("count must be an integer") from err
                ids = sorted((r.id for r in store.all("Person")), key=int)[:count]
            at = body.get("at")
            moment = people.touch_people(ids, str(at) if at is not None else None)
        return json_response({"ids": ids, "updated_at": moment})

    @bp.patch("/people/<person_id>")
    def update_person(person_id: str) -> flask.Response:
        return answer(people.update_person(person_id, _body(), admin=True))

    @bp.delete("/people/<person_id>")
    def delete_person(person_id: str) -> flask.Response:
        people.delete_person(person_id)
        return gone()

    @bp.post("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>")
    def create_contact(person_id: str, sub: str) -> flask.Response:
        return answer(people.create_contact(CONTACT_PATHS[sub], person_id, _body(), admin=True), 201)

    @bp.patch("/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def update_contact(sub: str, contact_id: str) -> flask.Response:
        return answer(people.update_contact(CONTACT_PATHS[sub], contact_id, _body(), admin=True))

    @bp.delete("/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def delete_contact(sub: str, contact_id: str) -> flask.Response:
        people.delete_contact(CONTACT_PATHS[sub], contact_id)
        return gone()

    @bp.post("/person_mergers")
    def merge() -> flask.Response:
        body = _body()
        keep, remove = body.get("person_to_keep_id"), body.get("person_to_remove_id")
        if keep is None or remove is None:
            raise bad_payload("person_to_keep_id and person_to_remove_id are required")
        return answer(people.merge(str(keep), str(remove)), 201)

    # ---- households: {"name", "people": [ids], "primary_contact_id"}
    @bp.post("/households")
    def create_household() -> flask.Response:
        body = _body()
        member_ids = [str(i) for i in body.get("people", [])]
        relationships = {
            "people": {"data": [{"type": "Person", "id": i} for i in member_ids]},
            "primary_contact": {
                "data": {
                    "type": "Person",
                    "id": str(body.get("primary_contact_id") or (member_ids or [""])[0]),
                }
            },
        }
        attributes = {k: v for k, v in body.items() if k in ("name", "avatar")}
        return answer(people.create_household(attributes, relationships, admin=True), 201)

    @bp.patch("/households/<household_id>")
    def update_household(household_id: str) -> flask.Response:
        return answer(people.update_household(household_id, _body(), admin=True))

    @bp.delete("/households/<household_id>")
    def delete_household(household_id: str) -> flask.Response:
        people.delete_household(household_id)
        return gone()

    @bp.post("/households/<household_id>/members")
    def add_member(household_id: str) -> flask.Response:
        person_id = str(_body().get("person_id", ""))
        relationships = {"person": {"data": {"type": "Person", "id": person_id}}}
        return answer(people.add_household_member(household_id, {}, relationships), 201)

    @bp.delete("/households/<household_id>/members/<person_id>")
    def remove_member(household_id: str, person_id: str) -> flask.Response:
        with store.lock:
            members = store.children("HouseholdMembership", "household", household_id)
            member = next((m for m in members if m.link("person") == person_id), None)
            if member is None:
                raise ApiError(404, "Not Found", f"Person {person_id} is not in household {household_id}")
            people.remove_household_member(household_id, member.id)
        return gone()

    # ---- groups (the UI can create and delete them; the API cannot)
    @bp.post("/group_types")
    def create_group_type() -> flask.Response:
        return answer(groups.create_group_type(_body()), 201)

    @bp.post("/groups")
    def create_group() -> flask.Response:
        body = dict(_body())
        group_type_id = str(body.pop("group_type_id", ""))
        return answer(groups.create_group(body, group_type_id), 201)

    @bp.patch("/groups/<group_id>")
    def update_group(group_id: str) -> flask.Response:
        return answer(groups.update_group(group_id, _body(), admin=True))

    @bp.delete("/groups/<group_id>")
    def delete_group(group_id: str) -> flask.Response:
        groups.delete_group(group_id)
        return gone()

    @bp.post("/groups/<group_id>/memberships")
    def create_membership(group_id: str) -> flask.Response:
        """person_id here is the People id (staff pick a person, not a Groups id)."""
        return answer(groups.create_membership(group_id, _body(), people_ids=True), 201)

    @bp.patch("/groups/<group_id>/memberships/<membership_id>")
    def update_membership(group_id: str, membership_id: str) -> flask.Response:
        return answer(groups.update_membership(group_id, membership_id, _body()))

    @bp.delete("/groups/<group_id>/memberships/<membership_id>")
    def delete_membership(group_id: str, membership_id: str) -> flask.Response:
        groups.delete_membership(group_id, membership_id)
        return gone()

    return bp
