"""Full Sync's deletion audit, for people and for households: PCO deletes (and merges away) records without
a trace in any listing, and a missed `destroyed` webhook would leave the local record linked forever.

1. **list**: every PCO id, cheaply: only `created_at` (a sparse fieldset), 100 per page, by keyset on
   `created_at` (no offsets). Each page's ids are kept (store/audit.py); ids no local record is linked to
   are fetched (one GET each) and merged, so a record the walk missed is not missed twice.
2. **compare**: the local records linked to PCO, read by id only, a chunk at a time, against the listed ids.
3. **confirm** (after each chunk that found some): a linked record whose PCO id was not listed is asked for
   by one GET: a 404 unlinks it (a person is also made inactive), with the reason kept on the record and
   nothing deleted; a record PCO still has is merged.
The last page gives the run PCO's total beside the local linked count (the drift check).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Literal

from aws_lambda_powertools import Logger
from pydantic import Field

from pco_core.engine.domain import Domain, DomainContext, DomainPage, KeysetPosition, Position, Tally
from pco_core.engine.ports import AuditLedger
from pco_core.errors import ConfigError, PcoRequestError
from pco_core.merge.common import closed_as_gone
from pco_core.merge.family import unlink_household
from pco_core.merge.person import unlinked_person
from pco_core.pco import paths
from pco_core.pco.jsonapi import Document
from pco_core.pull.families import PullFamilies
from pco_core.pull.people import PERSON_INCLUDES, PullPeople
from pco_core.runstate import RecordTotals, TotalsKind

logger = Logger(child=True)

# GETs of single records one page makes at most (records to fetch, or to confirm gone).
FETCH_BUDGET = 5
# Pages of ids one invocation lists (each a few small writes): fewer invocations for a long listing.
LIST_REQUESTS_PER_PAGE = 5
# Local records one compare page goes through (a few projected queries).
COMPARE_RECORDS = 5_000
GONE = "not found in PCO (404) when the Full Sync's audit looked for it: deleted or merged away in PCO"


class AuditPosition(Position):
    phase: Literal["list", "compare", "confirm"] = "list"
    listing: KeysetPosition = Field(default_factory=KeysetPosition)
    chunks: int = Field(default=0, ge=0)
    listed: int = Field(default=0, ge=0)
    # Listed ids no local record is linked to: fetched before the listing goes on.
    lacking: list[str] = Field(default_factory=list)
    cursor: str | None = None
    compared: bool = False
    local: int = Field(default=0, ge=0)
    # Linked locally and not listed: each confirmed by one GET.
    missing: list[str] = Field(default_factory=list)
    still_there: int = Field(default=0, ge=0)
    unlinked: int = Field(default=0, ge=0)


class Audit(Domain[AuditPosition]):
    position_type = AuditPosition
    kind: ClassVar[Literal["person", "family"]]
    pco_type: ClassVar[str]
    path: ClassVar[str]
    totals_kind: ClassVar[TotalsKind]

    def page(self, ctx: DomainContext, position: AuditPosition) -> DomainPage:
        tally = Tally()
        if position.lacking:
            batch, rest = position.lacking[:FETCH_BUDGET], position.lacking[FETCH_BUDGET:]
            for pco_id in batch:
                self._fetch(ctx, pco_id, tally)
            return self._next(tally, position.model_copy(update={"lacking": rest}))
        if position.phase == "list":
            return self._list(ctx, position, tally)
        if position.phase == "compare":
            return self._compare(ctx, position, tally)
        return self._confirm(ctx, position, tally)

    def _list(self, ctx: DomainContext, position: AuditPosition, tally: Tally) -> DomainPage:
        for _ in range(LIST_REQUESTS_PER_PAGE):
            position = self._list_one(ctx, position)
            if position.lacking or position.phase != "list":
                break
        return self._next(tally, position)

    def _list_one(self, ctx: DomainContext, position: AuditPosition) -> AuditPosition:
        keyset = position.listing.keyset("created_at")
        query = {**keyset.params(), f"fields[{self.pco_type}]": "created_at"}
        document = ctx.pco.get(self.path, query)
        step = keyset.advance(document)
        ids = [resource.id for resource in step.fresh]
        self._audit(ctx).put_audit_ids(ctx.run_id, self.kind, position.chunks, ids, now=ctx.clock())
        linked = self.linked(ctx, ids)
        update: dict[str, object] = {
            "chunks": position.chunks + 1,
            "listed": position.listed + len(ids),
            "lacking": [pco_id for pco_id in ids if pco_id not in linked],
        }
        if step.following is None:
            update["phase"] = "compare"
        else:
            update["listing"] = position.listing.following(
                step.following, processed=0, total=None, cap_ids=[]
            )
        return position.model_copy(update=update)

    def _compare(self, ctx: DomainContext, position: AuditPosition, tally: Tally) -> DomainPage:
        listed = self._audit(ctx).audit_ids(ctx.run_id, self.kind)
        linked, cursor = ctx.records.linked_pco_ids(self.kind, position.cursor, COMPARE_RECORDS)
        missing = position.missing + [pco_id for pco_id in linked if pco_id not in listed]
        # Those missing are confirmed before the comparison goes on, so the run item never holds more
        # than one chunk's worth of them (a mass deletion in PCO included).
        update = {
            "cursor": cursor,
            "compared": cursor is None,
            "local": position.local + len(linked),
            "missing": missing,
            "phase": "confirm" if missing or cursor is None else "compare",
        }
        return self._next(tally, position.model_copy(update=update))

    def _confirm(self, ctx: DomainContext, position: AuditPosition, tally: Tally) -> DomainPage:
        batch, rest = position.missing[:FETCH_BUDGET], position.missing[FETCH_BUDGET:]
        still_there = sum(self._fetch(ctx, pco_id, tally, unlink_if_gone=True) for pco_id in batch)
        following = position.model_copy(
            update={
                "missing": rest,
                "still_there": position.still_there + still_there,
                "unlinked": position.unlinked + len(batch) - still_there,
            }
        )
        if rest:
            return self._next(tally, following)
        if not following.compared:
            return self._next(tally, following.model_copy(update={"phase": "compare"}))
        totals = RecordTotals(
            pco=following.listed + following.still_there, local=following.local - following.unlinked
        )
        done = following.listed + following.local
        logger.info(
            "audit done",
            extra={
                "kind": self.kind,
                "pco": totals.pco,
                "local": totals.local,
                "unlinked": following.unlinked,
            },
        )
        return DomainPage(tally.counts, None, done, done, totals={self.totals_kind: totals})

    def _fetch(self, ctx: DomainContext, pco_id: str, tally: Tally, *, unlink_if_gone: bool = False) -> bool:
        """Read one record from PCO and merge it; whether PCO had it. Gone: unlinked when asked."""
        read_at = ctx.clock()
        try:
            document = ctx.pco.get(f"{self.path}/{pco_id}", self.fetch_query)
        except PcoRequestError as exc:
            if exc.status != 404:
                raise
            if unlink_if_gone:
                self.unlink(ctx, pco_id, tally)
            return False
        self.merge_fetched(ctx, document, tally, read_at)
        return True

    @staticmethod
    def _next(tally: Tally, position: AuditPosition) -> DomainPage:
        processed = position.listed + position.local
        return DomainPage(tally.counts, position, processed)

    @staticmethod
    def _audit(ctx: DomainContext) -> AuditLedger:
        if ctx.audit is None:
            raise ConfigError("the audit needs somewhere to keep the ids it lists")
        return ctx.audit

    fetch_query: ClassVar[Mapping[str, str | int]] = {}

    @abstractmethod
    def linked(self, ctx: DomainContext, pco_ids: list[str]) -> set[str]:
        """Which of `pco_ids` a local record is linked to."""

    @abstractmethod
    def merge_fetched(self, ctx: DomainContext, document: Document, tally: Tally, read_at: datetime) -> None:
        """Merge the one record `document` holds."""

    @abstractmethod
    def unlink(self, ctx: DomainContext, pco_id: str, tally: Tally) -> None:
        """PCO no longer has `pco_id`: its local record is unlinked (never deleted)."""


class AuditPeople(Audit):
    kind = "person"
    pco_type = "Person"
    path = paths.PEOPLE
    totals_kind = "people"
    fetch_query = PERSON_INCLUDES

    def linked(self, ctx: DomainContext, pco_ids: list[str]) -> set[str]:
        return set(ctx.records.people_by_pco_ids(pco_ids)) if pco_ids else set()

    def merge_fetched(self, ctx: DomainContext, document: Document, tally: Tally, read_at: datetime) -> None:
        PullPeople().merge(
            ctx, PullPeople().parse(ctx, document.resources(), document, tally), tally, read_at
        )

    def unlink(self, ctx: DomainContext, pco_id: str, tally: Tally) -> None:
        person = ctx.records.people_by_pco_ids([pco_id]).get(pco_id)
        if person is None:
            return
        unlinked = unlinked_person(person, ctx.clock())
        note = {"unlinked_reason": GONE, "unlinked_pco_id": pco_id}
        unlinked = unlinked.model_copy(update={"sync": unlinked.sync.model_copy(update=note)})
        ctx.records.save_people([(unlinked, person)])
        ctx.records.log_conflicts(closed_as_gone("person", person))
        logger.info("person unlinked: gone from PCO", extra={"person_id": person.id, "pco_id": pco_id})
        tally.add("updated")


class AuditHouseholds(Audit):
    kind = "family"
    pco_type = "Household"
    path = paths.HOUSEHOLDS
    totals_kind = "households"
    fetch_query = {"include": "people"}

    def linked(self, ctx: DomainContext, pco_ids: list[str]) -> set[str]:
        return set(ctx.records.families_by_pco_ids(pco_ids)) if pco_ids else set()

    def merge_fetched(self, ctx: DomainContext, document: Document, tally: Tally, read_at: datetime) -> None:
        PullFamilies().merge(
            ctx, PullFamilies().parse(ctx, document.resources(), document, tally), tally, read_at
        )

    def unlink(self, ctx: DomainContext, pco_id: str, tally: Tally) -> None:
        family = ctx.records.families_by_pco_ids([pco_id]).get(pco_id)
        if family is None:
            return
        unlink_household(ctx.records, family, ctx.clock(), reason=GONE)
        ctx.records.log_conflicts(closed_as_gone("family", family))
        logger.info("family unlinked: gone from PCO", extra={"family_id": family.id, "pco_id": pco_id})
        tally.add("updated")
