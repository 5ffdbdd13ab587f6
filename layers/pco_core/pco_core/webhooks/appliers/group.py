"""group.* and membership.*: a group's name, and one person's membership of it, merged as the pull does.

Groups and memberships have no `updated_at`: PCO's `event_time` orders group events.
"""

from __future__ import annotations

from dataclasses import dataclass

from pco_core.engine.groups_people import known_groups_person
from pco_core.merge.group import group_fields, group_member, merge_group, merge_members
from pco_core.pco.models import PcoGroup, PcoMembership
from pco_core.records import Group, GroupMember
from pco_core.webhooks.event import Applied, ApplierPorts, Event, not_newer


@dataclass(frozen=True)
class GroupApplier:
    ports: ApplierPorts

    def apply(self, event: Event) -> Applied:
        records = self.ports.records
        pco_id = event.resource.id
        existing = records.groups_by_pco_ids([pco_id]).get(pco_id)
        if event.action == "destroyed":
            return self.ports.destroyed("group", event, existing, lambda group: self._unlinked(group, event))
        stale = self.ports.stale_if_destroyed("group", pco_id)
        if stale is not None:
            return stale
        if existing is not None and not_newer(event.time, existing.sync.pco_updated_at):
            return Applied("stale", f"group {existing.id} holds a newer PCO version")
        pco = PcoGroup.from_resource(event.resource, event.document)
        new, _ = merge_group(existing, group_fields(pco), pco_id=pco.id, run_id=event.run_id, now=event.now)
        if new is None:
            return Applied("skipped", "group unchanged")
        if event.time is not None:
            new = new.model_copy(update={"sync": new.sync.model_copy(update={"pco_updated_at": event.time})})
        records.save_groups([(new, existing)])
        return Applied("applied", f"group {new.id} {'created' if existing is None else 'updated'}")

    def _unlinked(self, group: Group, event: Event) -> Applied:
        unlinked = group.model_copy(
            update={
                "pco_id": None,
                "updated_at": event.now,
                "sync": group.sync.model_copy(update={"pco_hash": None, "pco_members_hash": None}),
            }
        )
        self.ports.records.save_groups([(unlinked, group)])
        return Applied("applied", f"group {group.id} unlinked")


@dataclass(frozen=True)
class MembershipApplier:
    ports: ApplierPorts

    def apply(self, event: Event) -> Applied:
        records, trail = self.ports.records, self.ports.trail
        pco_id = event.resource.id
        stale = None if event.action == "destroyed" else self.ports.stale_if_destroyed("membership", pco_id)
        if stale is not None:
            return stale
        membership = PcoMembership.from_resource(event.resource, event.document)
        if event.action == "destroyed":
            trail.bury("membership", pco_id, event.happened_at, None)
        if membership.group_id is None or membership.person_id is None:
            return Applied("unknown", f"PCO membership {pco_id} names no group or person")
        group = records.groups_by_pco_ids([membership.group_id]).get(membership.group_id)
        person = known_groups_person(records, membership.person_id)
        if group is None or person is None:
            return Applied("unknown", f"PCO membership {pco_id}: group or person not linked locally")
        # PCO's list after this event: the list as last agreed, with this one membership changed.
        known = group.sync.members_base if group.sync.members_base is not None else group.members
        view: list[GroupMember] = [m for m in known if m.person_id != person.id]
        if event.action != "destroyed":
            view.append(group_member(person.id, membership.role, membership.joined_at))
        merged = merge_members(group, view, run_id=event.run_id, now=event.now, policy=self.ports.policy)
        if merged.record is not None:
            records.save_groups([(merged.record, group)])
        records.log_conflicts(merged.conflicts)
        if merged.outcome == "skipped":
            return Applied("skipped", f"group {group.id} members unchanged")
        return Applied("applied", f"group {group.id} membership of person {person.id} {event.action}")
