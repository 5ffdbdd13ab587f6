"""People domain rules of the sandbox: what PCO lets a write change, and the side effects it has.

Used by both the People API routes and the /_sandbox admin routes (which play PCO's own UI).
Every change publishes the webhook event PCO would send.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from local.sandbox import versions
from local.sandbox.data import Record, Store
from local.sandbox.jsonapi import forbidden_attribute, not_found, validation_error
from local.sandbox.query import parse_time
from local.sandbox.resources import event_resource

PERSON_WRITABLE = frozenset(
    {
        "given_name",
        "first_name",
        "nickname",
        "middle_name",
        "last_name",
        "birthdate",
        "anniversary",
        "gender",
        "grade",
        "child",
        "graduation_year",
        "membership",
        "inactivated_at",
        "status",
        "medical_notes",
        "avatar",
        "primary_campus_id",
        "gender_id",
        "remote_id",
        "site_administrator",
        "accounting_administrator",
        "people_permissions",
    }
)
# Accepted by PCO but not modelled by the sandbox: taken and dropped.
PERSON_IGNORED = frozenset({"primary_campus_id", "gender_id"})
PERSON_STRINGS = ("given_name", "first_name", "nickname", "middle_name", "last_name", "membership")
PERSON_STRINGS_EXTRA = ("medical_notes", "avatar", "people_permissions")

CONTACT_WRITABLE = {
    "Email": frozenset({"address", "location", "primary"}),
    "PhoneNumber": frozenset({"number", "carrier", "location", "primary"}),
}
# People 2025-11-10's Address docs list these as assignable, and not `street` (PCO_API.md); a real
# 2018-08-01 address carries `street` and no country (billdeitrick/pypco cassettes).
ADDRESS_WRITABLE_LINES = frozenset(
    {"street_line_1", "street_line_2", "city", "state", "zip", "country_code", "location", "primary"}
)
ADDRESS_WRITABLE_STREET = frozenset({"street", "city", "state", "zip", "location", "primary"})
CONTACT_DEFAULT_LOCATION = {"Email": "Home", "PhoneNumber": "Mobile", "Address": "Home"}
HOUSEHOLD_WRITABLE = frozenset({"name", "member_count", "avatar", "primary_contact_id"})
EVENT_NAMES = {
    "Person": "people.v2.events.person",
    "Email": "people.v2.events.email",
    "PhoneNumber": "people.v2.events.phone_number",
    "Address": "people.v2.events.address",
    "Household": "people.v2.events.household",
    "PersonMerger": "people.v2.events.person_merger",
    "Group": "groups.v2.events.group",
    "Membership": "groups.v2.events.membership",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def publish(store: Store, action: str, record: Record, *, as_sent: dict[str, Any] | None = None) -> None:
    """Send `<product>.v2.events.<thing>.<action>` for `record` (destroyed: no attributes, as PCO).
    `as_sent` overrides attributes where PCO's event says something else than the record holds."""
    prefix = EVENT_NAMES.get(record.type)
    if prefix is None:  # e.g. HouseholdMembership: PCO has no such events
        return
    resource = event_resource(store, record)
    if action == "destroyed":
        resource = {k: v for k, v in resource.items() if k != "attributes"}
    elif as_sent:
        resource["attributes"] = {**resource["attributes"], **as_sent}
    store.publish(f"{prefix}.{action}", resource, [])


def contact_writable(kind: str) -> frozenset[str]:
    """What an API write may assign on a contact, in the request's People version."""
    if kind != "Address":
        return CONTACT_WRITABLE[kind]
    return ADDRESS_WRITABLE_LINES if versions.address_lines() else ADDRESS_WRITABLE_STREET


def check_writable(attributes: dict[str, Any], writable: frozenset[str], resource: str) -> None:
    for name in attributes:
        if name not in writable:
            raise forbidden_attribute(name, resource)


