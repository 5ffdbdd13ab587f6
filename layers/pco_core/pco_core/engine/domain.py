"""The shape every run domain shares: the context a page gets, the typed position it resumes from, the
page it returns, and the plug-in base class pull and push domains derive from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pco_core.clock import Clock
from pco_core.engine.ports import AuditLedger, Pco, Records
from pco_core.errors import InvalidPosition
from pco_core.merge.common import Outcome
from pco_core.pco.paginate import Keyset
from pco_core.records import ConflictPolicy
from pco_core.runstate import PageCounts, RecordFailure, RecordTotals, TotalsKind, Watermark

PER_PAGE = 100


def _always_running() -> bool:
    return True


@dataclass(frozen=True)
class DomainContext:
    pco: Pco
    records: Records
    run_id: str
    clock: Clock
    # Asked before a record's PCO writes: False once the run was cancelled, so the page stops.
    still_running: Callable[[], bool] = _always_running
    # When the run started, and the deployment's watermarks at that moment (where incremental walks begin).
    started_at: datetime | None = None
    watermarks: Mapping[str, Watermark] = field(default_factory=dict)
    # Where a Full Sync's audit keeps the PCO ids it listed (runs without an audit need none).
    audit: AuditLedger | None = None
    # What a field both sides changed differently keeps (the ConflictPolicy deployment parameter).
    policy: ConflictPolicy = "review"
    # The records this page could not sync, with why: committed with the page's counts.
    failures: list[RecordFailure] = field(default_factory=list)

    def report(self, failure: RecordFailure) -> None:
        self.failures.append(failure)

    @property
    def watermark_cap(self) -> datetime:
        """The latest second a watermark of this run may reach: the last whole second before the run began,
        so no change can still land in it once the run reads it."""
        started = self.started_at if self.started_at is not None else self.clock()
        return started.replace(microsecond=0) - timedelta(seconds=1)


class Position(BaseModel):
    """Where a domain resumes, as the run item stores it; each domain declares its own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    processed: int = Field(default=0, ge=0)


class OffsetPosition(Position):
    """A PCO listing walked by offset."""

    offset: int = Field(default=0, ge=0)


class KeysetPosition(Position):
    """A PCO listing walked by keyset on a timestamp (pco.paginate.Keyset), plus what the walk's domain keeps:
    the listing's total as last reported, and the ids read at the run's watermark cap."""

    after: datetime | None = None
    seen: list[str] = Field(default_factory=list)
    second_done: bool = False
    drain_offset: int | None = Field(default=None, ge=0)
    total: int | None = Field(default=None, ge=0)
    cap_ids: list[str] = Field(default_factory=list)

    def keyset(self, attr: str) -> Keyset:
        return Keyset(attr, self.after, tuple(self.seen), self.second_done, self.drain_offset)

    def following(
        self, keyset: Keyset, *, processed: int, total: int | None, cap_ids: list[str]
    ) -> KeysetPosition:
        return KeysetPosition(
            after=keyset.after,
            seen=list(keyset.seen),
            second_done=keyset.second_done,
            drain_offset=keyset.drain_offset,
            processed=processed,
            total=total,
            cap_ids=cap_ids,
        )


class AfterIdPosition(Position):
    """Local records walked in id order: the last one finished."""

    after_id: str | None = None


class WalkPosition(AfterIdPosition):
    """Local records walked in listing pages: the listing page read (`cursor`), the last record finished."""

    cursor: str | None = None


@dataclass
class DomainPage:
    """One page's outcome: its counts, where the domain goes next (None: finished) and its progress."""

    counts: PageCounts
    next_position: Position | None
    processed: int
    total: int | None = None
    # Watermarks this domain reached (given once it is finished) and the totals it counted.
    reached: dict[str, Watermark] = field(default_factory=dict)
    totals: dict[TotalsKind, RecordTotals] = field(default_factory=dict)


@dataclass
class Tally:
    counts: PageCounts = field(default_factory=PageCounts)

    def add(self, outcome: Outcome) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)

    def add_counts(self, counts: Mapping[str, int]) -> None:
        for outcome, n in counts.items():
            setattr(self.counts, outcome, getattr(self.counts, outcome) + n)

    def failed(self, n: int = 1) -> None:
        self.counts.failed += n


class Domain[P: Position](ABC):
    """A plug-in of the engine: one bounded page of its work from a typed position."""

    position_type: ClassVar[type[Position]]

    def run(self, ctx: DomainContext, stored: Mapping[str, Any] | Position | None) -> DomainPage:
        """The page from the position the run item holds (None: the start); a position this domain cannot
        read is fatal."""
        raw = stored.model_dump() if isinstance(stored, Position) else dict(stored or {})
        try:
            position = self.position_type.model_validate(raw)
        except ValidationError as exc:
            raise InvalidPosition(f"{type(self).__name__} cannot resume from {raw!r}: {exc}") from None
        return self.page(ctx, cast("P", position))

    @abstractmethod
    def page(self, ctx: DomainContext, position: P) -> DomainPage: ...

    def count(self, ctx: DomainContext) -> int | None:
        """How many records this domain will walk, if that can be told cheaply before it starts."""
        return None
