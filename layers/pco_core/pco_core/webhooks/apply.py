"""The webhook worker's logic: one queued PCO event merged into the records with the pull's own mapping,
matching and merge functions (sync/mapping.py, sync/matching.py), so a webhook and a pull agree.

Ordering: an event older than what a record already holds (PCO `updated_at`, or `meta.event_time` where PCO
has no `updated_at`) changes nothing, and a destroyed PCO record leaves a tombstone, so an `updated` that
arrives after its `destroyed` cannot bring it back. Echoes of our own pushes hash the same as the record's
`sync.pco_hash` and are skipped. Nothing is ever deleted: a destroyed person is marked inactive and unlinked.

Emails, phones and addresses: a local item is linked to its PCO item by `pco_id` (set by the pull, by
push from PCO's answers, and here), so an `updated` replaces the linked item and a `destroyed` (PCO sends no
attributes, only the person relationship) removes it. An item not linked yet is found by the value its PCO
id last had (the trail remembers each id's person and `contact_key` from earlier deliveries), else by the
new value. The trail also orders events per PCO item and keeps destroyed ones from coming back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from aws_lambda_powertools import Logger

from pco_core.clock import Clock
from pco_core.errors import SkippableRecordError
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.models import (
    PcoAddress,
    PcoEmail,
    PcoGroup,
    PcoHousehold,
    PcoMembership,
    PcoPerson,
    PcoPersonMerger,
    PcoPhone,
)
from pco_core.push.people import local_fields
from pco_core.records import Address, Email, Family, Group, GroupMember, Person, Phone
from pco_core.store.deliveries import SubRecordTrace, Tombstone
from pco_core.sync.families import FamilyLinks
from pco_core.sync.mapping import (
    Contact,
    GroupFields,
    contact_key,
    family_fields,
    group_member,
    merge_family,
    merge_group,
    merge_members,
    merge_person,
    person_fields,
)
from pco_core.sync.matching import PersonMatch
from pco_core.sync.ports import RecordWriter
from pco_core.webhooks.receive import QueuedDelivery, parse_payload

logger = Logger(child=True)

ApplyOutcome = Literal["applied", "skipped", "stale", "unknown"]
FINISHED: frozenset[str] = frozenset({"applied", "skipped", "stale", "unknown"})
ContactList = Literal["emails", "phones", "addresses"]


@dataclass(frozen=True)
class Applied:
    outcome: ApplyOutcome
    detail: str
    resource: str = ""
    """"<type> <id>" of the payload's resource, for the delivery log ("" when unreadable)."""


class WebhookTrailPort(Protocol):
    def tombstone(self, kind: str, pco_id: str) -> Tombstone | None: ...

    def bury(self, kind: str, pco_id: str, destroyed_at: datetime, record_id: str | None) -> None: ...

    def sub_record(self, type_: str, pco_id: str) -> SubRecordTrace | None: ...

    def trace_sub_record(self, type_: str, pco_id: str, trace: SubRecordTrace) -> None: ...


class DeliveryOutcomes(Protocol):
    def get(self, delivery_id: str) -> dict[str, object] | None: ...

    def finish(
        self, delivery_id: str, name: str, outcome: str, detail: str, at: datetime, *, resource: str = ""
    ) -> None: ...


def apply_queued(body: str, applier: WebhookApplier, log: DeliveryOutcomes) -> Applied:
    """One SQS message: the delivery applied once and its outcome logged. A message that is not a queued
    delivery raises (pydantic's ValidationError), so the batch reports it failed and SQS retries it,
    then moves it to the dead-letter queue."""
    message = QueuedDelivery.model_validate_json(body)
    logged = log.get(message.delivery_id)
    if logged is not None and logged.get("status") in FINISHED:
        # SQS delivers at least once: a second copy of a finished delivery changes nothing.
        return Applied("skipped", f"delivery already {logged.get('status')}")
    result = applier.apply(message.name, message.text(), message.delivery_id)
    log.finish(
        message.delivery_id,
        message.name,
        result.outcome,
        result.detail,
        applier.clock(),
        resource=result.resource,
    )
    logger.info(
        "webhook delivery applied",
        extra={"delivery_id": message.delivery_id, "event": message.name, "outcome": result.outcome},
    )
    return result


