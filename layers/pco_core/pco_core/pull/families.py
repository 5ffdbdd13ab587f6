"""Pull families: PCO households merged into families through the one household merge (merge/family.py).

Every household is read in each run that pulls families (the incremental sync too): a household's
`updated_at` does not move when its members change (developers#1253), so no filter finds those changes.
Households are walked by keyset on `created_at`, so none is skipped when others are deleted meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from pco_core.engine.domain import DomainContext, Tally
from pco_core.merge.family import merge_households
from pco_core.pco import paths
from pco_core.pco.models import PcoHousehold
from pco_core.pull.listing import PcoKeysetListing


class PullFamilies(PcoKeysetListing[PcoHousehold]):
    path = paths.HOUSEHOLDS
    query = {"include": "people"}
    attr = "created_at"
    # Re-read every hour: five PCO pages an invocation cuts the walk's invocations and transitions fivefold.
    requests_per_page = 5
    model = PcoHousehold
    kind = "family"

    def merge(self, ctx: DomainContext, records: list[PcoHousehold], tally: Tally, read_at: datetime) -> None:
        merged = merge_households(
            ctx.records, records, run_id=ctx.run_id, now=ctx.clock(), policy=ctx.policy, read_at=read_at
        )
        for result in merged.values():
            tally.add(result.outcome)
            tally.add_counts({"conflicts": result.conflict_count})
        ctx.records.log_conflicts([event for result in merged.values() for event in result.conflicts])
