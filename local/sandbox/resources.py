"""How each sandbox record is rendered as a PCO JSON:API resource (attributes, relationships, links)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.sandbox import versions
from local.sandbox.data import Record, Store

AVATAR = "https://people.planningcenteronline.com/static/no_photo_thumbnail_gray.png"

PERSON_DEFAULTS: dict[str, Any] = {
    "accounting_administrator": False,
    "anniversary": None,
    "avatar": AVATAR,
    "birthdate": None,
    "can_create_forms": False,
    "can_email_lists": False,
    "child": False,
    "created_at": None,
    "demographic_avatar_url": AVATAR,
    "directory_status": None,
    "first_name": None,
    "gender": None,
    "given_name": None,
    "grade": None,
    "graduation_year": None,
    "inactivated_at": None,
    "last_name": None,
    "login_identifier": None,
    "medical_notes": None,
    "membership": None,
    "middle_name": None,
    "name": None,
    "nickname": None,
    "passed_background_check": False,
    "people_permissions": None,
    "remote_id": None,
    "resource_permission_flags": None,
    "school_type": None,
    "site_administrator": False,
    "status": "active",
    "updated_at": None,
}

PATHS = {
    "Person": "/people/v2/people/{id}",
    "Email": "/people/v2/emails/{id}",
    "PhoneNumber": "/people/v2/phone_numbers/{id}",
    "Address": "/people/v2/addresses/{id}",
    "Household": "/people/v2/households/{id}",
    "HouseholdMembership": "/people/v2/households/{household}/household_memberships/{id}",
    "PersonMerger": "/people/v2/person_mergers/{id}",
    "GroupType": "/groups/v2/group_types/{id}",
    "Group": "/groups/v2/groups/{id}",
    "Membership": "/groups/v2/groups/{group}/memberships/{id}",
}

COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "MX": "Mexico"}


def ref(kind: str, record_id: str | None) -> dict[str, Any] | None:
    return None if record_id is None else {"type": kind, "id": record_id}


def self_link(base: str, record: Record) -> str:
    return base + PATHS[record.type].format(id=record.id, **{k: v or "" for k, v in record.links.items()})


def gender_out(store: Store, value: str | None) -> str | None:
    if value is None:
        return None
    if store.settings.gender_style == "short":
        return value
    return {"M": "Male", "F": "Female"}.get(value, value)


def full_name(person: Record) -> str:
    attrs = person.attributes
    first = attrs.get("nickname") or attrs.get("first_name") or ""
    return f"{first} {attrs.get('last_name') or ''}".strip()


def primary_of(store: Store, kind: str, person_id: str) -> Record | None:
    for record in store.children(kind, "person", person_id):
        if record.attributes.get("primary"):
            return record
    return None


# ---- People API
def person(store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    attrs = {**PERSON_DEFAULTS, **record.attributes}
    attrs["name"] = full_name(record)
    attrs["gender"] = gender_out(store, record.attributes.get("gender"))
    relationships: dict[str, Any] = {"primary_campus": {"data": None}}
    related = f"{self_link(base, record)}/{{}}"
    for name, kind in (("emails", "Email"), ("phone_numbers", "PhoneNumber"), ("addresses", "Address")):
        if name in includes:
            relationships[name] = {
                "data": [ref(kind, r.id) for r in store.children(kind, "person", record.id)],
                "links": {"related": related.format(name)},
            }
    if "households" in includes:
        relationships["households"] = {
            "data": [
                ref("Household", m.link("household"))
                for m in store.children("HouseholdMembership", "person", record.id)
            ],
            "links": {"related": related.format("households")},
        }
    return {
        "type": "Person",
        "id": record.id,
        "attributes": attrs,
        "relationships": relationships,
        "links": {"self": self_link(base, record)},
    }


def _contact(store: Store, record: Record, base: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": record.type,
        "id": record.id,
        "attributes": attrs,
        "relationships": {"person": {"data": ref("Person", record.link("person"))}},
        "links": {"self": self_link(base, record)},
    }


def email(store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    a = record.attributes
    attrs = {
        "address": a.get("address"),
        "blocked": a.get("blocked", False),
        "created_at": a.get("created_at"),
        "location": a.get("location"),
        "primary": bool(a.get("primary")),
        "updated_at": a.get("updated_at"),
    }
    return _contact(store, record, base, attrs)


def phone_formats(number: str, country_code: str) -> dict[str, str | None]:
    digits = "".join(ch for ch in number if ch.isdigit())
    if country_code in ("US", "CA") and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if country_code in ("US", "CA") and len(digits) == 10:
        return {
            "e164": f"+1{digits}",
            "international": f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}",
            "national": f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        }
    return {"e164": None, "international": None, "national": None}


def phone_number(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    a = record.attributes
    country = a.get("country_code") or "US"
    attrs = {
        "carrier": a.get("carrier"),
        "country_code": country,
        "created_at": a.get("created_at"),
        **phone_formats(a.get("number") or "", country),
        "location": a.get("location"),
        "number": a.get("number"),
        "primary": bool(a.get("primary")),
        "updated_at": a.get("updated_at"),
    }
    return _contact(store, record, base, attrs)


def address(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Before People 2023-03-21 an address has one `street` (lines joined by a newline) and no country;
    from then on `street_line_1`, `street_line_2`, `country_code` and `country_name`."""
    a = record.attributes
    line1, line2 = a.get("street_line_1"), a.get("street_line_2")
    attrs: dict[str, Any] = {
        "city": a.get("city"),
        "created_at": a.get("created_at"),
        "location": a.get("location"),
        "primary": bool(a.get("primary")),
        "state": a.get("state"),
        "updated_at": a.get("updated_at"),
        "zip": a.get("zip"),
    }
    if versions.address_lines():
        country = a.get("country_code") or "US"
        attrs.update(
            country_code=country,
            country_name=COUNTRY_NAMES.get(country, country),
            street_line_1=line1,
            street_line_2=line2,
        )
    else:
        attrs["street"] = "\n".join(part for part in (line1, line2) if part) or None
    return _contact(store, record, base, dict(sorted(attrs.items())))