def event_subject(name: str) -> tuple[str, str]:
    """`people.v2.events.email.created` -> ("email", "created")."""
    tail = name.rsplit(".events.", 1)[-1]
    subject, _, action = tail.rpartition(".")
    return subject, action


def _event_time(document: Document) -> datetime | None:
    value = document.meta.get("event_time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _not_newer(incoming: datetime | None, held: datetime | None) -> bool:
    return incoming is not None and held is not None and incoming <= held


@dataclass(frozen=True)
class _SubRecordKind:
    pco_type: str
    attribute: ContactList


_SUB_RECORDS = {
    "email": _SubRecordKind("Email", "emails"),
    "phone_number": _SubRecordKind("PhoneNumber", "phones"),
    "address": _SubRecordKind("Address", "addresses"),
}


@dataclass
class WebhookApplier:
    """Applies one event; returns what it did for the delivery log."""

    records: RecordWriter
    trail: WebhookTrailPort
    clock: Clock

    def apply(self, name: str, payload: str, delivery_id: str) -> Applied:
        try:
            document, resource = parse_payload(payload)
        except ValueError as exc:
            return Applied("skipped", f"unreadable payload: {exc}")
        result = self._apply(name, document, resource, delivery_id)
        return replace(result, resource=f"{resource.type} {resource.id}")

    def _apply(self, name: str, document: Document, resource: Resource, delivery_id: str) -> Applied:
        subject, action = event_subject(name)
        if action not in {"created", "updated", "destroyed"}:
            return Applied("unknown", f"event {name} is not handled")
        event = _Event(
            document, resource, action, _event_time(document), f"webhook:{delivery_id}", self.clock()
        )
        try:
            if subject == "person":
                return self._person(event)
            if subject == "person_merger" and action == "created":
                return self._person_merger(event)
            if subject in _SUB_RECORDS:
                return self._sub_record(_SUB_RECORDS[subject], event)
            if subject == "household":
                return self._household(event)
            if subject == "group":
                return self._group(event)
            if subject == "membership":
                return self._membership(event)
        except SkippableRecordError as exc:
            return Applied("skipped", str(exc))
        return Applied("unknown", f"event {name} is not handled")

    # ---- people

    def _person(self, event: _Event) -> Applied:
        pco_id = event.resource.id
        if event.action == "destroyed":
            return self._person_destroyed(pco_id, event)
        if self.trail.tombstone("person", pco_id) is not None:
            return Applied("stale", f"PCO person {pco_id} was destroyed")
        pco = PcoPerson.from_resource(event.resource, event.document)
        existing = PersonMatch(self.records).match_page([pco])[pco.id]
        fields = person_fields(pco)
        if existing is not None:
            # A payload without a kind of sub-record says nothing about it: keep what we have.
            kept = local_fields(existing)
            keep = {
                attribute: getattr(kept, attribute)
                for attribute, relation in (
                    ("emails", "emails"),
                    ("phones", "phone_numbers"),
                    ("addresses", "addresses"),
                )
                if not event.document.related(event.resource, relation)
            }
            fields = fields.model_copy(update=keep)
            if existing.pco_id == pco.id and fields.content_hash() == existing.sync.pco_hash:
                return Applied("skipped", f"person {existing.id} already has PCO's values")
            if existing.pco_id == pco.id and _not_newer(pco.updated_at, existing.sync.pco_updated_at):
                return Applied("stale", f"person {existing.id} holds a newer PCO version")
        new, _ = merge_person(
            existing, fields, pco_id=pco.id, pco_updated_at=pco.updated_at, run_id=event.run_id, now=event.now
        )
        if new is not None:
            self.records.save_people([(new, existing)])
        # After the save, so a retry of a failed save is not taken for an already applied event.
        for kind, items in (
            ("Email", pco.emails),
            ("PhoneNumber", pco.phone_numbers),
            ("Address", pco.addresses),
        ):
            for item in items:
                self.trail.trace_sub_record(
                    kind, item.id, SubRecordTrace(pco.id, contact_key(item), item.updated_at)
                )
        if new is None:
            return Applied("skipped", "person unchanged")
        return Applied("applied", f"person {new.id} {'created' if existing is None else 'updated'}")

    def _person_destroyed(self, pco_id: str, event: _Event) -> Applied:
        existing = self.records.people_by_pco_ids([pco_id]).get(pco_id)
        self.trail.bury("person", pco_id, event.time or event.now, existing.id if existing else None)
        if existing is None:
            return Applied("unknown", f"PCO person {pco_id} is not linked to a local person")
        self.records.save_people([(_unlinked(existing, event.now), existing)])
        return Applied("applied", f"person {existing.id} marked inactive and unlinked")

    def _person_merger(self, event: _Event) -> Applied:
        merger = PcoPersonMerger.from_resource(event.resource, event.document)
        keep_id, remove_id = merger.person_to_keep_id, merger.person_to_remove_id
        found = self.records.people_by_pco_ids([keep_id, remove_id])
        keep, remove = found.get(keep_id), found.get(remove_id)
        if remove is None:
            # Its `destroyed` may have come first: the tombstone names the local record.
            tomb = self.trail.tombstone("person", remove_id)
            if tomb is not None and tomb.record_id is not None:
                remove = self.records.get_people([tomb.record_id]).get(tomb.record_id)
        if remove is None:
            return Applied("unknown", f"removed PCO person {remove_id} is not known locally")
        if keep is not None and keep.id == remove.id:
            return Applied("skipped", "both PCO people are one local person")
        self.trail.bury("person", remove_id, event.time or event.now, remove.id)
        if keep is None:
            # The kept PCO person has no local record: the removed one's record becomes it.
            relinked = remove.model_copy(
                update={
                    "pco_id": keep_id,
                    "updated_at": event.now,
                    "sync": remove.sync.model_copy(update={"pco_hash": None, "pco_updated_at": None}),
                }
            )
            self.records.save_people([(relinked, remove)])
            return Applied("applied", f"person {remove.id} relinked to kept PCO person {keep_id}")
        # The kept person takes the removed one's place in its family when it has none of its own.
        takes_family = keep.family_id is None and remove.family_id is not None
        merged = keep.model_copy(
            update={
                "emails": _union(keep.emails, remove.emails),
                "phones": _union(keep.phones, remove.phones),
                "addresses": _union(keep.addresses, remove.addresses),
                "family_id": remove.family_id if takes_family else keep.family_id,
                "updated_at": event.now,
            }
        )
        retired = _unlinked(remove, event.now)
        if takes_family:
            retired = retired.model_copy(update={"family_id": None})
        changes: list[tuple[Person, Person | None]] = [(merged, keep)]
        if retired != remove.model_copy(update={"updated_at": event.now}):
            changes.append((retired, remove))
        self.records.save_people(changes)
        # Idempotent from here on: a retry finds the family and groups already moved.
        if takes_family and remove.family_id is not None:
            self._hand_over_family(remove.family_id, remove.id, keep.id, event)
        moved = self._move_memberships(remove.id, keep.id, event)
        return Applied(
            "applied", f"person {remove.id} merged into {keep.id} ({moved} group memberships moved)"
        )

    def _hand_over_family(self, family_id: str, from_id: str, to_id: str, event: _Event) -> None:
        family = self.records.get_families([family_id]).get(family_id)
        if family is None or from_id not in family.member_ids:
            return
        members = [to_id if pid == from_id else pid for pid in family.member_ids]
        primary = to_id if family.primary_member_id == from_id else family.primary_member_id
        moved = family.model_copy(
            update={
                "member_ids": list(dict.fromkeys(members)),
                "primary_member_id": primary,
                "updated_at": event.now,
            }
        )
        self.records.save_families([(moved, family)])

    def _move_memberships(self, from_id: str, to_id: str, event: _Event) -> int:
        """Every group the removed person was in lists the kept one instead (the stronger role, the earlier
        join); the next memberships pull confirms it against PCO."""
        changes: list[tuple[Group, Group | None]] = []
        cursor: str | None = None
        while True:
            groups, cursor = self.records.list_groups(100, cursor)
            for group in groups:
                both = [m for m in group.members if m.person_id in (from_id, to_id)]
                if from_id not in {m.person_id for m in both}:
                    continue
                merged = group_member(
                    to_id,
                    "leader" if any(m.role == "leader" for m in both) else "member",
                    min((m.joined_at for m in both if m.joined_at is not None), default=None),
                )
                members = [m for m in group.members if m.person_id not in (from_id, to_id)] + [merged]
                new, _ = merge_members(group, members, run_id=event.run_id, now=event.now)
                if new is not None:
                    changes.append((new, group))
            if cursor is None:
                break
        if changes:
            self.records.save_groups(changes)
        return len(changes)

    # ---- emails, phone numbers, addresses

    def _sub_record(self, kind: _SubRecordKind, event: _Event) -> Applied:
        pco_id = event.resource.id
        trace = self.trail.sub_record(kind.pco_type, pco_id)
        if trace is not None and trace.destroyed_at is not None:
            if event.action == "destroyed":
                return Applied("skipped", f"PCO {kind.pco_type} {pco_id} already removed")
            return Applied("stale", f"PCO {kind.pco_type} {pco_id} was destroyed")
        # A destroyed one has no attributes; its person comes from its relationships or our trace.
        pco_item = _read_sub_record(kind, event)
        newer_seen = trace is not None and _not_newer(pco_item.updated_at, trace.updated_at)
        if event.action != "destroyed" and newer_seen:
            return Applied("stale", f"an equal or newer version of PCO {kind.pco_type} {pco_id} was applied")
        person_pco_id = pco_item.person_id or (trace.person_pco_id if trace else None)
        if person_pco_id is None:
            return Applied("unknown", f"PCO {kind.pco_type} {pco_id} names no person and was never seen")
        person = self.records.people_by_pco_ids([person_pco_id]).get(person_pco_id)
        # The value PCO's id stood for when we last saw it (a webhook), for items not yet linked by id.
        old_key = trace.match_key if trace is not None and trace.person_pco_id == person_pco_id else None

        if event.action == "destroyed":
            done = SubRecordTrace(person_pco_id, old_key or (), None, destroyed_at=event.time or event.now)
            result = Applied("unknown", f"PCO person {person_pco_id} is not linked locally")
            if person is not None:
                current: list[Contact] = list(getattr(person, kind.attribute))
                position = _position(current, pco_id, old_key)
                if position is None:
                    result = Applied("unknown", f"PCO {kind.pco_type} {pco_id} is not linked locally")
                else:
                    del current[position]
                    result = self._save_contacts(person, kind.attribute, current, event)
            # Traced only once the person is saved: a retry after a failed save must not find it done.
            self.trail.trace_sub_record(kind.pco_type, pco_id, done)
            return result

        local = _local_contact(pco_item)
        if local is None:
            return Applied("skipped", f"PCO {kind.pco_type} {pco_id} has no value")
        new_key = contact_key(local)
        done = SubRecordTrace(person_pco_id, new_key, pco_item.updated_at)
        if person is None:
            self.trail.trace_sub_record(kind.pco_type, pco_id, done)
            return Applied("unknown", f"PCO person {person_pco_id} is not linked locally")
        current = list(getattr(person, kind.attribute))
        if local.primary:
            # PCO keeps one primary per kind: the one just marked wins.
            current = [c.model_copy(update={"primary": False}) for c in current]
        position = _position(current, pco_id, old_key)
        if position is None:
            position = next((n for n, c in enumerate(current) if contact_key(c) == new_key), None)
        if position is None:
            current.append(local)
        else:
            current[position] = local
            # An item that now holds the same value is the same one (the pull keeps one per value too).
            current = [c for n, c in enumerate(current) if n == position or contact_key(c) != new_key]
        result = self._save_contacts(person, kind.attribute, current, event)
        self.trail.trace_sub_record(kind.pco_type, pco_id, done)
        return result

    def _save_contacts(
        self, person: Person, attribute: ContactList, items: Sequence[Contact], event: _Event
    ) -> Applied:
        before = local_fields(person)
        candidate = person.model_copy(update={attribute: list(items)})
        fields = local_fields(candidate)
        held, wanted = getattr(before, attribute), getattr(fields, attribute)
        if wanted == held:
            return Applied("skipped", f"person {person.id} already has PCO's {attribute}")
        if [item.unlinked() for item in wanted] == [item.unlinked() for item in held]:
            # The same values, only PCO's ids are new to us (e.g. the echo of an item we pushed): linked
            # without counting as a change.
            self.records.save_people([(person.model_copy(update={attribute: list(wanted)}), person)])
            return Applied("skipped", f"person {person.id} already has PCO's {attribute} (now linked)")
        new = candidate.model_copy(update={attribute: list(wanted), "updated_at": event.now})
        if person.sync.pco_hash == before.content_hash():
            # No local edit was waiting to be pushed: the record still matches PCO after this change.
            sync = person.sync.model_copy(
                update={
                    "pco_hash": fields.content_hash(),
                    "last_run_id": event.run_id,
                    "last_outcome": "updated",
                }
            )
            new = new.model_copy(update={"sync": sync})
        self.records.save_people([(new, person)])
        return Applied("applied", f"person {person.id} {attribute} updated")

    # ---- households

    def _household(self, event: _Event) -> Applied:
        pco_id = event.resource.id
        existing = self.records.families_by_pco_ids([pco_id]).get(pco_id)
        if event.action == "destroyed":
            self.trail.bury("household", pco_id, event.time or event.now, existing.id if existing else None)
            if existing is None:
                return Applied("unknown", f"PCO household {pco_id} is not linked to a local family")
            return self._family_unlinked(existing, event)
        if self.trail.tombstone("household", pco_id) is not None:
            return Applied("stale", f"PCO household {pco_id} was destroyed")
        household = PcoHousehold.from_resource(event.resource, event.document)
        if existing is not None and _not_newer(household.updated_at, existing.sync.pco_updated_at):
            return Applied("stale", f"family {existing.id} holds a newer PCO version")
        wanted = [pid for pid in (*household.person_ids, household.primary_contact_id) if pid]
        people = self.records.people_by_pco_ids(wanted)
        if household.person_ids:
            members = [people[pid] for pid in dict.fromkeys(household.person_ids) if pid in people]
        else:
            # A payload that names no people says nothing about the members: keep ours.
            members = list(self.records.get_people(existing.member_ids if existing else []).values())
            people.update({m.pco_id: m for m in members if m.pco_id})
        primary_id = household.primary_contact_id
        primary = people.get(primary_id) if primary_id and primary_id in {m.pco_id for m in members} else None
        new, _ = merge_family(
            existing,
            family_fields(household.name, members, primary),
            pco_id=household.id,
            pco_updated_at=household.updated_at,
            run_id=event.run_id,
            now=event.now,
        )
        if new is None:
            return Applied("skipped", "family unchanged")
        self.records.save_families([(new, existing)])
        links = FamilyLinks(people.values(), event.now)
        links.link(new, previous=existing)
        departed = links.departed_ids()
        if departed:
            links.unlink_departed(self.records.get_people(departed).values())
        if links.changes():
            self.records.save_people(links.changes())
        return Applied("applied", f"family {new.id} {'created' if existing is None else 'updated'}")

    def _family_unlinked(self, family: Family, event: _Event) -> Applied:
        members = self.records.get_people(family.member_ids)
        cleared = [
            (p.model_copy(update={"family_id": None, "updated_at": event.now}), p)
            for p in members.values()
            if p.family_id == family.id
        ]
        unlinked = family.model_copy(
            update={
                "pco_id": None,
                "member_ids": [],
                "primary_member_id": None,
                "updated_at": event.now,
                "sync": family.sync.model_copy(update={"pco_hash": None}),
            }
        )
        self.records.save_families([(unlinked, family)])
        if cleared:
            self.records.save_people(cleared)
        return Applied("applied", f"family {family.id} unlinked, {len(cleared)} members cleared")

    # ---- groups and memberships

    def _group(self, event: _Event) -> Applied:
        pco_id = event.resource.id
        existing = self.records.groups_by_pco_ids([pco_id]).get(pco_id)
        if event.action == "destroyed":
            self.trail.bury("group", pco_id, event.time or event.now, existing.id if existing else None)
            if existing is None:
                return Applied("unknown", f"PCO group {pco_id} is not linked to a local group")
            unlinked = existing.model_copy(
                update={
                    "pco_id": None,
                    "updated_at": event.now,
                    "sync": existing.sync.model_copy(update={"pco_hash": None, "pco_members_hash": None}),
                }
            )
            self.records.save_groups([(unlinked, existing)])
            return Applied("applied", f"group {existing.id} unlinked")
        if self.trail.tombstone("group", pco_id) is not None:
            return Applied("stale", f"PCO group {pco_id} was destroyed")
        # Groups have no updated_at: the event time orders them.
        if existing is not None and _not_newer(event.time, existing.sync.pco_updated_at):
            return Applied("stale", f"group {existing.id} holds a newer PCO version")
        pco = PcoGroup.from_resource(event.resource, event.document)
        name = pco.name or f"PCO group {pco.id}"
        new, _ = merge_group(
            existing, GroupFields(name=name), pco_id=pco.id, run_id=event.run_id, now=event.now
        )
        if new is None:
            return Applied("skipped", "group unchanged")
        if event.time is not None:
            new = new.model_copy(update={"sync": new.sync.model_copy(update={"pco_updated_at": event.time})})
        self.records.save_groups([(new, existing)])
        return Applied("applied", f"group {new.id} {'created' if existing is None else 'updated'}")

    def _membership(self, event: _Event) -> Applied:
        pco_id = event.resource.id
        if event.action != "destroyed" and self.trail.tombstone("membership", pco_id) is not None:
            return Applied("stale", f"PCO membership {pco_id} was destroyed")
        membership = PcoMembership.from_resource(event.resource, event.document)
        if event.action == "destroyed":
            self.trail.bury("membership", pco_id, event.time or event.now, None)
        if membership.group_id is None or membership.person_id is None:
            return Applied("unknown", f"PCO membership {pco_id} names no group or person")
        group = self.records.groups_by_pco_ids([membership.group_id]).get(membership.group_id)
        person = self.records.people_by_pco_ids([membership.person_id]).get(membership.person_id)
        if group is None or person is None:
            return Applied("unknown", f"PCO membership {pco_id}: group or person not linked locally")
        members: list[GroupMember] = [m for m in group.members if m.person_id != person.id]
        if event.action != "destroyed":
            members.append(group_member(person.id, membership.role, membership.joined_at))
        new, _ = merge_members(group, members, run_id=event.run_id, now=event.now)
        if new is None:
            return Applied("skipped", f"group {group.id} members unchanged")
        self.records.save_groups([(new, group)])
        return Applied("applied", f"group {group.id} membership of person {person.id} {event.action}")


@dataclass(frozen=True)
class _Event:
    document: Document
    resource: Resource
    action: str
    time: datetime | None
    run_id: str
    now: datetime


def _unlinked(person: Person, now: datetime) -> Person:
    """Inactive and no longer linked to PCO; every local field kept."""
    return person.model_copy(
        update={
            "status": "inactive",
            "pco_id": None,
            "updated_at": now,
            "sync": person.sync.model_copy(update={"pco_hash": None}),
        }
    )


def _union[C: (Email, Phone, Address)](kept: Sequence[C], removed: Sequence[C]) -> list[C]:
    """The kept person's items, then the removed one's that are not among them (never primary)."""
    have = {contact_key(item) for item in kept}
    extra = [item.model_copy(update={"primary": False}) for item in removed if contact_key(item) not in have]
    return list(kept) + extra


def _position(items: Sequence[Contact], pco_id: str, old_key: tuple[str, ...] | None) -> int | None:
    """Where PCO's item is in a local list: the item linked to its id, else an unlinked item with the value
    it last had."""
    linked = next((n for n, item in enumerate(items) if item.pco_id == pco_id), None)
    if linked is not None or old_key is None:
        return linked
    return next(
        (n for n, item in enumerate(items) if item.pco_id is None and contact_key(item) == old_key), None
    )


def _read_sub_record(kind: _SubRecordKind, event: _Event) -> PcoEmail | PcoPhone | PcoAddress:
    if kind.attribute == "emails":
        return PcoEmail.from_resource(event.resource, event.document)
    if kind.attribute == "phones":
        return PcoPhone.from_resource(event.resource, event.document)
    return PcoAddress.from_resource(event.resource, event.document)


def _local_contact(item: PcoEmail | PcoPhone | PcoAddress) -> Contact | None:
    if isinstance(item, PcoEmail):
        return (
            Email(address=item.address, location=item.location, primary=item.primary, pco_id=item.id)
            if item.address
            else None
        )
    if isinstance(item, PcoPhone):
        return (
            Phone(number=item.number, location=item.location, primary=item.primary, pco_id=item.id)
            if item.number
            else None
        )
    return Address(
        street=item.street,
        city=item.city,
        state=item.state,
        zip=item.zip,
        location=item.location,
        primary=item.primary,
        pco_id=item.id,
    )
