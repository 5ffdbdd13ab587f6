"""What a run's page needs from its collaborators, as protocols: PCO, the record store, the run ledger.

The concrete `PcoClient`, `RecordStore` and `RunStore` satisfy these structurally (they never import the
engine); unit tests use in-memory fakes checked against the same contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from pco_core.merge.family import HouseholdStore
from pco_core.merge.matching import PersonLookup
from pco_core.pco.jsonapi import Document
from pco_core.records import ConflictEvent, Family, Group, Person
from pco_core.runstate import (
    Cursor,
    PageCounts,
    RecordFailure,
    RecordTotals,
    Run,
    RunProgress,
    RunWait,
    TotalsKind,
    Watermark,
)

QueryParams = Mapping[str, str | int]


class Pco(Protocol):
    """The PCO client: reads, writes and the rate budget its answers reported."""

    def get(self, path: str, params: QueryParams | None = None) -> Document: ...

    def post(self, path: str, document: Mapping[str, Any]) -> Document: ...

    def patch(self, path: str, document: Mapping[str, Any]) -> Document: ...

    def delete(self, path: str) -> None: ...

    def suggested_wait(self, reserve: int) -> int:
        """Seconds to wait before the next request so that `reserve` requests stay in the budget."""
        ...


class Records(PersonLookup, HouseholdStore, Protocol):
    """The record store as runs and webhooks use it. A save given `read_at` (when the page read PCO) leaves
    alone every record written since, and answers their ids."""

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]: ...

    def people_by_groups_person_ids(self, groups_person_ids: Iterable[str]) -> dict[str, Person]: ...

    def save_people(
        self, changes: Sequence[tuple[Person, Person | None]], *, read_at: datetime | None = None
    ) -> set[str]: ...

    def list_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]: ...

    def list_pending_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]: ...

    def get_families(self, ids: Iterable[str]) -> dict[str, Family]: ...

    def families_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Family]: ...

    def save_families(
        self, changes: Sequence[tuple[Family, Family | None]], *, read_at: datetime | None = None
    ) -> set[str]: ...

    def list_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]: ...

    def list_pending_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]: ...

    def groups_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Group]: ...

    def save_groups(
        self, changes: Sequence[tuple[Group, Group | None]], *, read_at: datetime | None = None
    ) -> set[str]: ...

    def list_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]: ...

    def list_pending_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]: ...

    def log_conflicts(self, events: Sequence[ConflictEvent]) -> None: ...

    def iter_groups_with_pco_id(self, after_id: str | None, limit: int) -> list[Group]: ...

    def linked_pco_ids(
        self, kind: Literal["person", "family"], cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """PCO ids of local records linked to PCO, `limit` records at a time (the cursor goes on)."""
        ...


class AuditLedger(Protocol):
    """Where a Full Sync's audit keeps the PCO ids it listed until it compares them with the local ones."""

    def put_audit_ids(
        self, run_id: str, kind: str, chunk: int, ids: Sequence[str], *, now: datetime
    ) -> None: ...

    def audit_ids(self, run_id: str, kind: str) -> set[str]: ...


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
        reached: Mapping[str, Watermark] | None = None,
        totals: Mapping[TotalsKind, RecordTotals] | None = None,
        failures: Sequence[RecordFailure] = (),
        failures_before: int = 0,
        domain: str | None = None,
        waiting: RunWait | None = None,
    ) -> bool: ...

    def release_lock(self, run_id: str) -> bool: ...

    def note_wait(self, run_id: str, waiting: RunWait | None) -> None: ...

    def save_watermarks(self, watermarks: Mapping[str, Watermark], *, run_id: str) -> None:
        """Store the deployment's watermarks; one never moves back."""
        ...
