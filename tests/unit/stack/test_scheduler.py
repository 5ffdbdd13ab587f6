"""scheduler.py: the template's schedule really fires under `make run`, timed by an injected clock."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.stack.assembly import stack_parameters
from local.stack.harness import LocalStack
from local.stack.scheduler import MAX_WAIT_SECONDS, Firing, LocalSchedule, LocalScheduler
from local.stack.template import Template
from pco_core.runs.schedule_info import SyncSchedule
from tests.unit.stack.conftest import REAL_TEMPLATE

T0 = datetime(2026, 11, 29, 6, 59, 30, tzinfo=UTC)


class FakeTime:
    """The scheduler's clock and wait: waiting moves the clock; it reports a stop after enough firings."""

    def __init__(self, now: datetime, *, stop_after_firings: int, stop_after: timedelta = timedelta(days=30)):
        self.now = now
        self.deadline = now + stop_after
        self.stop_after_firings = stop_after_firings
        self.waits: list[float] = []
        self.fired: list[Firing] = []
        self.calls: list[tuple[datetime, Any, str]] = []

    def clock(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return len(self.fired) >= self.stop_after_firings or self.now >= self.deadline

    def scheduler(self, *schedules: LocalSchedule) -> LocalScheduler:
        return LocalScheduler(list(schedules), clock=self.clock, wait=self.wait, on_fire=self.fired.append)

    def handler(self, event: Any, context: Any) -> dict[str, str]:
        self.calls.append((self.now, event, context.function_name))
        return {"outcome": "started"}


def schedule_of(
    fake: FakeTime, expression: str, *, timezone: str = "UTC", enabled: bool = True
) -> LocalSchedule:
    return LocalSchedule(
        logical_id="NightlySyncSchedule",
        schedule=SyncSchedule.of(expression, timezone, enabled),
        function_name="pco-sync-local-ScheduledSyncFunction",
        handler=fake.handler,
        event={},
    )


def run_scheduler(fake: FakeTime, *schedules: LocalSchedule) -> list[Firing]:
    fake.scheduler(*schedules).run()
    return fake.fired


def test_given_the_nightly_cron_then_the_target_is_invoked_at_each_days_time_with_the_schedules_input() -> (
    None
):
    fake = FakeTime(T0, stop_after_firings=3)

    fired = run_scheduler(fake, schedule_of(fake, "cron(0 7 * * ? *)"))

    day = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    expected = [day, day + timedelta(days=1), day + timedelta(days=2)]
    assert [f.due for f in fired] == expected
    # Invoked when due (never early), with the template's Input as the event, as the target function
    assert [call[0] for call in fake.calls] == expected
    assert {(repr(call[1]), call[2]) for call in fake.calls} == {
        ("{}", "pco-sync-local-ScheduledSyncFunction")
    }
    assert all(not f.errored and f.result == {"outcome": "started"} for f in fired)
    # And it never waits longer than a minute at once, so a stop is noticed quickly
    assert max(fake.waits) <= MAX_WAIT_SECONDS


def test_given_a_time_zone_then_it_fires_at_that_zones_wall_clock_time() -> None:
    fake = FakeTime(T0, stop_after_firings=1)

    fired = run_scheduler(fake, schedule_of(fake, "cron(0 7 * * ? *)", timezone="America/Chicago"))

    assert [f.due for f in fired] == [datetime(2026, 11, 29, 13, 0, tzinfo=UTC)]


def test_given_every_n_minutes_then_it_fires_at_once_and_then_every_n_minutes() -> None:
    # LOCAL_SCHEDULE_EVERY_MINUTES=5 makes the schedule rate(5 minutes): no StartDate, so it starts now.
    fake = FakeTime(T0, stop_after_firings=3)

    fired = run_scheduler(fake, schedule_of(fake, "rate(5 minutes)"))

    assert [f.due for f in fired] == [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]


def test_given_a_disabled_schedule_then_it_never_fires() -> None:
    fake = FakeTime(T0, stop_after_firings=1, stop_after=timedelta(days=3))

    fired = run_scheduler(fake, schedule_of(fake, "cron(0 7 * * ? *)", enabled=False))

    assert fired == []
    assert fake.calls == []


def test_given_the_machine_slept_through_several_runs_then_it_fires_once_and_resumes_the_plan() -> None:
    fake = FakeTime(T0, stop_after_firings=2)
    scheduler = fake.scheduler(schedule_of(fake, "cron(0 7 * * ? *)"))
    woke = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    fake.now = woke  # asleep from before the first run (29 Nov 07:00) until after the fourth

    scheduler.run()

    # One late start for the four missed, then the next day's as planned
    assert [call[0] for call in fake.calls] == [woke, datetime(2026, 12, 3, 7, 0, tzinfo=UTC)]


def test_given_a_failing_target_then_the_firing_says_so_and_the_schedule_goes_on() -> None:
    fake = FakeTime(T0, stop_after_firings=2)

    def failing(event: Any, context: Any) -> None:
        fake.calls.append((fake.now, event, context.function_name))
        raise RuntimeError("PCO is down")

    schedule = LocalSchedule("S", SyncSchedule.of("rate(1 minute)", "UTC", True), "fn", failing, {})
    fired = run_scheduler(fake, schedule)

    assert [(f.errored, f.result["errorType"]) for f in fired] == [(True, "RuntimeError")] * 2


def test_a_started_scheduler_thread_stops_at_once() -> None:
    scheduler = LocalScheduler([schedule_of(FakeTime(T0, stop_after_firings=1), "cron(0 7 1 1 ? *)")])
    scheduler.start()

    scheduler.stop(timeout=5)

    assert scheduler._thread is None
    assert not any(t.name == "local-scheduler" and t.is_alive() for t in threading.enumerate())


# ---------------------------------------------------------------- the real template


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
@pytest.mark.parametrize(
    ("every", "expression", "enabled"),
    [(None, "cron(0 7 * * ? *)", True), (1, "rate(1 minute)", True), (15, "rate(15 minutes)", True)],
)
def test_the_schedules_that_fire_are_the_ones_the_admin_function_is_told(
    every: int | None, expression: str, enabled: bool
) -> None:
    # Given make run's parameters, with or without LOCAL_SCHEDULE_EVERY_MINUTES (it times the Full Sync)
    params = stack_parameters(
        app_id="a", secret="s", webhook_secret="w", pco_base_url="http://pco", schedule_every_minutes=every
    )
    template = Template.load(REAL_TEMPLATE, parameters=params)

    schedules = {s.logical_id: s for s in template.schedules()}
    admin_env = next(f for f in template.functions() if f.logical_id == "AdminApiFunction").environment

    nightly, hourly = schedules["NightlySyncSchedule"], schedules["HourlySyncSchedule"]
    assert (nightly.expression, nightly.timezone, nightly.enabled) == (expression, "UTC", enabled)
    assert (hourly.expression, hourly.timezone, hourly.enabled) == ("cron(0 * * * ? *)", "UTC", True)
    for schedule in (nightly, hourly):
        assert schedule.target_arn.endswith(":function:pco-sync-local-ScheduledSyncFunction")
    assert json.loads(nightly.input) == {"type": "full_sync"}
    assert json.loads(hourly.input) == {"type": "incremental_sync"}
    assert (admin_env["SYNC_SCHEDULE"], admin_env["SYNC_SCHEDULE_ENABLED"]) == (expression, "true")
    assert admin_env["INCREMENTAL_SYNC_SCHEDULE"] == hourly.expression
    # SyncSchedule parses both (the admin API's GET /api/schedule reads the same values)
    assert SyncSchedule.of(admin_env["SYNC_SCHEDULE"], admin_env["SYNC_SCHEDULE_TIMEZONE"], True)
    assert SyncSchedule.of(admin_env["INCREMENTAL_SYNC_SCHEDULE"], admin_env["SYNC_SCHEDULE_TIMEZONE"], True)


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_given_a_schedule_disabled_in_the_template_then_that_local_schedule_is_disabled() -> None:
    template = Template.load(REAL_TEMPLATE, parameters={"SyncScheduleEnabled": "false"})

    enabled = {s.logical_id: s.enabled for s in template.schedules()}

    assert enabled == {"NightlySyncSchedule": False, "HourlySyncSchedule": True}


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_given_the_assembled_stack_when_the_schedules_fire_then_the_real_handler_starts_what_each_names() -> (
    None
):
    with LocalStack.start("http://127.0.0.1:9", "app", "secret") as stack:
        schedules = {s.logical_id: s for s in stack.assembled.schedules}
        fake = FakeTime(T0, stop_after_firings=1)

        # When the clock reaches 07:00 UTC (the wait moves it; the handler is the real scheduled-sync one)
        fake.scheduler(schedules["NightlySyncSchedule"]).run()

        # Then the scheduled-sync function started a Full Sync, recorded as started by the schedule
        (firing,) = fake.fired
        assert firing.due == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
        assert not firing.errored, firing.result
        assert firing.result["outcome"] == "started"
        run = stack.get_run(firing.result["run_id"])
        assert run is not None
        assert (run["type"], run["started_by"]) == ("full_sync", "schedule")

        # And when the hourly one fires while that Full Sync still runs, it is skipped and recorded
        hourly = FakeTime(T0, stop_after_firings=1)
        hourly.scheduler(schedules["HourlySyncSchedule"]).run()
        (skipped,) = hourly.fired
        assert skipped.result["outcome"] == "skipped", skipped.result
        recorded = stack.get_run(skipped.result["run_id"])
        assert recorded is not None
        assert (recorded["type"], recorded["status"]) == ("incremental_sync", "CANCELLED")
