"""PCO event payloads shaped as the sandbox's hub publishes them (data, included, meta.event_time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Resource = dict[str, Any]


def payload(
    data: Resource, included: list[Resource] | None = None, event_time: str = "2026-03-01T12:00:00Z"
) -> str:
    document = {
        "data": data,
        "included": included or [],
        "meta": {
            "parent": {"id": "1", "type": "Organization"},
            "event_time": event_time,
            "idempotency_token": "t",
        },
    }
    return json.dumps(document, separators=(",", ":"))


def destroyed(resource: Resource) -> Resource:
    return {k: v for k, v in resource.items() if k != "attributes"}


def person(
    pco_id: str,
    first: str,
    last: str,
    updated_at: str,
    *,
    emails: Sequence[Resource] = (),
    phones: Sequence[Resource] = (),
    addresses: Sequence[Resource] = (),
    **attributes: Any,
) -> tuple[Resource, list[Resource]]:
    relationships: dict[str, Any] = {}
    for name, items in (("emails", emails), ("phone_numbers", phones), ("addresses", addresses)):
        if items:
            relationships[name] = {"data": [{"type": i["type"], "id": i["id"]} for i in items]}
    resource = {
        "type": "Person",
        "id": pco_id,
        "attributes": {"first_name": first, "last_name": last, "updated_at": updated_at, **attributes},
        "relationships": relationships,
    }
    return resource, [*emails, *phones, *addresses]


def _owned(type_: str, pco_id: str, person_id: str, updated_at: str, attributes: dict[str, Any]) -> Resource:
    return {
        "type": type_,
        "id": pco_id,
        "attributes": {**attributes, "updated_at": updated_at},
        "relationships": {"person": {"data": {"type": "Person", "id": person_id}}},
    }


def email(
    pco_id: str,
    person_id: str,
    address: str,
    *,
    primary: bool = False,
    updated_at: str = "2026-03-01T10:00:00Z",
) -> Resource:
    return _owned(
        "Email", pco_id, person_id, updated_at, {"address": address, "location": "Home", "primary": primary}
    )


def phone(
    pco_id: str,
    person_id: str,
    number: str,
    *,
    primary: bool = False,
    updated_at: str = "2026-03-01T10:00:00Z",
) -> Resource:
    return _owned(
        "PhoneNumber",
        pco_id,
        person_id,
        updated_at,
        {"number": number, "location": "Mobile", "primary": primary},
    )


def address(
    pco_id: str, person_id: str, street: str, city: str, *, updated_at: str = "2026-03-01T10:00:00Z"
) -> Resource:
    return _owned(
        "Address",
        pco_id,
        person_id,
        updated_at,
        {
            "street_line_1": street,
            "city": city,
            "state": "OR",
            "zip": "97201",
            "location": "Home",
            "primary": True,
        },
    )


def household(pco_id: str, name: str, people: list[str], primary: str | None, updated_at: str) -> Resource:
    relationships: dict[str, Any] = {"people": {"data": [{"type": "Person", "id": p} for p in people]}}
    if primary is not None:
        relationships["primary_contact"] = {"data": {"type": "Person", "id": primary}}
    return {
        "type": "Household",
        "id": pco_id,
        "attributes": {"name": name, "updated_at": updated_at},
        "relationships": relationships,
    }


def group(pco_id: str, name: str) -> Resource:
    return {"type": "Group", "id": pco_id, "attributes": {"name": name}, "relationships": {}}


def membership(pco_id: str, group_id: str, person_id: str, role: str = "member") -> Resource:
    return {
        "type": "Membership",
        "id": pco_id,
        "attributes": {"role": role, "joined_at": "2026-01-05T00:00:00Z"},
        "relationships": {
            "group": {"data": {"type": "Group", "id": group_id}},
            "person": {"data": {"type": "Person", "id": person_id}},
        },
    }


def merger(pco_id: str, keep: str, remove: str) -> Resource:
    # Webhook merger payloads carry the ids as JSON numbers.
    return {
        "type": "PersonMerger",
        "id": pco_id,
        "attributes": {
            "person_to_keep_id": int(keep),
            "person_to_remove_id": int(remove),
            "created_at": "2026-03-01T12:00:00Z",
        },
        "relationships": {},
    }
