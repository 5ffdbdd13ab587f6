"""Pull groups: PCO groups upserted by PCO id under the "PCO Groups" department (members: memberships).

Each group also keeps PCO's `memberships_count` as listed (groups and memberships have no `updated_at`):
an incremental sync re-reads the member lists of the groups whose count moved since their list was read.
"""

from __future__ import annotations

from datetime import datetime

from pco_core.engine.domain import DomainContext, Tally
from pco_core.merge.common import Outcome
from pco_core.merge.group import group_fields, merge_group
from pco_core.pco import paths
from pco_core.pco.jsonapi import Document
from pco_core.pco.models import PcoGroup
from pco_core.pull.listing import PcoListing
from pco_core.records import Group
from pco_core.runstate import RecordTotals, TotalsKind

# More groups than any church has: the drift check counts the linked ones in one go.
MAX_GROUPS = 100_000


class PullGroups(PcoListing[PcoGroup]):
    path = paths.GROUPS
    query = {"include": "group_type"}
    model = PcoGroup
    kind = "group"

    def merge(self, ctx: DomainContext, records: list[PcoGroup], tally: Tally, read_at: datetime) -> None:
        existing = ctx.records.groups_by_pco_ids([g.id for g in records])
        now = ctx.clock()
        changes: list[tuple[Group, Group | None]] = []
        outcomes: dict[str, Outcome] = {}
        for pco in records:
            previous = existing.get(pco.id)
            new, outcomes[pco.id] = merge_group(
                previous, group_fields(pco), pco_id=pco.id, run_id=ctx.run_id, now=now
            )
            written = new or previous
            if written is not None and written.sync.pco_members_listed != pco.memberships_count:
                sync = written.sync.model_copy(update={"pco_members_listed": pco.memberships_count})
                new = written.model_copy(update={"sync": sync})
            if new is not None:
                changes.append((new, previous))
        newer = ctx.records.save_groups(changes, read_at=read_at) if changes else set()
        # A group written after this page read PCO (a webhook) keeps that newer change.
        newer_pco_ids = {new.pco_id for new, _ in changes if new.id in newer}
        for pco_id, outcome in outcomes.items():
            tally.add("skipped" if pco_id in newer_pco_ids else outcome)

    def totals(self, ctx: DomainContext, last_page: Document) -> dict[TotalsKind, RecordTotals]:
        linked = len(ctx.records.iter_groups_with_pco_id(None, MAX_GROUPS))
        return {"groups": RecordTotals(pco=last_page.total_count, local=linked)}
