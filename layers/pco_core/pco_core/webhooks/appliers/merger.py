"""person_merger.created: PCO merged two people; locally the kept one takes the removed one's data, family
place and group memberships, and the removed record is made inactive and unlinked (never deleted).

When we do not know the kept PCO person, the removed one's record becomes it, but only once one GET has
confirmed PCO has that person: a merger naming a person PCO does not hold links nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pco_core.errors import ConfigError, PcoRequestError
from pco_core.merge.contacts import union
from pco_core.merge.group import group_member
from pco_core.merge.person import unlinked_person
from pco_core.pco import paths
from pco_core.pco.models import PcoPersonMerger
from pco_core.records import Group, GroupMember, Person
from pco_core.webhooks.event import Applied, ApplierPorts, Event


@dataclass(frozen=True)
class PersonMergerApplier:
    ports: ApplierPorts

    def apply(self, event: Event) -> Applied:
        if event.action != "created":
            return Applied("unknown", f"person_merger.{event.action} is not handled")
        records, trail = self.ports.records, self.ports.trail
        merger = PcoPersonMerger.from_resource(event.resource, event.document)
        keep_id, remove_id = merger.person_to_keep_id, merger.person_to_remove_id
        found = records.people_by_pco_ids([keep_id, remove_id])
        keep, remove = found.get(keep_id), found.get(remove_id)
        if remove is None:
            # Its `destroyed` may have come first: the tombstone names the local record.
            tomb = trail.tombstone("person", remove_id)
            if tomb is not None and tomb.record_id is not None:
                remove = records.get_people([tomb.record_id]).get(tomb.record_id)
        if remove is None:
            return Applied("unknown", f"removed PCO person {remove_id} is not known locally")
        if keep is not None and keep.id == remove.id:
            return Applied("skipped", "both PCO people are one local person")
        if keep is None and not self._pco_has_person(keep_id):
            return Applied(
                "unknown", f"kept PCO person {keep_id} is not in PCO: person {remove.id} was not relinked"
            )
        trail.bury("person", remove_id, event.happened_at, remove.id)
        if keep is None:
            # The kept PCO person has no local record: the removed one's record becomes it.
            relinked = remove.model_copy(
                update={
                    "pco_id": keep_id,
                    "updated_at": event.now,
                    "sync": remove.sync.model_copy(
                        update={"pco_hash": None, "pco_updated_at": None, "groups_person_id": None}
                    ),
                }
            )
            records.save_people([(relinked, remove)])
            return Applied("applied", f"person {remove.id} relinked to kept PCO person {keep_id}")
        return self._merge(keep, remove, event)

    def _pco_has_person(self, pco_id: str) -> bool:
        """One GET of the person: False when PCO answers 404; PCO being unavailable raises (the delivery is
        retried by SQS)."""
        if self.ports.pco is None:
            raise ConfigError("the webhook worker has no PCO client to confirm a merger's kept person")
        try:
            self.ports.pco().get(f"{paths.PEOPLE}/{pco_id}")
        except PcoRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _merge(self, keep: Person, remove: Person, event: Event) -> Applied:
        # The kept person takes the removed one's place in its family when it has none of its own.
        takes_family = keep.family_id is None and remove.family_id is not None
        merged = keep.model_copy(
            update={
                "emails": union(keep.emails, remove.emails),
                "phones": union(keep.phones, remove.phones),
                "addresses": union(keep.addresses, remove.addresses),
                "family_id": remove.family_id if takes_family else keep.family_id,
                "updated_at": event.now,
            }
        )
        retired = unlinked_person(remove, event.now)
        if takes_family:
            retired = retired.model_copy(update={"family_id": None})
        changes: list[tuple[Person, Person | None]] = [(merged, keep)]
        if retired != remove.model_copy(update={"updated_at": event.now}):
            changes.append((retired, remove))
        self.ports.records.save_people(changes)
        # Idempotent from here on: a retry finds the family and groups already moved.
        if takes_family and remove.family_id is not None:
            self._hand_over_family(remove.family_id, remove.id, keep.id, event)
        moved = self._move_memberships(remove.id, keep.id, event)
        return Applied(
            "applied", f"person {remove.id} merged into {keep.id} ({moved} group memberships moved)"
        )

    def _hand_over_family(self, family_id: str, from_id: str, to_id: str, event: Event) -> None:
        records = self.ports.records
        family = records.get_families([family_id]).get(family_id)
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
        records.save_families([(moved, family)])

    def _move_memberships(self, from_id: str, to_id: str, event: Event) -> int:
        """Every group the removed person was in lists the kept one instead (the stronger role, the earlier
        join), in the list as agreed with PCO too (PCO merged them itself); the next pull confirms it."""
        records = self.ports.records
        changes: list[tuple[Group, Group | None]] = []
        cursor: str | None = None
        while True:
            groups, cursor = records.list_groups(100, cursor)
            for group in groups:
                if from_id not in {m.person_id for m in group.members}:
                    continue
                base = group.sync.members_base
                moved = group.model_copy(
                    update={
                        "members": _moved(group.members, from_id, to_id),
                        "updated_at": event.now,
                        "sync": group.sync.model_copy(
                            update={
                                "members_base": None if base is None else tuple(_moved(base, from_id, to_id))
                            }
                        ),
                    }
                )
                changes.append((moved, group))
            if cursor is None:
                break
        if changes:
            records.save_groups(changes)
        return len(changes)


def _moved(members: Sequence[GroupMember], from_id: str, to_id: str) -> list[GroupMember]:
    both = [m for m in members if m.person_id in (from_id, to_id)]
    if from_id not in {m.person_id for m in both}:
        return list(members)
    merged = group_member(
        to_id,
        "leader" if any(m.role == "leader" for m in both) else "member",
        min((m.joined_at for m in both if m.joined_at is not None), default=None),
    )
    kept = [m for m in members if m.person_id not in (from_id, to_id)]
    return sorted([*kept, merged], key=lambda m: m.person_id)
