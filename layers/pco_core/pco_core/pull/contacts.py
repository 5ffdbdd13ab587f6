"""Pull the emails, phone numbers and addresses PCO changed since their watermarks, each merged into its
person by PCO id (merge/contact_item.py): changing a contact does not move its person's `updated_at`, so
the people walk alone would miss it.

Emails and phone numbers are walked by keyset on their own `updated_at`. Addresses cannot be filtered by
`updated_at` in PCO, only ordered: they are read newest first (`order=-updated_at`) down to the watermark.
A contact PCO deleted is not listed at all: its webhook removes it, or the next Full Sync does.

Where a kind has no watermark yet, the people walk of the same run started from the `people` one (or from
the start of the listing, so every contact came with its person): that is where this kind begins too.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from aws_lambda_powertools import Logger
from pydantic import Field

from pco_core.engine.domain import Domain, DomainContext, DomainPage, KeysetPosition, Position, Tally
from pco_core.merge.common import Outcome
from pco_core.merge.contact_item import ContactList, known_items, merge_contacts, placed
from pco_core.merge.contacts import local_contact
from pco_core.pco import paths
from pco_core.pco.models import PcoAddress, PcoEmail, PcoPhone
from pco_core.pco.paginate import DEEP_OFFSET, DRAIN_OVERLAP, MAX_PER_PAGE, stamp
from pco_core.pull.listing import PcoKeysetListing, RecordMerging
from pco_core.records import ConflictEvent, Person
from pco_core.runstate import RecordKind, Watermark

logger = Logger(child=True)


class _ContactMerge[C: (PcoEmail, PcoPhone, PcoAddress)](RecordMerging[C]):
    # An email, phone or address PCO cannot read is reported as its person's failure.
    kind: ClassVar[RecordKind] = "person"
    attribute: ClassVar[ContactList]
    watermark_name: ClassVar[str]

    def start_mark(self, ctx: DomainContext) -> Watermark | None:
        """Where this kind's changes are read from; None when the run's people walk read every person."""
        return ctx.watermarks.get(self.watermark_name) or ctx.watermarks.get("people")

    def finished(self, ctx: DomainContext, tally: Tally, processed: int, cap_ids: list[str]) -> DomainPage:
        """The last page: every change of this kind up to the run's start has been read."""
        reached = {self.watermark_name: Watermark(at=ctx.watermark_cap, ids=cap_ids)}
        return DomainPage(tally.counts, None, processed, processed, reached=reached)

    def merge(self, ctx: DomainContext, records: list[C], tally: Tally, read_at: datetime) -> None:
        people = ctx.records.people_by_pco_ids({item.person_id for item in records if item.person_id})
        # A mark of its own, so a retried page counts a person it already changed as the first attempt did.
        mark = f"{ctx.run_id}#{self.watermark_name}"
        current: dict[str, Person] = {}
        outcomes: dict[str, list[Outcome]] = {}
        conflict_counts: dict[str, int] = {}
        events: dict[str, list[ConflictEvent]] = {}
        now = ctx.clock()
        for item in records:
            local = local_contact(item)
            person = current.get(item.person_id or "") or people.get(item.person_id or "")
            if local is None or person is None:
                # No value, or its person is not linked here (the people walk had nothing to import).
                tally.add("skipped")
                continue
            merged = merge_contacts(
                person,
                self.attribute,
                placed(known_items(person, self.attribute), local),
                run_id=mark,
                now=now,
                policy=ctx.policy,
                source=ctx.run_id,
            )
            if merged.record is not None:
                current[item.person_id or ""] = merged.record
            outcomes.setdefault(item.person_id or "", []).append(merged.outcome)
            events.setdefault(item.person_id or "", []).extend(merged.conflicts)
            conflict_counts[item.person_id or ""] = (
                conflict_counts.get(item.person_id or "", 0) + merged.conflict_count
            )
        newer = (
            ctx.records.save_people([(new, people[pid]) for pid, new in current.items()], read_at=read_at)
            if current
            else set()
        )
        # A person written after this page read PCO (a webhook, an edit) keeps that newer change: its
        # contacts count as skipped and their conflicts wait for the next run.
        newer_pco_ids = {new.pco_id for new in current.values() if new.id in newer}
        for pco_id, kinds in outcomes.items():
            if pco_id in newer_pco_ids:
                tally.add_counts({"skipped": len(kinds)})
                continue
            for outcome in kinds:
                tally.add(outcome)
            tally.add_counts({"conflicts": conflict_counts[pco_id]})
        ctx.records.log_conflicts(
            [e for pid, found in events.items() if pid not in newer_pco_ids for e in found]
        )


