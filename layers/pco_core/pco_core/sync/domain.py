"""The shape every pull domain shares: the context a page function gets and the page it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pco_core.clock import Clock
from pco_core.errors import FatalError
from pco_core.runs.models import PageCounts
from pco_core.sync.mapping import Outcome
from pco_core.sync.ports import PcoReader, RecordWriter

PER_PAGE = 100
Position = dict[str, Any]


def _always_running() -> bool:
    return True


@dataclass(frozen=True)
class DomainContext:
    client: PcoReader
    records: RecordWriter
    run_id: str
    clock: Clock
    # Asked before each record a push writes to PCO: False once the run was cancelled, so the page stops.
    still_running: Callable[[], bool] = _always_running


@dataclass
class DomainPage:
    """One page's outcome: its counts, where the domain goes next (None: finished) and its progress."""

    counts: PageCounts
    next_position: Position | None
    processed: int
    total: int | None = None


PageFunction = Callable[[DomainContext, Position], DomainPage]


@dataclass
class Tally:
    counts: PageCounts = field(default_factory=PageCounts)

    def add(self, outcome: Outcome) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)

    def add_counts(self, counts: dict[str, int]) -> None:
        for outcome, n in counts.items():
            setattr(self.counts, outcome, getattr(self.counts, outcome) + n)

    def failed(self) -> None:
        self.counts.failed += 1


def next_offset_after(offset: int, next_offset: int | None, path: str) -> int | None:
    """PCO's next offset; one pointing back at this page or before would loop forever, so it stops the run."""
    if next_offset is not None and next_offset <= offset:
        raise FatalError(f"PCO answered {path} offset {offset} with next offset {next_offset}")
    return next_offset


def int_at(position: Position, name: str) -> int:
    value = position.get(name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
