"""What the pull needs from its collaborators, as protocols: the PCO reader, the record store, the run store.

The concrete `PcoClient`, `RecordStore` and `RunStore` satisfy these structurally;
unit tests use in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from pco_core.pco.jsonapi import Document
from pco_core.records import Family, Group, Person
from pco_core.runs.models import Cursor, PageCounts, Run, RunProgress

QueryParams = Mapping[str, str | int]


class PcoReader(Protocol):
    """The read side of the PCO client."""

    def get(self, path: str, params: QueryParams | None = None) -> Document: ...

    def suggested_wait(self, reserve: int) -> int:
        """Seconds to wait before the next request so that `reserve` requests stay in the budget."""
        ...


class PersonLookup(Protocol):
    def people_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Person]: ...

    def has_unlinked_people(self) -> bool: ...

    def people_by_email(self, email: str) -> list[Person]: ...

    def people_by_name(self, last: str, first: str, birthdate: date | None) -> list[Person]: ...


class RecordWriter(PersonLookup, Protocol):
    """The record store as the pull uses it."""

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]: ...

    def save_people(self, changes: Sequence[tuple[Person, Person | None]]) -> None: ...

    def families_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Family]: ...

    def save_families(self, changes: Sequence[tuple[Family, Family | None]]) -> None: ...

    def groups_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Group]: ...

    def save_groups(self, changes: Sequence[tuple[Group, Group | None]]) -> None: ...

    def iter_groups_with_pco_id(self, after_id: str | None, limit: int) -> list[Group]: ...

    def list_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]: ...

    def get_families(self, ids: Iterable[str]) -> dict[str, Family]: ...


class RunLedger(Protocol):
    """The run store as a page uses it: read the run, hold the lease, commit a page exactly once."""

    def get_run(self, run_id: str) -> Run | None: ...

    def begin_page(self, run_id: str, now: datetime, lease_seconds: int, page_seconds: int) -> None: ...

    def end_page(self, run_id: str) -> None: ...

    def commit_page(
        self,
        run_id: str,
        *,
        seen_seq: int,
        counts: PageCounts,
        cursor: Cursor,
        progress: RunProgress,
        pages_in_execution: int,
        complete_at: datetime | None = None,
    ) -> bool: ...

    def release_lock(self, run_id: str) -> bool: ...
