"""The paginators of PCO list endpoints: by offset (small listings: groups, a group's memberships) and by
keyset on a timestamp (people, households, emails, phone numbers: listings that may be long or change
while they are walked).

A pull page builds a paginator from its saved position, fetches one PCO page and advances; `read_all`
reads a small listing to its end. The offset paginator refuses an offset that does not move forward or
that PCO throttles (past 30,000), so a misbehaving server cannot loop a run.

The keyset walk (`Keyset`) never sends an offset outside one second: PCO's timestamps are whole seconds, so
it asks for `where[<attr>][gte]=<last second reached>` in `order=<attr>`, skips the ids already finished at
that second, and drains a second that holds more than a page inside `[T, T+1s)` by offset. Deletions,
merges and inserts while it walks cannot move a record past its cursor, as they move offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pco_core.errors import PcoUnavailable
from pco_core.pco.jsonapi import Document, Resource

MAX_PER_PAGE = 100
# PCO throttles requests past this offset to 10 / 20 s (developers#1449, #1450): never ask for one.
DEEP_OFFSET = 30_000
# Rows re-read when a drain moves on inside one second: that many deletions in the second between two
# pages still skip nothing (the ids already finished are not merged twice).
DRAIN_OVERLAP = 20


class OffsetPaginator:
    """Knows the current offset, the page size, and whether the listing is finished."""

    def __init__(self, offset: int = 0, per_page: int = MAX_PER_PAGE) -> None:
        if offset < 0:
            raise ValueError("offset must be >= 0")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE} (PCO's limit)")
        self._offset = offset
        self._per_page = per_page
        self._finished = False
        self._pages = 0

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def per_page(self) -> int:
        return self._per_page

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def pages(self) -> int:
        """Pages advanced over so far."""
        return self._pages

    def params(self) -> dict[str, str | int]:
        """The paging query parameters of the current page (merge with include/order/where)."""
        return {"per_page": self._per_page, "offset": self._offset}

    def advance(self, page: Document) -> int | None:
        """Move past `page`; returns the next offset, or None when `page` was the last one.

        Raises PcoUnavailable when PCO names a next page whose offset does not move forward or cannot be
        read: like an unreadable 2xx body, the answer is unusable now, the page is retried from the saved
        cursor, and the state machine fails the run if PCO keeps answering that way.
        """
        if self._finished:
            raise RuntimeError("the listing is already finished")
        self._pages += 1
        if not page.has_next:
            self._finished = True
            return None
        next_offset = page.next_offset
        if next_offset is None:
            raise PcoUnavailable("PCO named a next page without an offset")
        if next_offset <= self._offset:
            raise PcoUnavailable(
                f"PCO's next offset {next_offset} does not move past the current offset {self._offset}"
            )
        if next_offset > DEEP_OFFSET:
            # Offset-walked listings are small ones (groups, a group's members); a long one is walked by
            # keyset. Past here PCO answers 10 requests / 20 s: stop rather than crawl.
            raise PcoUnavailable(
                f"PCO's next offset {next_offset} is past {DEEP_OFFSET}, which PCO throttles"
            )
        self._offset = next_offset
        return next_offset


class ListingReader(Protocol):
    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Document: ...


def read_all[R](
    pco: ListingReader, path: str, query: Mapping[str, str | int], parse: Callable[[Resource, Document], R]
) -> tuple[list[R], int]:
    """Every record of a (small) listing, all its pages; and the number of requests it took."""
    paginator = OffsetPaginator()
    records: list[R] = []
    while not paginator.finished:
        document = pco.get(path, {**paginator.params(), **query})
        records.extend(parse(resource, document) for resource in document.resources())
        paginator.advance(document)
    return records, paginator.pages


def stamp(resource: Resource, attr: str) -> datetime | None:
    """A resource's `attr` timestamp as an aware UTC datetime (PCO's are whole seconds); None if absent."""
    value = resource.attributes.get(attr)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def pco_time(moment: datetime) -> str:
    """A timestamp as PCO's where[...] filters take it: full UTC, whole seconds, with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class KeysetStep:
    """One page of a keyset walk: the rows not finished before, and where the walk goes next (None: done)."""

    fresh: list[Resource]
    following: Keyset | None


@dataclass(frozen=True)
class Keyset:
    """Where a keyset walk of a PCO listing in `attr` order stands.

    `after` is the second reached and `seen` the ids finished at that second; `second_done` says every row
    of that second is finished (the next read starts past it); `drain_offset` is set while a second holding
    more than a page is read inside [after, after + 1 s).
    """

    attr: str
    after: datetime | None = None
    seen: tuple[str, ...] = ()
    second_done: bool = False
    drain_offset: int | None = None
    per_page: int = MAX_PER_PAGE

    def params(self) -> dict[str, str | int]:
        """The query of the next page (merge with include/fields)."""
        params: dict[str, str | int] = {"order": self.attr, "per_page": self.per_page}
        where = f"where[{self.attr}]"
        if self.after is None:
            return params
        if self.drain_offset is not None:
            params[f"{where}[gte]"] = pco_time(self.after)
            params[f"{where}[lt]"] = pco_time(self.after + timedelta(seconds=1))
            params["offset"] = self.drain_offset
        elif self.second_done:
            params[f"{where}[gt]"] = pco_time(self.after)
        else:
            params[f"{where}[gte]"] = pco_time(self.after)
        return params

    def advance(self, page: Document) -> KeysetStep:
        """Move past `page`. Raises PcoUnavailable when a page that has more after it names no timestamp to
        go on from (like an unreadable body: retried, then the run fails rather than loops)."""
        rows = page.resources()
        stamps = {row.id: stamp(row, self.attr) for row in rows}
        done_here = set(self.seen)
        fresh = [row for row in rows if not (row.id in done_here and stamps[row.id] == self.after)]
        if self.drain_offset is not None:
            return KeysetStep(fresh, self._drained(page, len(rows), fresh))
        if not page.has_next:
            return KeysetStep(fresh, None)
        known = [moment for moment in stamps.values() if moment is not None]
        if not known:
            raise PcoUnavailable(f"PCO's page has no {self.attr} to go on from")
        top, bottom = max(known), min(known)
        at_top = tuple(row.id for row in fresh if stamps[row.id] == top)
        if top == bottom:
            # A whole page of one second and more to come: read that second by itself, by offset.
            finished = (self.seen if top == self.after else ()) + at_top
            offset = max(len(rows) - DRAIN_OVERLAP, 1)
            return KeysetStep(
                fresh, Keyset(self.attr, top, finished, drain_offset=offset, per_page=self.per_page)
            )
        return KeysetStep(fresh, Keyset(self.attr, top, at_top, per_page=self.per_page))

    def _drained(self, page: Document, rows: int, fresh: list[Resource]) -> Keyset:
        assert self.drain_offset is not None
        if not page.has_next:
            return Keyset(self.attr, self.after, (), second_done=True, per_page=self.per_page)
        following = self.drain_offset + max(rows - DRAIN_OVERLAP, 1)
        if following > DEEP_OFFSET:
            raise PcoUnavailable(f"one second of {self.attr} holds more than {DEEP_OFFSET} PCO records")
        return replace(self, seen=self.seen + tuple(row.id for row in fresh), drain_offset=following)
