"""Offset pagination over PCO list endpoints (per_page + offset, last page has no links.next/meta.next):
the one paginator every domain uses.

A pull page builds one paginator from its saved position, fetches one PCO page and advances; `read_all`
reads a small listing (a group's memberships) to its end. The paginator refuses an offset that does not
move forward, so a misbehaving server cannot loop a run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from pco_core.errors import PcoUnavailable
from pco_core.pco.jsonapi import Document, Resource

MAX_PER_PAGE = 100


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
