"""Group memberships: for the local groups that have a PCO id, in id order, each group's whole member list
read from PCO (all its pages) and replaced as a whole. A page stops starting new groups once its request
budget is spent; a group is always read to the end, so a member list is never half replaced.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from pco_core.pco.models import PcoMembership
from pco_core.records import Group, GroupMember
from pco_core.sync.domain import (
    PER_PAGE,
    DomainContext,
    DomainPage,
    Position,
    Tally,
    int_at,
    next_offset_after,
)
from pco_core.sync.mapping import group_member, merge_members

logger = Logger(child=True)

# About eight PCO requests per invocation: a few seconds of work, well inside the rate budget.
REQUEST_BUDGET = 8


def memberships_path(group_pco_id: str) -> str:
    return f"/groups/v2/groups/{group_pco_id}/memberships"


def pull_memberships_page(ctx: DomainContext, position: Position) -> DomainPage:
    after_id = position.get("after_id")
    after = after_id if isinstance(after_id, str) else None
    groups = ctx.records.iter_groups_with_pco_id(after, REQUEST_BUDGET)

    read: list[tuple[Group, list[PcoMembership]]] = []
    requests = 0
    for group in groups:
        if requests >= REQUEST_BUDGET:
            break
        memberships, used = _read_memberships(ctx, group)
        read.append((group, memberships))
        requests += used

    people = ctx.records.people_by_pco_ids(
        [m.person_id for _, memberships in read for m in memberships if m.person_id]
    )
    now = ctx.clock()
    tally = Tally()
    changes: list[tuple[Group, Group | None]] = []
    for group, memberships in read:
        members: dict[str, GroupMember] = {}
        for membership in memberships:
            person = people.get(membership.person_id) if membership.person_id else None
            if person is None:
                # Not imported (yet): nothing to link it to.
                tally.add("skipped")
                continue
            members.setdefault(person.id, group_member(person.id, membership.role, membership.joined_at))
        new, counts = merge_members(group, list(members.values()), run_id=ctx.run_id, now=now)
        tally.add_counts(counts)
        if new is not None:
            changes.append((new, group))
    if changes:
        ctx.records.save_groups(changes)

    processed = int_at(position, "processed") + len(read)
    finished = len(read) == len(groups) and len(groups) < REQUEST_BUDGET
    last_id = read[-1][0].id if read else after
    return DomainPage(
        counts=tally.counts,
        next_position=None if finished else {"after_id": last_id, "processed": processed},
        processed=processed,
    )


def _read_memberships(ctx: DomainContext, group: Group) -> tuple[list[PcoMembership], int]:
    """All of one group's memberships, following PCO's next offsets; and the number of requests made."""
    assert group.pco_id is not None  # iter_groups_with_pco_id only yields linked groups
    path = memberships_path(group.pco_id)
    memberships: list[PcoMembership] = []
    offset: int | None = 0
    requests = 0
    while offset is not None:
        document = ctx.client.get(path, {"per_page": PER_PAGE, "offset": offset, "include": "person"})
        requests += 1
        memberships.extend(PcoMembership.from_resource(r, document) for r in document.resources())
        offset = next_offset_after(offset, document.next_offset, path)
    logger.debug("group memberships read", extra={"group_id": group.id, "count": len(memberships)})
    return memberships, requests
