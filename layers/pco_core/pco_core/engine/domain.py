"""The shape every run domain shares: the context a page gets, the typed position it resumes from, the
page it returns, and the plug-in base class pull and push domains derive from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pco_core.clock import Clock
from pco_core.engine.ports import Pco, Records
from pco_core.errors import InvalidPosition
from pco_core.merge.common import Outcome
from pco_core.records import ConflictPolicy
from pco_core.runstate import PageCounts, RecordFailure

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
    # What a field both sides changed differently keeps (the ConflictPolicy deployment parameter).
    policy: ConflictPolicy = "review"
    # The records this page could not sync, with why: committed with the page's counts.
    failures: list[RecordFailure] = field(default_factory=list)

    def report(self, failure: RecordFailure) -> None:
        self.failures.append(failure)


class Position(BaseModel):
    """Where a domain resumes, as the run item stores it; each domain declares its own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    processed: int = Field(default=0, ge=0)


class OffsetPosition(Position):
    """A PCO listing walked by offset."""

    offset: int = Field(default=0, ge=0)


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
