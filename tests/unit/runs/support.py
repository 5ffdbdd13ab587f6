"""What the run tests share: a settable clock, the lease, and a state machine that just succeeds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pco_core.errors import RunActive, RunAlreadyResumed, RunNotResumable
from pco_core.runs.service import RunService
from pco_core.store.executions import ExecutionStarter
from pco_core.store.runs import RunStore
from tests.unit.store.clients import AtomicRequestsClient

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


def rival_services(
    store: RunStore, sfn: tuple[Any, str], clock: Clock, dynamodb: Any, n: int = 4
) -> list[RunService]:
    """`n` run services over one table, each its own client (as n admin API Lambdas would be)."""
    client, arn = sfn
    return [
        RunService(
            RunStore(store.table_name, client=AtomicRequestsClient(dynamodb)),
            ExecutionStarter(arn, client=client),
            clock,
            LEASE,
        )
        for _ in range(n)
    ]


def at_once(services: list[RunService], act: Callable[[RunService], str]) -> list[str]:
    """`act` on every service at the same moment (threads behind a barrier); each outcome, or "conflict"."""
    barrier = threading.Barrier(len(services))
    outcomes: list[str] = []

    def one(svc: RunService) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes.append(act(svc))
        except (RunActive, RunAlreadyResumed, RunNotResumable):
            outcomes.append("conflict")

    threads = [threading.Thread(target=one, args=(svc,)) for svc in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
