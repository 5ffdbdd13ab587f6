"""What every push domain shares: a budgeted walk over local records, the request count, PCO's answers.

A push page walks local records in id order (the kind-index GSI), about RECORDS_PER_PAGE at a time, and
stops early once its PCO request budget is spent, or once PCO fails a request after some records were
finished (those are committed; the failed record is tried again by the next page); its position names the
listing page it read (`cursor`) and the last record it finished (`after_id`), so a retried or continued
page starts at the next record.
A domain declares how to list its records, what a record will cost and how to push one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.engine.domain import Domain, DomainContext, DomainPage, Tally, WalkPosition
from pco_core.engine.failures import failure_of
from pco_core.engine.ports import Pco, QueryParams, Records
from pco_core.errors import FatalError, PcoRequestError, PcoUnavailable, RunStopped, SkippableRecordError
from pco_core.pco.jsonapi import Document, Resource
from pco_core.records import Family, Group, Person
from pco_core.runstate import RecordFailure

logger = Logger(child=True)

RECORDS_PER_PAGE = 25
# PCO allows 100 requests per 20 s; a page leaves room for the next one and for the rate-header wait.
REQUEST_BUDGET = 40

type Lister[R] = Callable[[int, str | None], tuple[list[R], str | None]]


class CountingPco:
    """The PCO client with a count of the requests this page sent (the page's budget)."""

    def __init__(self, client: Pco) -> None:
        self._client = client
        self.requests = 0

    def get(self, path: str, params: QueryParams | None = None) -> Document:
        self.requests += 1
        return self._client.get(path, params)

    def post(self, path: str, document: Mapping[str, Any]) -> Document:
        self.requests += 1
        return self._client.post(path, document)

    def patch(self, path: str, document: Mapping[str, Any]) -> Document:
        self.requests += 1
        return self._client.patch(path, document)

    def delete(self, path: str) -> None:
        """DELETE; a 404 means it is gone already, which is what we wanted."""
        self.requests += 1
        try:
            self._client.delete(path)
        except PcoRequestError as exc:
            if exc.status != 404:
                raise


def resource_of(document: Document, what: str) -> Resource:
    """The one resource a PCO write answered with."""
    found = document.resources()
    if len(found) != 1:
        raise FatalError(f"PCO answered the {what} write without the resource")
    return found[0]


def is_duplicate(exc: PcoRequestError) -> bool:
    """PCO's answer to a membership it already has: a 422 validation error ("taken" / "only have one")."""
    if exc.status != 422:
        return False
    text = " ".join(
        str(err.get(key) or "") for err in exc.errors for key in ("code", "detail", "title")
    ).casefold()
    return "taken" in text or "only have one" in text or "already" in text or "duplicate" in text


class RecordWalk[R: Person | Family | Group]:
    """One page of local records from `position`: those after `after_id` within the listing at `cursor`."""

    def __init__(self, lister: Lister[R], position: WalkPosition) -> None:
        self.position = position
        listed, self.next_cursor = lister(RECORDS_PER_PAGE, position.cursor)
        self.records: Sequence[R] = [
            r for r in listed if position.after_id is None or r.id > position.after_id
        ]

    def position_after(self, done: Sequence[R]) -> WalkPosition | None:
        """Where the next page starts once `done` (a prefix of `records`) is finished; None: walk over."""
        processed = self.position.processed + len(done)
        if len(done) < len(self.records):
            after = done[-1].id if done else self.position.after_id
            return WalkPosition(cursor=self.position.cursor, after_id=after, processed=processed)
        if self.next_cursor is None:
            return None
        return WalkPosition(cursor=self.next_cursor, processed=processed)


class PushDomain[R: Person | Family | Group, Prepared](Domain[WalkPosition]):
    """A push domain: local records in id order, each pushed within the page's request budget. A record PCO
    refuses (or that cannot be linked safely) counts as failed and the others go on; a cancel stops the page
    before the next record that would write."""

    position_type = WalkPosition

    def page(self, ctx: DomainContext, position: WalkPosition) -> DomainPage:
        pco = CountingPco(ctx.pco)
        walk = RecordWalk(self.lister(ctx.records), position)
        prepared = self.prepare(ctx.records, walk.records)
        tally = Tally()
        done: list[R] = []
        for record in walk.records:
            cost = self.cost(record, prepared)
            if done and pco.requests + cost > REQUEST_BUDGET:
                break
            try:
                if cost:
                    ensure_running(ctx)
                tally.add_counts(self.push(ctx, pco, record, prepared))
            except RunStopped:
                break
            except PcoUnavailable:
                if not done:
                    raise
                logger.warning(
                    "PCO failed a request: the records finished so far are committed", exc_info=True
                )
                break
            except (PcoRequestError, SkippableRecordError) as exc:
                logger.warning(
                    "record not pushed",
                    extra={"domain": type(self).__name__, "id": record.id, "reason": str(exc)},
                )
                tally.failed()
                ctx.report(self.failure(ctx, record, exc))
            done.append(record)
        return DomainPage(
            counts=tally.counts,
            next_position=walk.position_after(done),
            processed=position.processed + len(done),
        )

    def failure(self, ctx: DomainContext, record: R, exc: Exception) -> RecordFailure:
        """The failure entry of `record`; one PCO created before a later write was refused is a partial
        create (its PCO id was saved at once), and says so."""
        at = ctx.clock()
        if record.pco_id is not None:
            return failure_of(record, "update in PCO", exc, at)
        created = self.linked_now(ctx.records, record)
        if created is None:
            return failure_of(record, "create in PCO", exc, at)
        before = f"Created in PCO (id {created}), but not completely:"
        return failure_of(record, "create in PCO", exc, at, pco_id=created, before=before)

    def linked_now(self, records: Records, record: R) -> str | None:
        """The PCO id `record` holds in the store now (a create that went through); None by default."""
        return None

    @abstractmethod
    def lister(self, records: Records) -> Lister[R]:
        """How this domain lists its local records, a page at a time."""

    @abstractmethod
    def prepare(self, records: Records, page: Sequence[R]) -> Prepared:
        """What pushing this page of records needs read first (e.g. their members), in one go."""

    @abstractmethod
    def cost(self, record: R, prepared: Prepared) -> int:
        """The PCO requests pushing `record` may take; 0 when it has nothing to send."""

    @abstractmethod
    def push(self, ctx: DomainContext, pco: CountingPco, record: R, prepared: Prepared) -> Mapping[str, int]:
        """Push one record; how its rows count (created/updated/skipped/failed)."""


def ensure_running(ctx: DomainContext) -> None:
    """Before a record's PCO writes: stop the page if the run was cancelled meanwhile (one read)."""
    if not ctx.still_running():
        raise RunStopped(f"run {ctx.run_id} was stopped; the page writes nothing more")
