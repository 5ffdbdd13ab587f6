"""One merge for a group and one for its member list (group memberships), as pull and webhooks apply them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pco_core.merge.common import Outcome, record_id_for, unchanged_outcome
from pco_core.pco.models import PcoGroup
from pco_core.records import PCO_GROUPS_DEPARTMENT, Fields, Group, GroupMember, GroupRole, GroupSync


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
    sync = GroupSync(
        pco_updated_at=existing.sync.pco_updated_at if existing is not None else None,
        pco_hash=digest,
        last_run_id=run_id,
        last_outcome=outcome,
    )
    values = {"pco_id": pco_id, "name": fields.name, "department": fields.department, "updated_at": now}
    if existing is None:
        return Group.model_validate({"id": record_id_for("group", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def memberships_run_mark(run_id: str) -> str:
    """`sync.last_run_id` a memberships write leaves on its group, apart from the group domain's own write
    in the same run, so a retried memberships page counts a group as its first attempt did."""
    return f"{run_id}#memberships"


def merge_members(
    group: Group, members: Sequence[GroupMember], *, run_id: str, now: datetime
) -> tuple[Group | None, dict[str, int]]:
    """The group with its member list replaced as a whole (None when identical), and how its membership
    rows count: a new member is created, a changed or removed one updated, an identical one skipped.
    A page retried after writing the list counts what the first attempt counted."""
    mark = memberships_run_mark(run_id)
    wanted = sorted(members, key=lambda m: m.person_id)
    current = {m.person_id: m for m in group.members}
    if wanted == sorted(current.values(), key=lambda m: m.person_id):
        if group.sync.last_run_id == mark and group.sync.last_counts is not None:
            return None, dict(group.sync.last_counts)
        return None, {"skipped": len(wanted)}
    counts = {"created": 0, "updated": 0, "skipped": 0}
    for member in wanted:
        before = current.pop(member.person_id, None)
        counts["created" if before is None else "updated" if before != member else "skipped"] += 1
    counts["updated"] += len(current)  # members PCO no longer has
    sync = group.sync.model_copy(update={"last_run_id": mark, "last_outcome": None, "last_counts": counts})
    return group.model_copy(update={"members": wanted, "updated_at": now, "sync": sync}), counts
