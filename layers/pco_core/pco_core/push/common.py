"""What every push domain shares: the write side of the PCO client, the local record walk, a request budget.

A push page walks local records in id order (the kind-index GSI), about RECORDS_PER_PAGE at a time, and
stops early once its PCO request budget is spent; its position names the listing it read (`cursor`) and
the last record it finished (`after_id`), so a retried or continued page starts at the next record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from pco_core.errors import FatalError, PcoRequestError, RunStopped
from pco_core.pco.jsonapi import Document, Resource
from pco_core.records import Family, Group, Person
from pco_core.sync.domain import DomainContext, Position, int_at
from pco_core.sync.ports import PcoReader, QueryParams, RecordWriter

RECORDS_PER_PAGE = 25
# PCO allows 100 requests per 20 s; a page leaves room for the next one and for the rate-header wait.
REQUEST_BUDGET = 40


@runtime_checkable
class PcoWriter(PcoReader, Protocol):
    """The write side of the PCO client (PcoClient has it; the pull only needs the read side)."""

    def post(self, path: str, document: Mapping[str, Any]) -> Document: ...

    def patch(self, path: str, document: Mapping[str, Any]) -> Document: ...


@runtime_checkable
class PushRecords(RecordWriter, Protocol):
    """The record store as a push walks it: every record of a kind in id order, in pages (groups are
    listed through RecordWriter, which the webhook worker's person merger uses too)."""

    def list_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]: ...

    def list_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]: ...


class CountingPco:
    """The PCO client with a count of the requests this page sent (the page's budget)."""

    def __init__(self, client: PcoWriter) -> None:
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


def push_ports(ctx: DomainContext) -> tuple[CountingPco, PushRecords]:
    """The context's client and store as a push needs them; a read-only wiring is a deployment error."""
    client, records = ctx.client, ctx.records
    if not isinstance(client, PcoWriter):
        raise FatalError("the PCO client given to a push page cannot write")
    if not isinstance(records, PushRecords):
        raise FatalError("the record store given to a push page cannot list records")
    return CountingPco(client), records


def ensure_running(ctx: DomainContext) -> None:
    """Before a record's PCO writes: stop the page if the run was cancelled meanwhile (one read)."""
    if not ctx.still_running():
        raise RunStopped(f"run {ctx.run_id} was stopped; the page writes nothing more")


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

    def __init__(self, lister: Callable[[int, str | None], tuple[list[R], str | None]], position: Position):
        cursor = position.get("cursor")
        after = position.get("after_id")
        self.cursor = cursor if isinstance(cursor, str) else None
        self.processed = int_at(position, "processed")
        listed, self.next_cursor = lister(RECORDS_PER_PAGE, self.cursor)
        self.after_id = after if isinstance(after, str) else None
        self.records: Sequence[R] = [r for r in listed if self.after_id is None or r.id > self.after_id]

    def position_after(self, done: Sequence[R]) -> Position | None:
        """Where the next page starts once `done` (a prefix of `records`) is finished; None: walk over."""
        processed = self.processed + len(done)
        if len(done) < len(self.records):
            return {
                "cursor": self.cursor,
                "after_id": done[-1].id if done else self.after_id,
                "processed": processed,
            }
        if self.next_cursor is None:
            return None
        return {"cursor": self.next_cursor, "processed": processed}
