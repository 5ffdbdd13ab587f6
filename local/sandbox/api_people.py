"""The People API (/people/v2) routes: thin wrappers over the store, PeopleService and the list engine."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, request

from local.sandbox import resources
from local.sandbox.data import Record, Store
from local.sandbox.jsonapi import json_response, read_document
from local.sandbox.people import PeopleService
from local.sandbox.query import ListSpec, list_document, one_document

ORG_PARENT = {"id": "1", "type": "Organization"}
PERSON_INCLUDES = (
    "addresses",
    "emails",
    "field_data",
    "households",
    "inactive_reason",
    "marital_status",
    "name_prefix",
    "name_suffix",
    "organization",
    "person_apps",
    "phone_numbers",
    "platform_notifications",
    "primary_campus",
    "school",
    "social_profiles",
)
PERSON_ORDER = (
    "accounting_administrator",
    "anniversary",
    "birthdate",
    "child",
    "created_at",
    "first_name",
    "gender",
    "given_name",
    "grade",
    "graduation_year",
    "inactivated_at",
    "last_name",
    "membership",
    "middle_name",
    "nickname",
    "people_permissions",
    "remote_id",
    "site_administrator",
    "status",
    "updated_at",
)
CONTACT_PATHS = {"emails": "Email", "phone_numbers": "PhoneNumber", "addresses": "Address"}


def _children_of(kind: str, renderer: resources.Renderer) -> Any:
    def include(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
        return [renderer(store, r, base, frozenset()) for r in store.children(kind, "person", record.id)]

    return include


def _households_of(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    found = []
    for member in store.children("HouseholdMembership", "person", record.id):
        household = store.find("Household", member.link("household"))
        if household is not None:
            found.append(resources.household(store, household, base))
    return found


def _people_of(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    found = []
    for member in store.children("HouseholdMembership", "household", record.id):
        person = store.find("Person", member.link("person"))
        if person is not None:
            found.append(resources.person(store, person, base))
    return found


def _member_person(store: Store, record: Record, base: str) -> list[dict[str, Any]]:
    person = store.find("Person", record.link("person"))
    return [resources.person(store, person, base)] if person else []


PEOPLE = ListSpec(
    can_order_by=PERSON_ORDER,
    can_query_by=(*PERSON_ORDER, "id"),
    datetime_attrs=("created_at", "updated_at", "inactivated_at"),
    can_include=PERSON_INCLUDES,
    # Named in meta as PCO names them; the sandbox does not apply `filter=`.
    can_filter=("created_since", "admins", "organization_admins"),
    includers={
        "emails": _children_of("Email", resources.email),
        "phone_numbers": _children_of("PhoneNumber", resources.phone_number),
        "addresses": _children_of("Address", resources.address),
        "households": _households_of,
    },
    renderer=resources.person,
)
# Orders, queries and includes as real collections list them (vrwarp/pcomirror tests/golden
# emails_collection, phone_numbers_collection, addresses_collection, households_collection): contacts
# include nothing, and addresses can be ordered by updated_at but not queried by it.
ADDRESS_QUERY = ("city", "state", "zip", "country_code", "location", "primary")
ADDRESS_LINES = ("street_line_1", "street_line_2")
CONTACT_SPECS = {
    "Email": ListSpec(
        can_order_by=("address", "location", "primary", "created_at", "updated_at"),
        can_query_by=("address", "location", "primary", "created_at", "updated_at", "blocked"),
        datetime_attrs=("created_at", "updated_at"),
        renderer=resources.email,
    ),
    "PhoneNumber": ListSpec(
        can_order_by=("number", "carrier", "location", "primary", "created_at", "updated_at"),
        can_query_by=("number", "carrier", "location", "primary", "created_at", "updated_at"),
        datetime_attrs=("created_at", "updated_at"),
        renderer=resources.phone_number,
    ),
    "Address": ListSpec(
        can_order_by=(*ADDRESS_QUERY, "created_at", "updated_at", *ADDRESS_LINES),
        can_query_by=(*ADDRESS_QUERY, *ADDRESS_LINES),
        renderer=resources.address,
    ),
}
HOUSEHOLDS = ListSpec(
    can_order_by=("name", "member_count", "primary_contact_name", "created_at", "updated_at"),
    can_query_by=("name", "member_count", "primary_contact_name", "created_at", "updated_at"),
    datetime_attrs=("created_at", "updated_at"),
    can_include=("people",),
    includers={"people": _people_of},
    renderer=resources.household,
)
HOUSEHOLD_MEMBERSHIPS = ListSpec(
    can_order_by=("pending",),
    can_query_by=("pending",),
    can_include=("person",),
    includers={"person": _member_person},
    renderer=resources.household_membership,
)
PERSON_MERGERS = ListSpec(
    can_order_by=("created_at",),
    can_query_by=("person_to_keep_id", "person_to_remove_id"),
    renderer=resources.person_merger,
)


def base_url() -> str:
    return request.host_url.rstrip("/")


def organization(store: Store, path: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "Organization",
            "id": "1",
            "attributes": {
                "name": store.settings.organization_name,
                "country_code": "US",
                "date_format": "%m/%d/%Y",
                "time_zone": store.settings.time_zone,
                "created_at": "2015-01-01T00:00:00Z",
            },
            "links": {"self": base_url() + path},
        },
        "included": [],
        "meta": {},
    }


def listing_response(
    store: Store, records: list[Record], spec: ListSpec, parent: dict[str, str] = ORG_PARENT
) -> Response:
    """A paged JSON:API list of `records` for the current request (per_page, offset, order, include...)."""
    with store.lock:
        document = list_document(
            store,
            records,
            base=base_url(),
            path=request.path,
            args=request.args,
            spec=spec,
            parent=parent,
        )
    return json_response(document)


def single_response(
    store: Store, record: Record, spec: ListSpec, status: int = 200, parent: dict[str, str] = ORG_PARENT
) -> Response:
    """One JSON:API resource for the current request (with its includes)."""
    with store.lock:
        document = one_document(store, record, base=base_url(), args=request.args, spec=spec, parent=parent)
    return json_response(document, status)


def people_blueprint(store: Store) -> Blueprint:
    bp = Blueprint("people_v2", __name__, url_prefix="/people/v2")
    service = PeopleService(store)

    listing = partial(listing_response, store)
    single = partial(single_response, store)

    def no_content() -> Response:
        return Response(status=204)

    @bp.get("")
    def org() -> Response:
        return json_response(organization(store, "/people/v2"))

    @bp.get("/me")
    def me() -> Response:
        people = sorted(store.all("Person"), key=lambda r: int(r.id))
        return single(people[0] if people else store.get("Person", "0"), PEOPLE)

    # ---- people
    @bp.get("/people")
    def list_people() -> Response:
        return listing(store.all("Person"), PEOPLE)

    @bp.post("/people")
    def create_person() -> Response:
        attributes, _ = read_document(request.get_data(), "Person")
        return single(service.create_person(attributes), PEOPLE, 201)

    @bp.get("/people/<person_id>")
    def get_person(person_id: str) -> Response:
        return single(store.get("Person", person_id), PEOPLE)

    @bp.patch("/people/<person_id>")
    def update_person(person_id: str) -> Response:
        store.get("Person", person_id)
        attributes, _ = read_document(request.get_data(), "Person")
        return single(service.update_person(person_id, attributes), PEOPLE)

    @bp.delete("/people/<person_id>")
    def delete_person(person_id: str) -> Response:
        service.delete_person(person_id)
        return no_content()

    # ---- emails, phone numbers, addresses (nested under a person and top level)
    def person_parent(person_id: str) -> dict[str, str]:
        return {"id": person_id, "type": "Person"}

    @bp.get("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>")
    def list_person_contacts(person_id: str, sub: str) -> Response:
        kind = CONTACT_PATHS[sub]
        store.get("Person", person_id)
        return listing(
            store.children(kind, "person", person_id), CONTACT_SPECS[kind], person_parent(person_id)
        )

    @bp.post("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>")
    def create_contact(person_id: str, sub: str) -> Response:
        kind = CONTACT_PATHS[sub]
        store.get("Person", person_id)
        attributes, _ = read_document(request.get_data(), kind)
        record = service.create_contact(kind, person_id, attributes)
        return single(record, CONTACT_SPECS[kind], 201, person_parent(person_id))

    @bp.get("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def get_person_contact(person_id: str, sub: str, contact_id: str) -> Response:
        kind = CONTACT_PATHS[sub]
        return single(
            service.contact(kind, contact_id, person_id), CONTACT_SPECS[kind], 200, person_parent(person_id)
        )

    @bp.patch("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def update_person_contact(person_id: str, sub: str, contact_id: str) -> Response:
        kind = CONTACT_PATHS[sub]
        service.contact(kind, contact_id, person_id)
        attributes, _ = read_document(request.get_data(), kind)
        record = service.update_contact(kind, contact_id, attributes, person_id=person_id)
        return single(record, CONTACT_SPECS[kind], 200, person_parent(person_id))

    @bp.delete("/people/<person_id>/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def delete_person_contact(person_id: str, sub: str, contact_id: str) -> Response:
        service.delete_contact(CONTACT_PATHS[sub], contact_id, person_id=person_id)
        return no_content()

    @bp.get("/<any(emails, phone_numbers, addresses):sub>")
    def list_contacts(sub: str) -> Response:
        kind = CONTACT_PATHS[sub]
        return listing(store.all(kind), CONTACT_SPECS[kind])

    @bp.get("/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def get_contact(sub: str, contact_id: str) -> Response:
        kind = CONTACT_PATHS[sub]
        return single(service.contact(kind, contact_id), CONTACT_SPECS[kind])

    @bp.patch("/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def update_contact(sub: str, contact_id: str) -> Response:
        kind = CONTACT_PATHS[sub]
        service.contact(kind, contact_id)
        attributes, _ = read_document(request.get_data(), kind)
        return single(service.update_contact(kind, contact_id, attributes), CONTACT_SPECS[kind])

    @bp.delete("/<any(emails, phone_numbers, addresses):sub>/<contact_id>")
    def delete_contact(sub: str, contact_id: str) -> Response:
        service.delete_contact(CONTACT_PATHS[sub], contact_id)
        return no_content()

    # ---- households
    @bp.get("/people/<person_id>/households")
    def person_households(person_id: str) -> Response:
        store.get("Person", person_id)
        ids = [m.link("household") for m in store.children("HouseholdMembership", "person", person_id)]
        records = [h for h in (store.find("Household", i) for i in ids) if h is not None]
        return listing(records, HOUSEHOLDS, person_parent(person_id))

    @bp.get("/people/<person_id>/household_memberships")
    def person_household_memberships(person_id: str) -> Response:
        store.get("Person", person_id)
        records = store.children("HouseholdMembership", "person", person_id)
        return listing(records, HOUSEHOLD_MEMBERSHIPS, person_parent(person_id))

    @bp.get("/households")
    def list_households() -> Response:
        return listing(store.all("Household"), HOUSEHOLDS)

    @bp.post("/households")
    def create_household() -> Response:
        attributes, relationships = read_document(request.get_data(), "Household")
        return single(service.create_household(attributes, relationships), HOUSEHOLDS, 201)

    @bp.get("/households/<household_id>")
    def get_household(household_id: str) -> Response:
        return single(store.get("Household", household_id), HOUSEHOLDS)

    @bp.patch("/households/<household_id>")
    def update_household(household_id: str) -> Response:
        store.get("Household", household_id)
        attributes, _ = read_document(request.get_data(), "Household")
        return single(service.update_household(household_id, attributes), HOUSEHOLDS)

    @bp.delete("/households/<household_id>")
    def delete_household(household_id: str) -> Response:
        service.delete_household(household_id)
        return no_content()

    @bp.get("/households/<household_id>/people")
    def household_people(household_id: str) -> Response:
        store.get("Household", household_id)
        ids = [m.link("person") for m in store.children("HouseholdMembership", "household", household_id)]
        records = [p for p in (store.find("Person", i) for i in ids) if p is not None]
        return listing(records, PEOPLE, {"id": household_id, "type": "Household"})

    def household_parent(household_id: str) -> dict[str, str]:
        return {"id": household_id, "type": "Household"}

    @bp.get("/households/<household_id>/household_memberships")
    def list_household_memberships(household_id: str) -> Response:
        store.get("Household", household_id)
        records = store.children("HouseholdMembership", "household", household_id)
        return listing(records, HOUSEHOLD_MEMBERSHIPS, household_parent(household_id))

    @bp.post("/households/<household_id>/household_memberships")
    def create_household_membership(household_id: str) -> Response:
        store.get("Household", household_id)
        attributes, relationships = read_document(request.get_data(), "HouseholdMembership")
        record = service.add_household_member(household_id, attributes, relationships)
        return single(record, HOUSEHOLD_MEMBERSHIPS, 201, household_parent(household_id))

    @bp.get("/households/<household_id>/household_memberships/<membership_id>")
    def get_household_membership(household_id: str, membership_id: str) -> Response:
        record = service.household_membership(household_id, membership_id)
        return single(record, HOUSEHOLD_MEMBERSHIPS, 200, household_parent(household_id))

    @bp.patch("/households/<household_id>/household_memberships/<membership_id>")
    def update_household_membership(household_id: str, membership_id: str) -> Response:
        service.household_membership(household_id, membership_id)
        attributes, _ = read_document(request.get_data(), "HouseholdMembership")
        record = service.update_household_membership(household_id, membership_id, attributes)
        return single(record, HOUSEHOLD_MEMBERSHIPS, 200, household_parent(household_id))

    @bp.delete("/households/<household_id>/household_memberships/<membership_id>")
    def delete_household_membership(household_id: str, membership_id: str) -> Response:
        service.remove_household_member(household_id, membership_id)
        return no_content()

    # ---- person mergers (read only, as in PCO)
    @bp.get("/person_mergers")
    def list_person_mergers() -> Response:
        return listing(store.all("PersonMerger"), PERSON_MERGERS)

    @bp.get("/person_mergers/<merger_id>")
    def get_person_merger(merger_id: str) -> Response:
        return single(store.get("PersonMerger", merger_id), PERSON_MERGERS)

    return bp
