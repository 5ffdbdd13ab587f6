"""EventBridge Scheduler for the local stack: fire the template's schedules at their times, as AWS would.

Each `AWS::Scheduler::Schedule` of the template (expression, time zone, State, Target) becomes a
`LocalSchedule`; `LocalScheduler` calls the target function's real handler with the schedule's Input as the
event, at the times `pco_core.runs.schedule_info` computes (the same code `GET /api/schedule` answers
with). A rate() schedule fires at once and then every interval, as a schedule without a StartDate does; a
disabled one never fires. Time is injected (`clock`, `wait`) so tests never sleep.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local.stack.lambdas import Handler, function_name_of, invoke_handler
from local.stack.resources import LocalResources
from pco_core.clock import Clock, utc_now
from pco_core.runs.schedule_info import SyncSchedule

log = logging.getLogger("local.stack.scheduler")

# The longest the thread waits at once, so a stop is noticed even when the next run is a day away.
MAX_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class LocalSchedule:
    logical_id: str
    schedule: SyncSchedule
    function_name: str
    handler: Handler
    event: Any
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256


@dataclass(frozen=True)
class Firing:
    """One invocation a schedule made: when it was due, and what the handler answered (or raised)."""

    logical_id: str
    due: datetime
    result: Any
    errored: bool


def local_schedules(resources: LocalResources, handlers: Mapping[str, Handler]) -> list[LocalSchedule]:
    """The template's schedules bound to the loaded handlers of their target functions."""
    functions = {fn.name: fn for fn in resources.functions.values()}
    out = []
    for schedule in resources.template.schedules():
        name = function_name_of(schedule.target_arn)
        fn = functions.get(name)
        if fn is None:
            raise ValueError(f"{schedule.logical_id}: target {schedule.target_arn!r} is no function here")
        out.append(
            LocalSchedule(
                logical_id=schedule.logical_id,
                schedule=SyncSchedule.of(schedule.expression, schedule.timezone, schedule.enabled),
                function_name=name,
                handler=handlers[name],
                event=json.loads(schedule.input),
                timeout_seconds=float(fn.timeout),
                memory_limit_in_mb=fn.memory_size,
            )
        )
    return out


class LocalScheduler:
    """Fires due schedules; `run()` loops until `wait` reports a stop, `start()` runs it in a thread."""

    def __init__(
        self,
        schedules: list[LocalSchedule],
        *,
        clock: Clock = utc_now,
        wait: Callable[[float], bool] | None = None,
        on_fire: Callable[[Firing], None] | None = None,
    ) -> None:
        self.schedules = [s for s in schedules if s.schedule.enabled]
        self._clock = clock
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._on_fire = on_fire or _log_firing
        self._thread: threading.Thread | None = None
        self.began = clock()
        self._due: dict[str, datetime | None] = {
            s.logical_id: self._next(s, self.began, first=True) for s in self.schedules
        }

    def _next(self, local: LocalSchedule, moment: datetime, *, first: bool = False) -> datetime | None:
        if first and local.schedule.kind == "rate":
            return self.began  # no StartDate: a rate schedule begins invoking its target at once
        return local.schedule.next_run_after(moment, rate_anchor=self.began)

    def next_due(self) -> datetime | None:
        due = [d for d in self._due.values() if d is not None]
        return min(due) if due else None

    def fire_due(self) -> list[Firing]:
        """Invoke every schedule whose time has come, once, and work out its next time."""
        now = self._clock()
        fired = []
        for local in self.schedules:
            due = self._due[local.logical_id]
            if due is None or due > now:
                continue
            result, errored = invoke_handler(
                local.handler,
                local.function_name,
                local.event,
                timeout_seconds=local.timeout_seconds,
                memory_limit_in_mb=local.memory_limit_in_mb,
            )
            firing = Firing(local.logical_id, due, result, errored)
            fired.append(firing)
            self._on_fire(firing)
            # Times missed while the machine slept are not made up: the next is after now.
            self._due[local.logical_id] = self._next(local, max(due, self._clock()))
        return fired

    def run(self) -> None:
        while True:
            self.fire_due()
            due = self.next_due()
            seconds = MAX_WAIT_SECONDS
            if due is not None:
                seconds = min(seconds, max(0.0, (due - self._clock()).total_seconds()))
            if self._wait(seconds):
                return

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run_logged, name="local-scheduler", daemon=True)
        self._thread.start()

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("the local scheduler stopped")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def _log_firing(firing: Firing) -> None:
    if firing.errored:
        log.error("%s fired and its target failed: %s", firing.logical_id, firing.result.get("errorMessage"))
    else:
        log.info("%s fired: %s", firing.logical_id, json.dumps(firing.result, default=str))
