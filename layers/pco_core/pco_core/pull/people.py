"""Pull people: PCO people with their emails, phones, addresses and households, matched and merged.

Full Sync walks every person by `created_at` (a keyset: people deleted, merged or added meanwhile cannot
shift anyone past the cursor); "Sync People" walks only those whose `updated_at` moved since the watermark.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext, Tally
from pco_core.errors import PcoLinkTaken
from pco_core.merge.common import Merged
from pco_core.merge.matching import PersonMatch
from pco_core.merge.person import merge_person, person_fields
from pco_core.pco import paths
from pco_core.pco.models import PcoPerson
from pco_core.pull.listing import PcoKeysetListing
from pco_core.records import Person
from pco_core.runstate import RecordFailure

logger = Logger(child=True)

# What a person's merge needs: its contacts replace the local ones as a whole.
PERSON_INCLUDES = {"include": "emails,phone_numbers,addresses,households"}
# The watermarks of PCO's changes to people and to their contacts (each read by its own updated_at).
CONTACT_WATERMARKS = ("emails", "phone_numbers", "addresses")


class PullPeople(PcoKeysetListing[PcoPerson]):
    """Every PCO person, by `created_at`. Having read them all (with their contacts) as of the run's start,
    it brings the people and contact watermarks there too."""

    path = paths.PEOPLE
    query = PERSON_INCLUDES
    attr = "created_at"
    reaches: ClassVar[tuple[str, ...]] = ("people", *CONTACT_WATERMARKS)
    requests_per_page = 3
    model = PcoPerson
    kind = "person"

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
                ctx.report(_not_linked(pco_id, result, records, now))
                continue
            if pco_id in newer:
                tally.add("skipped")
                continue
            tally.add(result.outcome)
            tally.add_counts({"conflicts": result.conflict_count})
        ctx.records.log_conflicts(
            [e for pco_id, r in merged.items() if pco_id not in refused | newer for e in r.conflicts]
        )


class PullPeopleChanges(PullPeople):
    """The people PCO changed since the `people` watermark, by `updated_at`."""

    attr = "updated_at"
    watermark = "people"
    reaches = ("people",)


def _not_linked(pco_id: str, result: Merged[Person], records: list[PcoPerson], at: datetime) -> RecordFailure:
    pco = next((p for p in records if p.id == pco_id), None)
    name = f"{pco.first_name} {pco.last_name}".strip() if pco is not None else ""
    return RecordFailure(
        kind="person",
        record_id=result.record.id if result.record is not None else None,
        pco_id=pco_id,
        name=name or None,
        operation="link to PCO",
        message="Another person here is already linked to this PCO person, so this one was not linked.",
        at=at,
    )