def household(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    a = record.attributes
    members = store.children("HouseholdMembership", "household", record.id)
    contact = store.find("Person", record.link("primary_contact"))
    attrs = {
        "avatar": a.get("avatar", AVATAR),
        "created_at": a.get("created_at"),
        "member_count": len(members),
        "name": a.get("name"),
        "primary_contact_id": record.link("primary_contact"),
        "primary_contact_name": full_name(contact) if contact else None,
        "updated_at": a.get("updated_at"),
    }
    # Real households name their people whether or not they are included (webhook payloads too).
    relationships: dict[str, Any] = {
        "people": {"data": [ref("Person", m.link("person")) for m in members]},
        "primary_contact": {"data": ref("Person", record.link("primary_contact"))},
    }
    return {
        "type": "Household",
        "id": record.id,
        "attributes": attrs,
        "relationships": relationships,
        "links": {"self": self_link(base, record)},
    }


def household_membership(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    member = store.find("Person", record.link("person"))
    return {
        "type": "HouseholdMembership",
        "id": record.id,
        "attributes": {
            "pending": bool(record.attributes.get("pending", False)),
            "person_name": full_name(member) if member else None,
        },
        "relationships": {
            "household": {"data": ref("Household", record.link("household"))},
            "person": {"data": ref("Person", record.link("person"))},
        },
        "links": {"self": self_link(base, record)},
    }


def person_merger(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    a = record.attributes
    return {
        "type": "PersonMerger",
        "id": record.id,
        "attributes": {
            "created_at": a.get("created_at"),
            "person_to_keep_id": a.get("person_to_keep_id"),
            "person_to_remove_id": a.get("person_to_remove_id"),
        },
        "relationships": {
            "person_to_keep": {"data": ref("Person", str(a.get("person_to_keep_id")))},
            "person_to_remove": {"data": ref("Person", str(a.get("person_to_remove_id")))},
        },
        "links": {"self": self_link(base, record)},
    }


# ---- Groups API
def groups_person_id(store: Store, people_id: str) -> str:
    return str(int(people_id) + store.settings.groups_person_id_offset)


def people_person_id(store: Store, groups_id: str) -> str | None:
    try:
        return str(int(groups_id) - store.settings.groups_person_id_offset)
    except (TypeError, ValueError):
        return None


def group_type(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    a = record.attributes
    return {
        "type": "GroupType",
        "id": record.id,
        "attributes": {
            "church_center_visible": a.get("church_center_visible", True),
            "church_center_map_visible": a.get("church_center_map_visible", False),
            "color": a.get("color", "#4a8df8"),
            "default_group_settings": None,
            "description": a.get("description"),
            "name": a.get("name"),
            "position": a.get("position", 0),
        },
        "links": {"self": self_link(base, record)},
    }


def group(store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    a = record.attributes
    members = store.children("Membership", "group", record.id)
    return {
        "type": "Group",
        "id": record.id,
        "attributes": {
            "archived_at": a.get("archived_at"),
            "can_create_conversation": False,
            "chat_enabled": False,
            "contact_email": a.get("contact_email"),
            "created_at": a.get("created_at"),
            "description": a.get("description"),
            "events_visibility": a.get("events_visibility", "members"),
            "header_image": {"thumbnail": None, "medium": None, "original": None},
            "leaders_can_search_people_database": False,
            "listed": a.get("listed", True),
            "location_type_preference": a.get("location_type_preference", "physical"),
            "members_can_create_forum_topics": False,
            "memberships_count": len(members),
            "name": a.get("name"),
            "public_church_center_web_url": f"https://sandbox.churchcenter.com/groups/g/{record.id}",
            "schedule": a.get("schedule"),
            "virtual_location_url": None,
        },
        "relationships": {
            "group_type": {"data": ref("GroupType", record.link("group_type"))},
            "enrollment": {"data": ref("Enrollment", record.id)},
            "location": {"data": None},
        },
        "links": {"self": self_link(base, record)},
    }


def membership(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Groups 2023-07-10 keeps only `joined_at` and `role`; 2018-08-01 also copied the person's details."""
    a = record.attributes
    person_id = record.link("person")
    attrs: dict[str, Any] = {"joined_at": a.get("joined_at"), "role": a.get("role", "member")}
    if not versions.slim_memberships():
        member = store.find("Person", person_id)
        member_attrs = member.attributes if member else {}
        mail = primary_of(store, "Email", person_id) if person_id else None
        phone = primary_of(store, "PhoneNumber", person_id) if person_id else None
        attrs.update(
            account_center_identifier=person_id,
            avatar_url=member_attrs.get("avatar", AVATAR),
            color_identifier=0,
            email_address=mail.attributes.get("address") if mail else None,
            first_name=member_attrs.get("first_name"),
            last_name=member_attrs.get("last_name"),
            phone_number=phone.attributes.get("number") if phone else None,
        )
    return {
        "type": "Membership",
        "id": record.id,
        "attributes": dict(sorted(attrs.items())),
        "relationships": {
            "group": {"data": ref("Group", record.link("group"))},
            "person": {"data": ref("Person", groups_person_id(store, person_id) if person_id else None)},
        },
        "links": {"self": self_link(base, record)},
    }


def groups_person(
    store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A People person as the Groups API shows it (its own id space when the setting says so)."""
    a = record.attributes

    def contacts(kind: str, key: str) -> list[dict[str, Any]]:
        return [
            {
                key: r.attributes.get(key),
                "location": r.attributes.get("location"),
                "primary": r.attributes.get("primary"),
            }
            for r in store.children(kind, "person", record.id)
        ]

    groups_id = groups_person_id(store, record.id)
    return {
        "type": "Person",
        "id": groups_id,
        "attributes": {
            "addresses": [],
            "avatar_url": a.get("avatar", AVATAR),
            "birthdate": a.get("birthdate"),
            "child": bool(a.get("child", False)),
            "created_at": a.get("created_at"),
            "email_addresses": contacts("Email", "address"),
            "first_name": a.get("first_name"),
            "gender": gender_out(store, a.get("gender")),
            "last_name": a.get("last_name"),
            "permissions": "member",
            "phone_numbers": contacts("PhoneNumber", "number"),
            "status": a.get("status", "active"),
            "updated_at": a.get("updated_at"),
        },
        "links": {"self": f"{base}/groups/v2/people/{groups_id}"},
    }


Renderer = Callable[[Store, Record, str, frozenset[str]], dict[str, Any]]

PEOPLE_RENDERERS: dict[str, Renderer] = {
    "Person": person,
    "Email": email,
    "PhoneNumber": phone_number,
    "Address": address,
    "Household": household,
    "HouseholdMembership": household_membership,
    "PersonMerger": person_merger,
    "GroupType": group_type,
    "Group": group,
    "Membership": membership,
}


def render(store: Store, record: Record, base: str, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    return PEOPLE_RENDERERS[record.type](store, record, base, includes)


def event_resource(store: Store, record: Record) -> dict[str, Any]:
    """The resource a webhook event carries, with links on the sandbox's public URL, rendered in each
    product's latest version whatever version the request that caused it asked for."""
    with versions.latest_versions():
        return render(store, record, store.base_url)
