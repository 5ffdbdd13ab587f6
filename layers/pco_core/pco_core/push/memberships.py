"""Push group memberships: for groups with a PCO id, the local members PCO lacks are added, roles patched.

A group's member list (with its people's PCO ids) is hashed into `sync.pco_members_hash` once pushed, so
an unchanged group makes no request. PCO's duplicate answer (422: one active membership per person) counts
as "already there". Members PCO has and we do not stay: a push never removes anything from PCO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext
from pco_core.engine.failures import refusal_words
from pco_core.engine.groups_people import GroupsPeople
from pco_core.engine.ports import Records
from pco_core.errors import PcoRequestError
from pco_core.merge.group import group_member, plan_members
from pco_core.pco.models import PcoMembership
from pco_core.pco.paginate import read_all
from pco_core.pco.paths import memberships_path
from pco_core.push.walk import CountingPco, Lister, PushDomain, is_duplicate
from pco_core.records import Group, GroupMember, Person, display_name, has_pending_changes
from pco_core.runstate import RecordFailure

logger = Logger(child=True)


def push_run_mark(run_id: str) -> str:
    """`sync.last_run_id` a membership push leaves on its group (apart from the pull's marks)."""
    return f"{run_id}#push-memberships"


class PushMemberships(PushDomain[Group, dict[str, Person]]):
    def lister(self, records: Records) -> Lister[Group]:
        return records.list_pending_groups

    def prepare(self, records: Records, page: Sequence[Group]) -> dict[str, Person]:
        return records.get_people({m.person_id for group in page for m in group.members})

    def cost(self, record: Group, prepared: dict[str, Person]) -> int:
        return 1 + len(record.members) if has_pending_changes(record) else 0

    def push(
        self, ctx: DomainContext, pco: CountingPco, record: Group, prepared: dict[str, Person]
    ) -> Mapping[str, int]:
        return _push_group(ctx, pco, ctx.records, record, prepared)


@dataclass
class _InPco:
    """A group's memberships as PCO holds them: in local terms, and PCO's membership id per person."""

    members: list[GroupMember]
    ids: dict[str, str]  # local person id -> PCO membership id


def _push_group(
    ctx: DomainContext, pco: CountingPco, records: Records, group: Group, people: dict[str, Person]
) -> dict[str, int]:
    mark = push_run_mark(ctx.run_id)
    if group.pco_id is None or not has_pending_changes(group):
        if group.sync.last_run_id == mark and group.sync.last_counts is not None:
            return dict(group.sync.last_counts)  # a retried page counts what the first attempt did
        return {"skipped": len(group.members)} if group.members else {}

    path = memberships_path(group.pco_id)
    in_pco = _read(pco, records, path, people)
    plan = plan_members(group, in_pco.members, policy=ctx.policy, source=ctx.run_id, now=ctx.clock())
    assert plan.conflicts is not None
    after = {m.person_id: m for m in in_pco.members}
    counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    for member in plan.add:
        person = people.get(member.person_id)
        if person is None or person.pco_id is None:
            logger.info(
                "membership skipped: person has no PCO id (push people first)",
                extra={"group_id": group.id, "person_id": member.person_id},
            )
            counts["skipped"] += 1
            continue
        # Groups names a person by its own id where it differs from People's (engine/groups_people.py).
        groups_id = person.sync.groups_person_id or person.pco_id
        attributes: dict[str, Any] = {"person_id": groups_id, "role": member.role}
        if member.joined_at is not None:
            attributes["joined_at"] = _iso(member.joined_at)
        sent = _sent(
            (ctx, counts, group, people.get(member.person_id)),
            "add to the group in PCO",
            pco.post,
            path,
            _membership(attributes),
            duplicate_ok=True,
        )
        if sent:
            counts["created" if sent == "sent" else "skipped"] += 1
            after[member.person_id] = member
    for member in plan.roles:
        membership_id = in_pco.ids[member.person_id]
        patch = {"data": {"type": "Membership", "id": membership_id, "attributes": {"role": member.role}}}
        about = (ctx, counts, group, people.get(member.person_id))
        if _sent(about, "change the role in PCO", pco.patch, f"{path}/{membership_id}", patch):
            counts["updated"] += 1
            after[member.person_id] = after[member.person_id].model_copy(update={"role": member.role})
    for person_id in plan.remove:
        membership_id = in_pco.ids[person_id]
        about = (ctx, counts, group, people.get(person_id))
        if _sent(about, "remove from the group in PCO", pco.delete, f"{path}/{membership_id}"):
            counts["updated"] += 1
            after.pop(person_id, None)
    unchanged = (
        len(plan.members) - counts["created"] - counts["updated"] - counts["skipped"] - counts["failed"]
    )
    counts["skipped"] += max(0, unchanged)
    counts = {name: n for name, n in counts.items() if n > 0}
    held = {c.field for c in plan.conflicts.open_conflicts()}
    agreed = tuple(sorted(after.values(), key=lambda m: m.person_id))
    members = [m for m in agreed if f"member:{m.person_id}" not in held]
    members += [m for m in plan.members if f"member:{m.person_id}" in held or f"role:{m.person_id}" in held]
    members = sorted({m.person_id: m for m in members}.values(), key=lambda m: m.person_id)
    sync = group.sync.model_copy(
        update={
            "members_base": agreed,
            "conflicts": plan.conflicts.open_conflicts(),
            "last_run_id": mark,
            "last_outcome": None,
            "last_counts": counts,
        }
    )
    records.save_groups([(group.model_copy(update={"members": members, "sync": sync}), group)])
    records.log_conflicts(plan.conflicts.events)
    return {**counts, "conflicts": plan.conflicts.detected_count()}


def _read(pco: CountingPco, records: Records, path: str, people: dict[str, Person]) -> _InPco:
    current, _ = read_all(pco, path, {"include": "person"}, PcoMembership.from_resource)
    groups_people = GroupsPeople(pco, records)
    by_pco = {gid: p for p in people.values() if (gid := groups_people.groups_id_of(p)) is not None}
    unknown = [m for m in current if m.person_id and m.person_id not in by_pco]
    if unknown:
        by_pco.update(groups_people.resolve(unknown))
        groups_people.save_learned()
    members: list[GroupMember] = []
    ids: dict[str, str] = {}
    for membership in current:
        person = by_pco.get(membership.person_id or "")
        if person is None:
            continue  # someone we do not hold: PCO's to keep
        members.append(group_member(person.id, membership.role, membership.joined_at))
        ids[person.id] = membership.id
    return _InPco(members, ids)


def _membership(attributes: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"type": "Membership", "attributes": attributes}}


type _About = tuple[DomainContext, dict[str, int], Group, Person | None]


def _sent(
    about: _About,
    operation: str,
    write: Callable[..., object],
    *args: Any,
    duplicate_ok: bool = False,
) -> Literal["sent", "already", ""]:
    """Send one membership write: "sent", "already" (PCO's duplicate answer: what we wanted), or ""
    (refused: counted as failed, and reported with the member and the group)."""
    ctx, counts, group, person = about
    try:
        write(*args)
    except PcoRequestError as exc:
        if duplicate_ok and is_duplicate(exc):
            return "already"
        person_id = person.id if person is not None else None
        logger.warning(
            "membership not pushed", extra={"group_id": group.id, "person_id": person_id, "reason": str(exc)}
        )
        counts["failed"] += 1
        status, words = refusal_words(exc)
        who = display_name(person) if person is not None else "a member"
        ctx.report(
            RecordFailure(
                kind="membership",
                record_id=group.id,
                pco_id=group.pco_id,
                name=f"{who} in {group.name}",
                operation=operation,
                status=status,
                message=words,
                at=ctx.clock(),
            )
        )
        return ""
    return "sent"


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
