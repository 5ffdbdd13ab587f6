"""Time, injected: code takes a `Clock` (a callable returning an aware UTC datetime) and, where it must
pause, a `Sleep`, so tests never sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def utc_now() -> datetime:
    return datetime.now(UTC)