def _date_or_none(value: Any) -> str | None:
    """PCO accepts a date it cannot read and stores null (birthdate "not-a-date")."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def _int_or_none(value: Any, name: str, resource: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise validation_error(name, f"{name} is not a number", resource)
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise validation_error(name, f"{name} is not a number", resource) from err


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in ("true", "1", "yes")
    return bool(value)


def _gender(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().casefold()
    if text in ("m", "male"):
        return "M"
    if text in ("f", "female"):
        return "F"
    raise validation_error("gender", "Gender is not included in the list", "Person")


def _string(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


class PeopleService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- people
    def _person_changes(self, record_attrs: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name, value in attributes.items():
            if name in PERSON_IGNORED:
                continue
            if name in PERSON_STRINGS or name in PERSON_STRINGS_EXTRA:
                changes[name] = _string(value)
            elif name in ("birthdate", "anniversary"):
                changes[name] = _date_or_none(value)
            elif name == "gender":
                changes[name] = _gender(value)
            elif name in ("grade", "graduation_year", "remote_id"):
                changes[name] = _int_or_none(value, name, "Person")
            elif name in ("child", "site_administrator", "accounting_administrator"):
                changes[name] = _bool(value)
            elif name in ("status", "inactivated_at"):
                continue  # below, together
            else:
                changes[name] = value
        if "status" in attributes:
            inactive = str(attributes["status"]).casefold() == "inactive"
            changes["status"] = "inactive" if inactive else "active"
            if inactive:
                already = record_attrs.get("status") == "inactive" and record_attrs.get("inactivated_at")
                changes["inactivated_at"] = already or self.store.now()
            else:
                changes["inactivated_at"] = None
        elif "inactivated_at" in attributes:
            value = attributes["inactivated_at"]
            if value in (None, ""):
                changes.update(inactivated_at=None, status="active")
            else:
                moment = parse_time(str(value), "inactivated_at")
                changes.update(inactivated_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"), status="inactive")
        return changes

    def create_person(self, attributes: dict[str, Any], *, admin: bool = False) -> Record:
        if not admin:
            check_writable(attributes, PERSON_WRITABLE, "Person")
        with self.store.lock:
            changes = self._person_changes({}, attributes)
            if not (changes.get("first_name") or "").strip() and not (changes.get("last_name") or "").strip():
                raise validation_error("first_name", "First name can't be blank", "Person")
            now = self.store.now()
            attrs = {"status": "active", "child": False, **changes, "created_at": now, "updated_at": now}
            record = self.store.insert(Record("Person", self.store.new_id("Person"), attrs))
            publish(self.store, "created", record)
            return record

    def update_person(self, person_id: str, attributes: dict[str, Any], *, admin: bool = False) -> Record:
        with self.store.lock:
            record = self.store.get("Person", person_id)
            if not admin:
                check_writable(attributes, PERSON_WRITABLE, "Person")
            changes = self._person_changes(record.attributes, attributes)
            changed = {k: v for k, v in changes.items() if record.attributes.get(k) != v}
            if changed:
                record.attributes.update(changed)
                record.attributes["updated_at"] = self.store.now()
                publish(self.store, "updated", record)
            return record

    def touch_people(self, person_ids: list[str], at: str | None = None) -> str:
        """A bulk edit in PCO's UI: every person gets the same `updated_at` second (`at`, default now) and
        its person.updated event, so a page of one second can be more than a page long. Returns the time."""
        moment = self.store.now() if at is None else parse_time(at, "at").strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.store.lock:
            records = [self.store.get("Person", person_id) for person_id in person_ids]
            for record in records:
                record.attributes["updated_at"] = moment
                publish(self.store, "updated", record)
        return moment

    def delete_person(self, person_id: str) -> None:
        with self.store.lock:
            record = self.store.get("Person", person_id)
            publish(self.store, "destroyed", record)
            for kind in ("Email", "PhoneNumber", "Address"):
                for child in self.store.children(kind, "person", person_id):
                    self.store.remove(child)
            for member in self.store.children("HouseholdMembership", "person", person_id):
                self._drop_household_member(member)
            for membership in self.store.children("Membership", "person", person_id):
                self.store.remove(membership)
            self.store.remove(record)

    # ---- emails, phone numbers, addresses
    def _contact_changes(self, kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name, value in attributes.items():
            if name == "primary":
                changes[name] = _bool(value)
            elif name == "street":
                lines = (str(value) if value is not None else "").split("\n", 1)
                changes["street_line_1"] = lines[0] or None
                changes["street_line_2"] = lines[1] if len(lines) > 1 else None
            else:
                changes[name] = _string(value)
        if kind == "Email" and "address" in changes:
            value = (changes["address"] or "").strip()
            if not value:
                raise validation_error("address", "Address can't be blank", "Email")
            if not _EMAIL.match(value):
                raise validation_error("address", "Address is invalid", "Email")
            changes["address"] = value
        if kind == "PhoneNumber" and "number" in changes and not (changes["number"] or "").strip():
            raise validation_error("number", "Number can't be blank", "PhoneNumber")
        return changes

    def _demote_others(self, record: Record) -> None:
        # PCO quirk: the demoted records keep their updated_at and send no event.
        for other in self.store.children(record.type, "person", record.link("person") or ""):
            if other.id != record.id and other.attributes.get("primary"):
                other.attributes["primary"] = False

    def create_contact(
        self, kind: str, person_id: str, attributes: dict[str, Any], *, admin: bool = False
    ) -> Record:
        if not admin:
            check_writable(attributes, contact_writable(kind), kind)
        with self.store.lock:
            self.store.get("Person", person_id)
            required = {"Email": "address", "PhoneNumber": "number"}.get(kind)
            if required and required not in attributes:
                raise validation_error(required, f"{required.capitalize()} can't be blank", kind)
            changes = self._contact_changes(kind, attributes)
            siblings = self.store.children(kind, "person", person_id)
            if "primary" not in changes:
                changes["primary"] = not any(s.attributes.get("primary") for s in siblings)
            now = self.store.now()
            attrs = {
                "location": CONTACT_DEFAULT_LOCATION[kind],
                **changes,
                "created_at": now,
                "updated_at": now,
            }
            if kind == "Email":
                attrs.setdefault("blocked", False)
            record = self.store.insert(Record(kind, self.store.new_id(kind), attrs, {"person": person_id}))
            if attrs["primary"]:
                self._demote_others(record)
            # A person's first email is made primary after PCO sends its event, which says primary
            # false (developers#1181); the record then reads primary true, and no update event follows.
            first_email = kind == "Email" and "primary" not in attributes and attrs["primary"]
            publish(self.store, "created", record, as_sent={"primary": False} if first_email else None)
            return record

    def contact(self, kind: str, contact_id: str, person_id: str | None = None) -> Record:
        record = self.store.get(kind, contact_id)
        if person_id is not None and record.link("person") != person_id:
            raise not_found()
        return record

    def update_contact(
        self,
        kind: str,
        contact_id: str,
        attributes: dict[str, Any],
        *,
        person_id: str | None = None,
        admin: bool = False,
    ) -> Record:
        with self.store.lock:
            record = self.contact(kind, contact_id, person_id)
            if not admin:
                check_writable(attributes, contact_writable(kind), kind)
            # PCO ignores a PATCH to null on these (#815)
            changes = {k: v for k, v in self._contact_changes(kind, attributes).items() if v is not None}
            changed = {k: v for k, v in changes.items() if record.attributes.get(k) != v}
            if changed:
                record.attributes.update(changed)
                record.attributes["updated_at"] = self.store.now()
                if changed.get("primary"):
                    self._demote_others(record)
                publish(self.store, "updated", record)
            return record

    def delete_contact(self, kind: str, contact_id: str, *, person_id: str | None = None) -> None:
        with self.store.lock:
            record = self.contact(kind, contact_id, person_id)
            publish(self.store, "destroyed", record)
            self.store.remove(record)

    # ---- households
    def _person_ref(self, relationships: dict[str, Any], name: str, resource: str) -> str:
        data = (relationships.get(name) or {}).get("data") if isinstance(relationships, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise validation_error(name, f"{name.replace('_', ' ').capitalize()} can't be blank", resource)
        person_id = str(data["id"])
        if self.store.find("Person", person_id) is None:
            raise validation_error(name, f"{name.replace('_', ' ').capitalize()} must exist", resource)
        return person_id

    def create_household(
        self, attributes: dict[str, Any], relationships: dict[str, Any], *, admin: bool = False
    ) -> Record:
        if not admin:
            check_writable(attributes, HOUSEHOLD_WRITABLE, "Household")
        with self.store.lock:
            people = (
                (relationships.get("people") or {}).get("data") if isinstance(relationships, dict) else None
            )
            if not isinstance(people, list) or not people:
                raise validation_error("people", "People can't be blank", "Household")
            people_ids: list[str] = []
            for item in people:
                pid = str(item.get("id")) if isinstance(item, dict) else ""
                if self.store.find("Person", pid) is None:
                    raise validation_error("people", f"Person {pid} must exist", "Household")
                if pid not in people_ids:
                    people_ids.append(pid)
            contact_id = self._person_ref(relationships, "primary_contact", "Household")
            if contact_id not in people_ids:
                raise validation_error(
                    "primary_contact", "Primary contact must be one of the household's people", "Household"
                )
            contact = self.store.get("Person", contact_id)
            now = self.store.now()
            name = attributes.get("name") or f"{contact.attributes.get('last_name') or ''} Household".strip()
            attrs = {"name": name, "created_at": now, "updated_at": now}
            if attributes.get("avatar"):
                attrs["avatar"] = str(attributes["avatar"])
            record = self.store.insert(
                Record("Household", self.store.new_id("Household"), attrs, {"primary_contact": contact_id})
            )
            for pid in people_ids:
                self._add_member(record, pid, pending=False)
            publish(self.store, "created", record)
            return record

    def update_household(
        self, household_id: str, attributes: dict[str, Any], *, admin: bool = False
    ) -> Record:
        with self.store.lock:
            record = self.store.get("Household", household_id)
            if not admin:
                check_writable(attributes, HOUSEHOLD_WRITABLE, "Household")
            changed = False
            if "name" in attributes and attributes["name"] != record.attributes.get("name"):
                if not attributes["name"]:
                    raise validation_error("name", "Name can't be blank", "Household")
                record.attributes["name"] = str(attributes["name"])
                changed = True
            if "avatar" in attributes and attributes["avatar"] != record.attributes.get("avatar"):
                record.attributes["avatar"] = attributes["avatar"]
                changed = True
            if "primary_contact_id" in attributes:
                contact_id = str(attributes["primary_contact_id"])
                member_ids = {
                    m.link("person")
                    for m in self.store.children("HouseholdMembership", "household", record.id)
                }
                if contact_id not in member_ids:
                    raise validation_error(
                        "primary_contact_id", "Primary contact must be a member of the household", "Household"
                    )
                if contact_id != record.link("primary_contact"):
                    self.store.relink(record, "primary_contact", contact_id)
                    changed = True
            if changed:
                record.attributes["updated_at"] = self.store.now()
                publish(self.store, "updated", record)
            return record

    def delete_household(self, household_id: str) -> None:
        with self.store.lock:
            record = self.store.get("Household", household_id)
            publish(self.store, "destroyed", record)
            for member in self.store.children("HouseholdMembership", "household", household_id):
                self.store.remove(member)
            self.store.remove(record)

    def _add_member(self, household: Record, person_id: str, *, pending: bool) -> Record:
        record = Record(
            "HouseholdMembership",
            self.store.new_id("HouseholdMembership"),
            {"pending": pending},
            {"household": household.id, "person": person_id},
        )
        return self.store.insert(record)

    def add_household_member(
        self, household_id: str, attributes: dict[str, Any], relationships: dict[str, Any]
    ) -> Record:
        check_writable(attributes, frozenset({"pending"}), "HouseholdMembership")
        with self.store.lock:
            household = self.store.get("Household", household_id)
            person_id = self._person_ref(relationships, "person", "HouseholdMembership")
            members = self.store.children("HouseholdMembership", "household", household_id)
            if any(m.link("person") == person_id for m in members):
                raise validation_error(
                    "person", "Person is already a member of this household", "HouseholdMembership"
                )
            member = self._add_member(household, person_id, pending=_bool(attributes.get("pending", False)))
            self._members_changed(household)
            return member

    def household_membership(self, household_id: str, membership_id: str) -> Record:
        record = self.store.get("HouseholdMembership", membership_id)
        if record.link("household") != household_id:
            raise not_found()
        return record

    def update_household_membership(
        self, household_id: str, membership_id: str, attributes: dict[str, Any]
    ) -> Record:
        check_writable(attributes, frozenset({"pending"}), "HouseholdMembership")
        with self.store.lock:
            record = self.household_membership(household_id, membership_id)
            if "pending" in attributes:
                record.attributes["pending"] = _bool(attributes["pending"])
            return record

    def remove_household_member(self, household_id: str, membership_id: str) -> None:
        with self.store.lock:
            self._drop_household_member(self.household_membership(household_id, membership_id))

    def _drop_household_member(self, member: Record) -> None:
        self.store.remove(member)
        household = self.store.find("Household", member.link("household"))
        if household is None:
            return
        if household.link("primary_contact") == member.link("person"):
            remaining = self.store.children("HouseholdMembership", "household", household.id)
            self.store.relink(
                household, "primary_contact", remaining[0].link("person") if remaining else None
            )
        self._members_changed(household)

    def _members_changed(self, household: Record) -> None:
        """PCO fires household.updated when members change (developers#708) but leaves the household's
        updated_at where it was (#1253)."""
        publish(self.store, "updated", household)

    # ---- merges (PCO's UI only; the API can read PersonMerger records)
    def merge(self, keep_id: str, remove_id: str) -> Record:
        with self.store.lock:
            if keep_id == remove_id:
                raise validation_error(
                    "person_to_remove_id", "Cannot merge a person into themselves", "PersonMerger"
                )
            keep = self.store.get("Person", keep_id)
            self.store.get("Person", remove_id)
            for kind in ("Email", "PhoneNumber", "Address"):
                # The kept person's primary stays primary; the removed person's becomes secondary.
                primary_exists = any(
                    c.attributes.get("primary") for c in self.store.children(kind, "person", keep_id)
                )
                for child in self.store.children(kind, "person", remove_id):
                    if primary_exists and child.attributes.get("primary"):
                        child.attributes["primary"] = False
                    self.store.relink(child, "person", keep_id)
            kept_households = {
                m.link("household") for m in self.store.children("HouseholdMembership", "person", keep_id)
            }
            for member in self.store.children("HouseholdMembership", "person", remove_id):
                if member.link("household") in kept_households:
                    self._drop_household_member(member)
                else:
                    self.store.relink(member, "person", keep_id)
                    household = self.store.find("Household", member.link("household"))
                    if household is not None:
                        if household.link("primary_contact") == remove_id:
                            self.store.relink(household, "primary_contact", keep_id)
                        self._members_changed(household)
            kept_groups = {m.link("group") for m in self.store.children("Membership", "person", keep_id)}
            for membership in self.store.children("Membership", "person", remove_id):
                if membership.link("group") in kept_groups:
                    self.store.remove(membership)
                else:
                    self.store.relink(membership, "person", keep_id)
            self.delete_person(remove_id)
            keep.attributes["updated_at"] = self.store.now()
            publish(self.store, "updated", keep)
            merger = self.store.insert(
                Record(
                    "PersonMerger",
                    self.store.new_id("PersonMerger"),
                    {
                        "person_to_keep_id": int(keep_id),
                        "person_to_remove_id": int(remove_id),
                        "created_at": self.store.now(),
                    },
                )
            )
            publish(self.store, "created", merger)
            return merger
