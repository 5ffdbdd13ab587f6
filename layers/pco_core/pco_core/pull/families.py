"""Pull families: PCO households merged into families through the one household merge (merge/family.py)."""

from __future__ import annotations

from pco_core.engine.domain import DomainContext, Tally
from pco_core.merge.family import merge_households
from pco_core.pco import paths
from pco_core.pco.models import PcoHousehold
from pco_core.pull.listing import PcoListing


class PullFamilies(PcoListing[PcoHousehold]):
    path = paths.HOUSEHOLDS
    query = {"include": "people"}
    model = PcoHousehold
    kind = "family"

    def merge(self, ctx: DomainContext, records: list[PcoHousehold], tally: Tally) -> None:
        merged = merge_households(ctx.records, records, run_id=ctx.run_id, now=ctx.clock(), policy=ctx.policy)
        for result in merged.values():
            tally.add(result.outcome)
            tally.add_counts({"conflicts": result.conflict_count})
        ctx.records.log_conflicts([event for result in merged.values() for event in result.conflicts])
