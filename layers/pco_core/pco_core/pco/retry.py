"""A page's PCO reads retried in place: a GET that PCO answered 5xx, or whose connection dropped or timed
out, is tried again after a short backoff, so one bad answer does not cost the whole page.

Only reads: a GET changes nothing, so repeating it is safe, while a POST whose answer was lost may have
created something (push handles that case itself). Bounded three ways: a few attempts, a longest pause
(a 503's Retry-After above it is left to the state machine's own retry), and the page's deadline, which
leaves the page time to write and commit. A 429 is never waited out here: it becomes a Wait state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from pco_core.clock import Clock, Sleep
from pco_core.errors import PcoUnavailable
from pco_core.observability import Metric, count
from pco_core.pco.jsonapi import Document

logger = Logger(child=True)

QueryParams = Mapping[str, str | int]


class PcoApi(Protocol):
    def get(self, path: str, params: QueryParams | None = None) -> Document: ...

    def post(self, path: str, document: Mapping[str, Any]) -> Document: ...

    def patch(self, path: str, document: Mapping[str, Any]) -> Document: ...

    def delete(self, path: str) -> None: ...

    def suggested_wait(self, reserve: int) -> int: ...


@dataclass(frozen=True)
class ReadRetry:
    """How a failed read is retried: `attempts` in all, pauses from `first_pause` doubling up to
    `longest_pause` seconds (or PCO's Retry-After, when it is longer and no longer than `longest_pause`)."""

    attempts: int = 4
    first_pause: float = 0.5
    longest_pause: float = 4.0


class RetryingReads:
    """The PCO client as a page uses it, with its GETs retried until `deadline` (writes pass through)."""

    def __init__(
        self,
        pco: PcoApi,
        *,
        deadline: datetime,
        clock: Clock,
        sleep: Sleep,
        policy: ReadRetry | None = None,
        on_retry: Callable[[int, int, datetime], None] | None = None,
    ) -> None:
        self._pco = pco
        # Told before each pause: the attempt coming, of how many, and when it will be made.
        self._on_retry = on_retry
        self._deadline = deadline
        self._clock = clock
        self._sleep = sleep
        self._policy = policy or ReadRetry()
        self.retries = 0

    def get(self, path: str, params: QueryParams | None = None) -> Document:
        return self._read(path, lambda: self._pco.get(path, params))

    def post(self, path: str, document: Mapping[str, Any]) -> Document:
        return self._pco.post(path, document)

    def patch(self, path: str, document: Mapping[str, Any]) -> Document:
        return self._pco.patch(path, document)

    def delete(self, path: str) -> None:
        self._pco.delete(path)

    def suggested_wait(self, reserve: int) -> int:
        return self._pco.suggested_wait(reserve)

    def _read(self, path: str, read: Callable[[], Document]) -> Document:
        policy = self._policy
        pause = policy.first_pause
        attempt = 1
        while True:
            try:
                return read()
            except PcoUnavailable as exc:
                wait = max(pause, float(exc.retry_after or 0))
                late = self._clock() + timedelta(seconds=wait) > self._deadline
                if attempt >= policy.attempts or wait > policy.longest_pause or late:
                    raise
                logger.info(
                    "PCO read failed; retrying",
                    extra={"path": path, "attempt": attempt, "pause_seconds": wait, "error": str(exc)},
                )
                count(Metric.PCO_READS_RETRIED)
                self.retries += 1
                if self._on_retry is not None:
                    self._on_retry(attempt + 1, policy.attempts, self._clock() + timedelta(seconds=wait))
                self._sleep(wait)
                attempt += 1
                pause = min(pause * 2, policy.longest_pause)
