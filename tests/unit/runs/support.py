"""What the run tests share: a settable clock, the lease, and a state machine that just succeeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
LEASE = 900
MAX_WAIT = 7
DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