class _ContactKeysetChanges[C: (PcoEmail, PcoPhone)](_ContactMerge[C], PcoKeysetListing[C]):
    attr = "updated_at"
    query: ClassVar[dict[str, str | int]] = {}

    def start(self, ctx: DomainContext) -> KeysetPosition:
        mark = self.start_mark(ctx)
        assert mark is not None  # page() finishes at once without one
        return KeysetPosition(after=mark.at, seen=list(mark.ids))

    def page(self, ctx: DomainContext, position: KeysetPosition) -> DomainPage:
        if position == KeysetPosition() and self.start_mark(ctx) is None:
            return self.finished(ctx, Tally(), 0, [])
        return super().page(ctx, position)


class PullEmailChanges(_ContactKeysetChanges[PcoEmail]):
    path = paths.EMAILS
    model = PcoEmail
    attribute = "emails"
    watermark = "emails"
    watermark_name = "emails"
    reaches = ("emails",)


class PullPhoneChanges(_ContactKeysetChanges[PcoPhone]):
    path = paths.PHONE_NUMBERS
    model = PcoPhone
    attribute = "phones"
    watermark = "phone_numbers"
    watermark_name = "phone_numbers"
    reaches = ("phone_numbers",)


class NewestFirstPosition(Position):
    """Addresses read newest first, by offset, down to `floor` (the watermark and the ids read at it)."""

    started: bool = False
    offset: int = Field(default=0, ge=0)
    floor: datetime | None = None
    floor_ids: list[str] = Field(default_factory=list)
    # The previous page's ids: rows read again when the next page overlaps it are not merged twice.
    recent: list[str] = Field(default_factory=list)
    cap_ids: list[str] = Field(default_factory=list)


class PullAddressChanges(_ContactMerge[PcoAddress], Domain[NewestFirstPosition]):
    position_type = NewestFirstPosition
    model = PcoAddress
    attribute = "addresses"
    watermark_name = "addresses"

    def page(self, ctx: DomainContext, position: NewestFirstPosition) -> DomainPage:
        if not position.started:
            mark = self.start_mark(ctx)
            if mark is None:
                return self.finished(ctx, Tally(), 0, [])
            position = NewestFirstPosition(started=True, floor=mark.at, floor_ids=mark.ids)
        query: dict[str, str | int] = {
            "order": "-updated_at",
            "per_page": MAX_PER_PAGE,
            "offset": position.offset,
        }
        read_at = ctx.clock()
        document = ctx.pco.get(paths.ADDRESSES, query)
        rows = document.resources()
        floor, cap = position.floor, ctx.watermark_cap
        fresh, below = [], False
        for row in rows:
            moment = stamp(row, "updated_at")
            if moment is not None and floor is not None and moment < floor:
                below = True
            elif row.id not in position.recent and not (moment == floor and row.id in position.floor_ids):
                fresh.append(row)
        tally = Tally()
        records = self.parse(ctx, fresh, document, tally)
        if records:
            self.merge(ctx, records, tally, read_at)
        processed = position.processed + len(fresh)
        cap_ids = position.cap_ids + [row.id for row in fresh if stamp(row, "updated_at") == cap]
        if below or not document.has_next:
            return self.finished(ctx, tally, processed, cap_ids)
        following = position.offset + max(len(rows) - DRAIN_OVERLAP, 1)
        if following > DEEP_OFFSET:
            # PCO throttles offsets past 30,000 and addresses offer no filter to go deeper another way:
            # the watermark stays where it was, and the next Full Sync reads every address with its person.
            logger.warning("address changes go deeper than PCO's offset limit", extra={"offset": following})
            return DomainPage(tally.counts, None, processed, processed)
        next_position = position.model_copy(
            update={
                "offset": following,
                "processed": processed,
                "recent": [row.id for row in rows],
                "cap_ids": cap_ids,
            }
        )
        return DomainPage(tally.counts, next_position, processed)
