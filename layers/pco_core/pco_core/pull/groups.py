"""Pull groups: PCO groups upserted by PCO id under the "PCO Groups" department (members: memberships)."""

from __future__ import annotations

from pco_core.engine.domain import DomainContext, Tally
from pco_core.merge.group import group_fields, merge_group
from pco_core.pco import paths
from pco_core.pco.models import PcoGroup
from pco_core.pull.listing import PcoListing
from pco_core.records import Group


class PullGroups(PcoListing[PcoGroup]):
    path = paths.GROUPS
    query = {"include": "group_type"}
    model = PcoGroup
    kind = "group"

    def merge(self, ctx: DomainContext, records: list[PcoGroup], tally: Tally) -> None:
        existing = ctx.records.groups_by_pco_ids([g.id for g in records])
        now = ctx.clock()
        changes: list[tuple[Group, Group | None]] = []
        for pco in records:
            previous = existing.get(pco.id)
            new, outcome = merge_group(previous, group_fields(pco), pco_id=pco.id, run_id=ctx.run_id, now=now)
            tally.add(outcome)
            if new is not None:
                changes.append((new, previous))
        if changes:
            ctx.records.save_groups(changes)
