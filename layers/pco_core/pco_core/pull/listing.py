"""Pull domains that walk one PCO listing: each page is fetched, parsed and merged, then the walk moves on.

A domain declares what differs (path, query, the record model, how a page of records merges), as singer-sdk
streams do; these classes do the walking. `PcoListing` walks by offset (groups: a short listing);
`PcoKeysetListing` walks by keyset on a timestamp (pco.paginate.Keyset), from the start of the listing or
from a watermark, and reports the watermarks it brings up to the run's start once it has read to the end.
The merge is told when the page read PCO (`read_at`): a local record written since then holds a newer
change than that read and is not overwritten (store/records.py).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar, Protocol, Self

from aws_lambda_powertools import Logger

from pco_core.engine.domain import (
    PER_PAGE,
    Domain,
    DomainContext,
    DomainPage,
    KeysetPosition,
    OffsetPosition,
    Tally,
)
from pco_core.errors import SkippableRecordError
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.paginate import OffsetPaginator, stamp
from pco_core.runstate import RecordFailure, RecordKind, RecordTotals, TotalsKind, Watermark

logger = Logger(child=True)


class PcoRecordModel(Protocol):
    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self: ...


class RecordMerging[R: PcoRecordModel]:
    """Parse a page's PCO resources into records and merge them (what each pull domain declares)."""

    model: type[R]
    kind: ClassVar[RecordKind]

    def parse(
        self, ctx: DomainContext, resources: Sequence[Resource], document: Document, tally: Tally
    ) -> list[R]:
        """The records of `resources`; one PCO cannot read is counted failed (and reported) and the rest
        go on."""
        records: list[R] = []
        for resource in resources:
            try:
                records.append(self.model.from_resource(resource, document))
            except SkippableRecordError as exc:
                logger.warning("PCO record skipped", extra={"pco_id": resource.id, "reason": str(exc)})
                tally.failed()
                ctx.report(
                    RecordFailure(
                        kind=self.kind,
                        pco_id=resource.id,
                        operation="pull from PCO",
                        message=f"PCO's record could not be read: {exc}",
                        at=ctx.clock(),
                    )
                )
        return records

    @abstractmethod
    def merge(self, ctx: DomainContext, records: list[R], tally: Tally, read_at: datetime) -> None:
        """Merge one page of PCO records, read from PCO at `read_at`, into the local records and count each
        one (a record left alone because it was written since `read_at` counts as skipped)."""


class PcoListing[R: PcoRecordModel](RecordMerging[R], Domain[OffsetPosition]):
    position_type = OffsetPosition
    path: ClassVar[str]
    query: ClassVar[Mapping[str, str | int]]

    def page(self, ctx: DomainContext, position: OffsetPosition) -> DomainPage:
        paginator = OffsetPaginator(position.offset, PER_PAGE)
        read_at = ctx.clock()
        document = ctx.pco.get(self.path, {**paginator.params(), **self.query})
        tally = Tally()
        records = self.parse(ctx, document.resources(), document, tally)
        if records:
            self.merge(ctx, records, tally, read_at)
        processed = position.processed + len(document.resources())
        following = paginator.advance(document)
        return DomainPage(
            counts=tally.counts,
            next_position=None
            if following is None
            else OffsetPosition(offset=following, processed=processed),
            processed=processed,
            total=document.total_count,
            totals=self.totals(ctx, document) if following is None else {},
        )

    def count(self, ctx: DomainContext) -> int | None:
        """PCO's total for the listing, from a one-record page (one request)."""
        return ctx.pco.get(self.path, {"per_page": 1}).total_count

    def totals(self, ctx: DomainContext, last_page: Document) -> dict[TotalsKind, RecordTotals]:
        """What the walk, once done, tells the run's drift check (nothing by default)."""
        return {}


class PcoKeysetListing[R: PcoRecordModel](RecordMerging[R], Domain[KeysetPosition]):
    """A listing walked in `attr` order by keyset. `watermark` names the deployment watermark an incremental
    walk starts from (None: the whole listing); `reaches` the watermarks it brings to the run's start."""

    position_type = KeysetPosition
    path: ClassVar[str]
    query: ClassVar[Mapping[str, str | int]]
    attr: ClassVar[str]
    watermark: ClassVar[str | None] = None
    reaches: ClassVar[tuple[str, ...]] = ()
    # PCO pages read and merged by one invocation, committed together: fewer Lambda invocations and state
    # transitions for a long walk. The engine waits before a page once fewer than RATE_RESERVE requests are
    # left in PCO's window, so this stays below it.
    requests_per_page: ClassVar[int] = 1

    def count(self, ctx: DomainContext) -> int | None:
        """PCO's total for a whole walk (one one-record request); an incremental walk's is not known."""
        if self.watermark is not None:
            return None
        return ctx.pco.get(self.path, {"per_page": 1}).total_count

    def start(self, ctx: DomainContext) -> KeysetPosition:
        """Where the walk begins: the stored watermark (its second, and the ids already read there)."""
        mark = ctx.watermarks.get(self.watermark) if self.watermark else None
        return KeysetPosition() if mark is None else KeysetPosition(after=mark.at, seen=list(mark.ids))

    def page(self, ctx: DomainContext, position: KeysetPosition) -> DomainPage:
        if position == KeysetPosition():
            position = self.start(ctx)
        tally = Tally()
        for _ in range(self.requests_per_page):
            reached, ended = self._step(ctx, position, tally)
            if ended:
                break
            position = reached
        if not ended:
            return DomainPage(tally.counts, position, position.processed, position.total)
        marks = {
            name: Watermark(at=ctx.watermark_cap, ids=reached.cap_ids if name == self.watermark else [])
            for name in self.reaches
        }
        done = reached.processed
        return DomainPage(tally.counts, None, done, max(reached.total or 0, done), reached=marks)

    def _step(
        self, ctx: DomainContext, position: KeysetPosition, tally: Tally
    ) -> tuple[KeysetPosition, bool]:
        """One PCO page of the walk, merged: where the walk stands after it, and whether the listing ended
        (then only its counts mean anything)."""
        keyset = position.keyset(self.attr)
        read_at = ctx.clock()
        document = ctx.pco.get(self.path, {**keyset.params(), **self.query})
        step = keyset.advance(document)
        records = self.parse(ctx, step.fresh, document, tally)
        if records:
            self.merge(ctx, records, tally, read_at)
        processed = position.processed + len(step.fresh)
        cap = ctx.watermark_cap
        cap_ids = position.cap_ids + [r.id for r in step.fresh if stamp(r, self.attr) == cap]
        total = position.total
        if keyset.drain_offset is None and document.total_count is not None:
            # The rows from this page on, less those finished before it: what is left, plus what is done.
            total = position.processed + document.total_count - (len(document.resources()) - len(step.fresh))
        following = step.following or keyset
        reached = position.following(following, processed=processed, total=total, cap_ids=cap_ids)
        return reached, step.following is None
