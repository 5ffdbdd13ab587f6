"""Push group memberships: for groups with a PCO id, the local members PCO lacks are added, roles patched.

A group's member list (with its people's PCO ids) is hashed into `sync.pco_members_hash` once pushed, so
an unchanged group makes no request. PCO's duplicate answer (422: one active membership per person) counts
as "already there". Members PCO has and we do not stay: a push never removes anything from PCO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext
from pco_core.engine.ports import Records
from pco_core.errors import PcoRequestError
from pco_core.pco.models import PcoMembership
from pco_core.pco.paginate import read_all
from pco_core.pco.paths import memberships_path
from pco_core.push.walk import CountingPco, Lister, PushDomain, is_duplicate
from pco_core.records import Group, Person, content_hash

logger = Logger(child=True)


def push_run_mark(run_id: str) -> str:
    """`sync.last_run_id` a membership push leaves on its group (apart from the pull's marks)."""
    return f"{run_id}#push-memberships"


def members_hash(group: Group, people: dict[str, Person]) -> str:
    return content_hash(
        sorted(
            [m.person_id, people[m.person_id].pco_id if m.person_id in people else None, m.role, m.joined_at]
            for m in group.members
        )
    )


class PushMemberships(PushDomain[Group, dict[str, Person]]):
    def lister(self, records: Records) -> Lister[Group]:
        return records.list_pending_groups

    def prepare(self, records: Records, page: Sequence[Group]) -> dict[str, Person]:
        return records.get_people({m.person_id for group in page for m in group.members})

    def cost(self, record: Group, prepared: dict[str, Person]) -> int:
        unchanged = record.pco_id is None or record.sync.pco_members_hash == members_hash(record, prepared)
        return 0 if unchanged else 1 + len(record.members)

    def push(
        self, ctx: DomainContext, pco: CountingPco, record: Group, prepared: dict[str, Person]
    ) -> Mapping[str, int]:
        return _push_group(ctx, pco, ctx.records, record, prepared)


def _push_group(
    ctx: DomainContext, pco: CountingPco, records: Records, group: Group, people: dict[str, Person]
) -> dict[str, int]:
    if group.pco_id is None:
        # PCO's API cannot create groups: only groups that came from PCO take memberships.
        return {"skipped": len(group.members)} if group.members else {}
    digest = members_hash(group, people)
    mark = push_run_mark(ctx.run_id)
    if group.sync.pco_members_hash == digest:
        if group.sync.last_run_id == mark and group.sync.last_counts is not None:
            return dict(group.sync.last_counts)  # a retried page counts what the first attempt did
        return {"skipped": len(group.members)} if group.members else {}

    path = memberships_path(group.pco_id)
    current, _ = read_all(pco, path, {}, PcoMembership.from_resource)
    in_pco = {m.person_id: m for m in current if m.person_id}
    counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    for member in group.members:
        person = people.get(member.person_id)
        if person is None or person.pco_id is None:
            logger.info(
                "membership skipped: person has no PCO id (push people first)",
                extra={"group_id": group.id, "person_id": member.person_id},
            )
            counts["skipped"] += 1
            continue
        existing = in_pco.get(person.pco_id)
        try:
            if existing is None:
                attributes: dict[str, Any] = {"person_id": person.pco_id, "role": member.role}
                if member.joined_at is not None:
                    attributes["joined_at"] = _iso(member.joined_at)
                pco.post(path, {"data": {"type": "Membership", "attributes": attributes}})
                counts["created"] += 1
            elif existing.role != member.role:
                pco.patch(
                    f"{path}/{existing.id}",
                    {"data": {"type": "Membership", "id": existing.id, "attributes": {"role": member.role}}},
                )
                counts["updated"] += 1
            else:
                counts["skipped"] += 1
        except PcoRequestError as exc:
            if existing is None and is_duplicate(exc):
                counts["skipped"] += 1  # PCO already has it: what we wanted
                continue
            logger.warning(
                "membership not pushed",
                extra={"group_id": group.id, "person_id": member.person_id, "reason": str(exc)},
            )
            counts["failed"] += 1
    # A refused membership is tried again by the next push: the list is not remembered as pushed.
    pushed = digest if not counts["failed"] else group.sync.pco_members_hash
    counts = {name: n for name, n in counts.items() if n}
    sync = group.sync.model_copy(
        update={"pco_members_hash": pushed, "last_run_id": mark, "last_outcome": None, "last_counts": counts}
    )
    records.save_groups([(group.model_copy(update={"sync": sync}), group)])
    return counts


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
