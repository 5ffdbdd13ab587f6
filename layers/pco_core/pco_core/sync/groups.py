"""Groups: one page of PCO groups upserted by PCO id under the "PCO Groups" department (members later)."""

from __future__ import annotations

from pco_core.pco.models import PcoGroup
from pco_core.records import Group
from pco_core.sync.domain import (
    PER_PAGE,
    DomainContext,
    DomainPage,
    Position,
    Tally,
    int_at,
    next_offset_after,
)
from pco_core.sync.mapping import GroupFields, merge_group

GROUPS_PATH = "/groups/v2/groups"


def pull_groups_page(ctx: DomainContext, position: Position) -> DomainPage:
    offset = int_at(position, "offset")
    document = ctx.client.get(GROUPS_PATH, {"per_page": PER_PAGE, "offset": offset, "include": "group_type"})
    pco_groups = [PcoGroup.from_resource(resource, document) for resource in document.resources()]
    existing = ctx.records.groups_by_pco_ids([g.id for g in pco_groups])
    now = ctx.clock()

    tally = Tally()
    changes: list[tuple[Group, Group | None]] = []
    for pco in pco_groups:
        previous = existing.get(pco.id)
        name = pco.name or f"PCO group {pco.id}"
        new, outcome = merge_group(
            previous, GroupFields(name=name), pco_id=pco.id, run_id=ctx.run_id, now=now
        )
        tally.add(outcome)
        if new is not None:
            changes.append((new, previous))
    if changes:
        ctx.records.save_groups(changes)

    processed = int_at(position, "processed") + len(pco_groups)
    following = next_offset_after(offset, document.next_offset, GROUPS_PATH)
    return DomainPage(
        counts=tally.counts,
        next_position=None if following is None else {"offset": following, "processed": processed},
        processed=processed,
        total=document.total_count,
    )
