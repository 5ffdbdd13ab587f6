"""A pull domain that walks one PCO listing by offset: each page is fetched, parsed and merged, and the
offset moves on with PCO's `next` (a listing that stops moving forward fails loudly, never loops).

A domain declares what differs (path, query, the record model, how a page of records merges), as singer-sdk
streams do; this class does the walking.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Protocol, Self

from aws_lambda_powertools import Logger

from pco_core.engine.domain import PER_PAGE, Domain, DomainContext, DomainPage, OffsetPosition, Tally
from pco_core.errors import SkippableRecordError
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.paginate import OffsetPaginator
from pco_core.runstate import RecordFailure, RecordKind

logger = Logger(child=True)


class PcoRecordModel(Protocol):
    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self: ...


class PcoListing[R: PcoRecordModel](Domain[OffsetPosition]):
    position_type = OffsetPosition
    path: ClassVar[str]
    query: ClassVar[Mapping[str, str | int]]
    model: type[R]
    kind: ClassVar[RecordKind]

    def page(self, ctx: DomainContext, position: OffsetPosition) -> DomainPage:
        paginator = OffsetPaginator(position.offset, PER_PAGE)
        document = ctx.pco.get(self.path, {**paginator.params(), **self.query})
        tally = Tally()
        records: list[R] = []
        for resource in document.resources():
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
        if records:
            self.merge(ctx, records, tally)
        processed = position.processed + len(document.resources())
        following = paginator.advance(document)
        return DomainPage(
            counts=tally.counts,
            next_position=None
            if following is None
            else OffsetPosition(offset=following, processed=processed),
            processed=processed,
            total=document.total_count,
        )

    def count(self, ctx: DomainContext) -> int | None:
        """PCO's total for the listing, from a one-record page (one request)."""
        return ctx.pco.get(self.path, {"per_page": 1}).total_count

    @abstractmethod
    def merge(self, ctx: DomainContext, records: list[R], tally: Tally) -> None:
        """Merge one page of PCO records into the local records and count each one."""
