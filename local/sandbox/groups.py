"""Groups domain rules of the sandbox: groups (patch only through the API), group types and memberships."""

from __future__ import annotations

from typing import Any

from local.sandbox.data import Record, Store
from local.sandbox.jsonapi import not_found, validation_error
from local.sandbox.people import check_writable, publish
from local.sandbox.query import parse_time
from local.sandbox.resources import people_person_id

GROUP_WRITABLE = frozenset(
    {
        "name",
        "description",
        "schedule",
        "contact_email",
        "listed",
        "location_type_preference",
        "events_visibility",
    }
)
# PCO's UI may also archive, and create/delete groups, which the API cannot.
GROUP_ADMIN_WRITABLE = GROUP_WRITABLE | {"archived_at"}
MEMBERSHIP_CREATE = frozenset({"person_id", "role", "joined_at"})
MEMBERSHIP_WRITABLE = frozenset({"role", "joined_at"})
ROLES = ("member", "leader")


def _iso(value: Any, parameter: str) -> str | None:
    if value in (None, ""):
        return None
    return parse_time(str(value), parameter).strftime("%Y-%m-%dT%H:%M:%SZ")


class GroupsService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- groups and group types
    def create_group_type(self, attributes: dict[str, Any]) -> Record:
        with self.store.lock:
            if not attributes.get("name"):
                raise validation_error("name", "Name can't be blank", "GroupType")
            attrs = {"name": str(attributes["name"]), "description": attributes.get("description")}
            attrs["position"] = self.store.count("GroupType")
            return self.store.insert(Record("GroupType", self.store.new_id("GroupType"), attrs))

    def create_group(self, attributes: dict[str, Any], group_type_id: str) -> Record:
        with self.store.lock:
            self.store.get("GroupType", group_type_id)
            check_writable(attributes, GROUP_ADMIN_WRITABLE, "Group")
            if not attributes.get("name"):
                raise validation_error("name", "Name can't be blank", "Group")
            attrs = {**self._group_changes(attributes), "created_at": self.store.now()}
            attrs.setdefault("archived_at", None)
            record = self.store.insert(
                Record("Group", self.store.new_id("Group"), attrs, {"group_type": group_type_id})
            )
            publish(self.store, "created", record)
            return record

    def _group_changes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        changes = dict(attributes)
        if "archived_at" in changes:
            changes["archived_at"] = _iso(changes["archived_at"], "archived_at")
        if "listed" in changes:
            changes["listed"] = bool(changes["listed"])
        if "name" in changes and not changes["name"]:
            raise validation_error("name", "Name can't be blank", "Group")
        return changes

    def update_group(self, group_id: str, attributes: dict[str, Any], *, admin: bool = False) -> Record:
        with self.store.lock:
            record = self.store.get("Group", group_id)
            check_writable(attributes, GROUP_ADMIN_WRITABLE if admin else GROUP_WRITABLE, "Group")
            changed = {
                k: v for k, v in self._group_changes(attributes).items() if record.attributes.get(k) != v
            }
            if changed:  # groups have no updated_at in PCO
                record.attributes.update(changed)
                publish(self.store, "updated", record)
            return record

    def delete_group(self, group_id: str) -> None:
        with self.store.lock:
            record = self.store.get("Group", group_id)
            publish(self.store, "destroyed", record)
            for membership in self.store.children("Membership", "group", group_id):
                self.store.remove(membership)
            self.store.remove(record)

    # ---- memberships
    def _role(self, value: Any) -> str:
        if value not in ROLES:
            raise validation_error("role", "Role is not included in the list", "Membership")
        return str(value)

    def create_membership(
        self, group_id: str, attributes: dict[str, Any], *, people_ids: bool = False
    ) -> Record:
        """`person_id` is in the Groups API's id space unless `people_ids` (admin calls use People ids)."""
        check_writable(attributes, MEMBERSHIP_CREATE, "Membership")
        with self.store.lock:
            self.store.get("Group", group_id)
            raw = attributes.get("person_id")
            if raw in (None, ""):
                raise validation_error("person", "Person can't be blank", "Membership")
            person_id = str(raw) if people_ids else people_person_id(self.store, str(raw))
            if self.store.find("Person", person_id) is None:
                raise validation_error("person", "Person must exist", "Membership")
            if any(
                m.link("person") == person_id for m in self.store.children("Membership", "group", group_id)
            ):
                raise validation_error(
                    "person",
                    "Person can only have one active Membership to a Group at a time",
                    "Membership",
                )
            attrs = {
                "role": self._role(attributes.get("role", "member")),
                "joined_at": _iso(attributes.get("joined_at"), "joined_at") or self.store.now(),
            }
            record = self.store.insert(
                Record(
                    "Membership",
                    self.store.new_id("Membership"),
                    attrs,
                    {"group": group_id, "person": person_id},
                )
            )
            publish(self.store, "created", record)
            return record

    def membership(self, group_id: str, membership_id: str) -> Record:
        record = self.store.get("Membership", membership_id)
        if record.link("group") != group_id:
            raise not_found()
        return record

    def update_membership(self, group_id: str, membership_id: str, attributes: dict[str, Any]) -> Record:
        check_writable(attributes, MEMBERSHIP_WRITABLE, "Membership")
        with self.store.lock:
            record = self.membership(group_id, membership_id)
            changes: dict[str, Any] = {}
            if "role" in attributes:
                changes["role"] = self._role(attributes["role"])
            if "joined_at" in attributes:
                changes["joined_at"] = _iso(attributes["joined_at"], "joined_at")
            changed = {k: v for k, v in changes.items() if record.attributes.get(k) != v}
            if changed:
                record.attributes.update(changed)
                publish(self.store, "updated", record)
            return record

    def delete_membership(self, group_id: str, membership_id: str) -> None:
        with self.store.lock:
            record = self.membership(group_id, membership_id)
            publish(self.store, "destroyed", record)
            self.store.remove(record)
