"""One merge for a group and one for its member list (group memberships), as pull and webhooks apply them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pco_core.merge.common import Merged, Outcome, record_id_for, unchanged_outcome
from pco_core.merge.threeway import Conflicts, decide
from pco_core.pco.models import PcoGroup
from pco_core.records import (
    PCO_GROUPS_DEPARTMENT,
    ConflictPolicy,
    Fields,
    Group,
    GroupMember,
    GroupRole,
    GroupSync,
)


class GroupFields(Fields):
    name: str
    department: str = PCO_GROUPS_DEPARTMENT


def group_fields(pco: PcoGroup) -> GroupFields:
    return GroupFields(name=pco.name or f"PCO group {pco.id}")


def normalise_role(value: str | None) -> GroupRole:
    return "leader" if (value or "").strip().casefold() == "leader" else "member"


def group_member(person_id: str, role: str | None, joined_at: datetime | None) -> GroupMember:
    return GroupMember(person_id=person_id, role=normalise_role(role), joined_at=joined_at)


def merge_group(
    existing: Group | None, fields: GroupFields, *, pco_id: str, run_id: str, now: datetime
) -> tuple[Group | None, Outcome]:
    """The group to write (None when nothing changed) and how it counts; members are the memberships' part."""
    digest = fields.content_hash()
    if existing is not None and existing.pco_id == pco_id and existing.sync.pco_hash == digest:
        return None, unchanged_outcome(existing.sync, run_id)
    outcome: Outcome = "created" if existing is None else "updated"
    # The member list's part of the sync (the list as agreed, its conflicts, what push and the incremental
    # sync remember of it) is the memberships' to change: a rename in PCO keeps it.
    written = {"pco_hash": digest, "last_run_id": run_id, "last_outcome": outcome}
    sync = GroupSync(**written) if existing is None else existing.sync.model_copy(update=written)
    values = {"pco_id": pco_id, "name": fields.name, "department": fields.department, "updated_at": now}
    if existing is None:
        return Group.model_validate({"id": record_id_for("group", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def memberships_run_mark(run_id: str) -> str:
    """`sync.last_run_id` a memberships write leaves on its group, apart from the group domain's own write
    in the same run, so a retried memberships page counts a group as its first attempt did."""
    return f"{run_id}#memberships"


@dataclass
class MembersPlan:
    """A group's member list after the three-way merge with PCO's, and what a push would send."""

    members: list[GroupMember]
    add: list[GroupMember] = field(default_factory=list)  # local members PCO lacks
    remove: list[str] = field(default_factory=list)  # person ids removed here, still in PCO
    roles: list[GroupMember] = field(default_factory=list)  # members whose role changed here
    conflicts: Conflicts | None = None


def plan_members(
    group: Group,
    pco: Sequence[GroupMember],
    *,
    policy: ConflictPolicy,
    source: str,
    now: datetime,
) -> MembersPlan:
    """Per person, their membership (absent, or in with a role) decided three ways against the member list
    as last agreed (a group without one, from before bases existed: the union of both lists)."""
    conflicts = Conflicts.of("group", group, group.name, policy=policy, source=source, now=now)
    base = {m.person_id: m for m in group.sync.members_base or ()}
    mine = {m.person_id: m for m in group.members}
    theirs = {m.person_id: m for m in pco}
    plan = MembersPlan(members=[], conflicts=conflicts)
    for pid in sorted(base.keys() | mine.keys() | theirs.keys()):
        # A membership is its role: removed on one side and changed on the other are both edits.
        was, ours, their = (_role(side.get(pid)) for side in (base, mine, theirs))
        side, found = decide(f"member:{pid}", was, ours, their, conflicts)
        chosen = (mine if side == "local" else theirs).get(pid)
        if side == "local" and ours != their and (found == "local" or policy == "local_wins"):
            if ours is None:
                plan.remove.append(pid)
            elif their is None:
                plan.add.append(mine[pid])
            else:
                plan.roles.append(mine[pid])
        if chosen is None:
            continue
        # When they joined is PCO's to say (it is sent only with a new membership).
        plan.members.append(theirs[pid].model_copy(update={"role": chosen.role}) if pid in theirs else chosen)
    return plan


def _role(member: GroupMember | None) -> str | None:
    return member.role if member is not None else None


def merge_members(
    group: Group,
    pco: Sequence[GroupMember],
    *,
    run_id: str,
    now: datetime,
    policy: ConflictPolicy = "review",
) -> Merged[Group]:
    """PCO's member list merged into the group's three ways; the new base is PCO's list. The merge counts
    membership rows (`row_counts`): a new member created, a changed or removed one updated, the rest
    skipped; a page retried after writing the list counts what the first attempt counted."""
    mark = memberships_run_mark(run_id)
    plan = plan_members(group, pco, policy=policy, source=run_id, now=now)
    assert plan.conflicts is not None
    wanted = sorted(plan.members, key=lambda m: m.person_id)
    agreed = tuple(sorted(pco, key=lambda m: m.person_id))
    sync = group.sync.model_copy(
        update={"members_base": agreed, "conflicts": plan.conflicts.open_conflicts()}
    )
    current = {m.person_id: m for m in group.members}
    if wanted == sorted(current.values(), key=lambda m: m.person_id):
        counts = (
            dict(group.sync.last_counts)
            if group.sync.last_run_id == mark and group.sync.last_counts is not None
            else {"skipped": len(wanted)}
        )
        record = group.model_copy(update={"sync": sync})
        return Merged(None if record == group else record, "skipped", plan.conflicts.events, counts)
    counts = {"created": 0, "updated": 0, "skipped": 0}
    for member in wanted:
        before = current.pop(member.person_id, None)
        counts["created" if before is None else "updated" if before != member else "skipped"] += 1
    counts["updated"] += len(current)  # members no longer in the group
    sync = sync.model_copy(update={"last_run_id": mark, "last_outcome": None, "last_counts": counts})
    record = group.model_copy(update={"members": wanted, "updated_at": now, "sync": sync})
    return Merged(record, "updated", plan.conflicts.events, counts)
