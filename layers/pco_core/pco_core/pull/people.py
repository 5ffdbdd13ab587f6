"""Pull people: PCO people with their emails, phones, addresses and households, matched and merged."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext, Tally
from pco_core.errors import PcoLinkTaken
from pco_core.merge.common import Merged
from pco_core.merge.matching import PersonMatch
from pco_core.merge.person import merge_person, person_fields
from pco_core.pco import paths
from pco_core.pco.models import PcoPerson
from pco_core.pull.listing import PcoListing
from pco_core.records import Person

logger = Logger(child=True)


class PullPeople(PcoListing[PcoPerson]):
    path = paths.PEOPLE
    # created_at order keeps offsets stable while people are added during the run.
    query = {"include": "emails,phone_numbers,addresses,households", "order": "created_at"}
    model = PcoPerson

    def merge(self, ctx: DomainContext, records: list[PcoPerson], tally: Tally, read_at: datetime) -> None:
        matches = PersonMatch(ctx.records).match_page(records)
        now = ctx.clock()
        changes: list[tuple[Person, Person | None]] = []
        merged: dict[str, Merged[Person]] = {}
        for pco in records:
            existing = matches[pco.id]
            merged[pco.id] = result = merge_person(
                existing,
                person_fields(pco),
                pco_id=pco.id,
                pco_updated_at=pco.updated_at,
                run_id=ctx.run_id,
                now=now,
                policy=ctx.policy,
            )
            if result.record is not None:
                changes.append((result.record, existing))
        refused: set[str] = set()
        newer: set[str] = set()
        if changes:
            try:
                written_since = ctx.records.save_people(changes, read_at=read_at)
            except PcoLinkTaken as exc:
                # Another local person holds that PCO id (a race with a webhook or a push): not linked twice.
                logger.warning("PCO person not linked", extra={"reason": str(exc)})
                refused = set(exc.taken.values())
            else:
                # Changed by a webhook (or an edit) after this page read PCO: that newer change stays, and
                # the conflicts this merge found are not logged (it wrote nothing; the next run merges again).
                newer = {new.pco_id for new, _ in changes if new.id in written_since and new.pco_id}
        for pco_id, result in merged.items():
            if pco_id in refused:
                tally.failed()
                continue
            if pco_id in newer:
                tally.add("skipped")
                continue
            tally.add(result.outcome)
            tally.add_counts({"conflicts": result.conflict_count})
        ctx.records.log_conflicts(
            [e for pco_id, r in merged.items() if pco_id not in refused | newer for e in r.conflicts]
        )
