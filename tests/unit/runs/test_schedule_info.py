"""schedule_info: when EventBridge Scheduler next starts the scheduled Full Sync, from an injected moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pco_core.errors import ConfigError
from pco_core.runs.schedule_info import (
    ScheduleExpressionError,
    SyncSchedule,
    deployment_schedules,
    parse_schedule_expression,
)
from pco_core.settings import AdminApiEnv, ScheduleEnv


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def next_run(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    return SyncSchedule.of(expression, timezone, True).next_run_after(after)


# ---------------------------------------------------------------- cron()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # The template's default: every day at 07:00 UTC, the same day when it is still ahead...
        ("cron(0 7 * * ? *)", utc(2026, 11, 29, 6, 59), utc(2026, 11, 29, 7, 0)),
        # ...and the next day once that minute has come (strictly after).
        ("cron(0 7 * * ? *)", utc(2026, 11, 29, 7, 0), utc(2026, 11, 30, 7, 0)),
        ("cron(0/15 * * * ? *)", utc(2026, 11, 29, 10, 7, 30), utc(2026, 11, 29, 10, 15)),
        ("cron(5/20 8-9 * * ? *)", utc(2026, 11, 29, 8, 46), utc(2026, 11, 29, 9, 5)),
        # Friday evening: the next weekday run is Monday's.
        ("cron(0 18 ? * MON-FRI *)", utc(2026, 11, 27, 19, 0), utc(2026, 11, 30, 18, 0)),
        ("cron(0 18 ? * 2-6 *)", utc(2026, 11, 27, 19, 0), utc(2026, 11, 30, 18, 0)),
        # A range that wraps the week: Saturday and Sunday only.
        ("cron(0 8 ? * SAT-SUN *)", utc(2026, 11, 23, 0, 0), utc(2026, 11, 28, 8, 0)),
        ("cron(0 8 1 JAN,JUL ? *)", utc(2026, 11, 29, 0, 0), utc(2027, 1, 1, 8, 0)),
        # L: the month's last day (February 2027 has 28).
        ("cron(0 0 L * ? *)", utc(2027, 2, 10, 0, 0), utc(2027, 2, 28, 0, 0)),
        # 3#2: the second Tuesday (1 December 2026 is a Tuesday).
        ("cron(0 10 ? * 3#2 *)", utc(2026, 12, 1, 11, 0), utc(2026, 12, 8, 10, 0)),
        # 6L: the month's last Friday.
        ("cron(0 12 ? * 6L *)", utc(2026, 11, 1, 0, 0), utc(2026, 11, 27, 12, 0)),
        # L alone in day-of-week is Saturday.
        ("cron(0 12 ? * L *)", utc(2026, 11, 23, 0, 0), utc(2026, 11, 28, 12, 0)),
        # 1W: 1 August 2026 is a Saturday, and W never leaves the month: Monday the 3rd.
        ("cron(0 9 1W * ? *)", utc(2026, 7, 31, 12, 0), utc(2026, 8, 3, 9, 0)),
        # LW: the last weekday; 31 January 2027 is a Sunday.
        ("cron(0 9 LW * ? *)", utc(2027, 1, 20, 0, 0), utc(2027, 1, 29, 9, 0)),
        # 31W never runs in a 30-day month.
        ("cron(0 9 31W * ? *)", utc(2026, 11, 1, 0, 0), utc(2026, 12, 31, 9, 0)),
        ("cron(0 9 29 2 ? *)", utc(2026, 3, 1, 0, 0), utc(2028, 2, 29, 9, 0)),
        # A year field that has run out: no next run.
        ("cron(0 0 1 1 ? 2020)", utc(2026, 11, 29, 0, 0), None),
    ],
)
def test_given_a_cron_expression_in_utc_then_the_next_run_is_the_first_matching_minute_after(
    expression: str, after: datetime, expected: datetime | None
) -> None:
    assert next_run(expression, after) == expected


def test_given_a_time_zone_then_the_wall_clock_time_holds_across_daylight_saving() -> None:
    # 07:00 in Chicago is 13:00 UTC in winter (CST) and 12:00 UTC in summer (CDT).
    assert next_run("cron(0 7 * * ? *)", utc(2026, 11, 29, 12, 0), "America/Chicago") == utc(2026, 11, 29, 13)
    assert next_run("cron(0 7 * * ? *)", utc(2027, 7, 1, 0, 0), "America/Chicago") == utc(2027, 7, 1, 12)
    # A time zone east of UTC whose local date is already tomorrow.
    assert next_run("cron(30 8 * * ? *)", utc(2026, 11, 29, 23, 0), "Asia/Tokyo") == utc(2026, 11, 29, 23, 30)


def test_given_a_local_time_daylight_saving_skips_then_that_day_does_not_run() -> None:
    # 14 March 2027, Chicago: 02:00 CST jumps to 03:00 CDT, so 02:30 does not exist that day.
    after = utc(2027, 3, 13, 9, 0)  # 03:00 CST on the 13th, after that day's 02:30

    assert next_run("cron(30 2 * * ? *)", after, "America/Chicago") == utc(2027, 3, 15, 7, 30)


def test_given_a_local_time_daylight_saving_repeats_then_it_runs_once() -> None:
    # 1 November 2026, Chicago: 01:30 happens at 06:30 UTC (CDT) and again at 07:30 UTC (CST).
    first = next_run("cron(30 1 * * ? *)", utc(2026, 11, 1, 6, 0), "America/Chicago")
    assert first == utc(2026, 11, 1, 6, 30)

    # The repeated 01:30 is not a second run: the next is the following day's (CST).
    assert next_run("cron(30 1 * * ? *)", first, "America/Chicago") == utc(2026, 11, 2, 7, 30)


# ---------------------------------------------------------------- rate()


def test_given_a_rate_then_runs_count_from_when_the_schedule_began() -> None:
    schedule = SyncSchedule.of("rate(5 minutes)", "UTC", True)
    began = utc(2026, 11, 29, 10, 0)

    assert schedule.next_run_after(utc(2026, 11, 29, 9, 0), rate_anchor=began) == began
    assert schedule.next_run_after(began, rate_anchor=began) == utc(2026, 11, 29, 10, 5)
    assert schedule.next_run_after(utc(2026, 11, 29, 10, 7), rate_anchor=began) == utc(2026, 11, 29, 10, 10)
    # Without the start nobody can say; the page shows the expression alone.
    assert schedule.next_run_after(began) is None


def test_given_a_rate_in_days_then_a_day_is_24_hours_even_across_daylight_saving() -> None:
    schedule = SyncSchedule.of("rate(1 day)", "America/Chicago", True)
    began = utc(2027, 3, 13, 12, 0)

    assert schedule.next_run_after(began, rate_anchor=began) == utc(2027, 3, 14, 12, 0)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(1 minutes)", "minute, hour or day"),
        ("rate(5 minute)", "minutes, hours or days"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(5 weeks)", "minutes, hours or days"),
        ("cron(0 7 * * *)", "six fields"),
        ("cron(0 7 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 7 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 7 * * ? *)", "outside minutes"),
        ("cron(0 7 ? * 3#1,6#3 *)", "one expression"),
        ("cron(0 7 ? * 3#6 *)", "1-5"),
        ("cron(0 7 * FOO ? *)", "not a month"),
        ("cron(0/0 7 * * ? *)", "positive whole number"),
        ("at(2026-11-29T07:00:00)", "neither cron"),
    ],
)
def test_given_an_expression_eventbridge_refuses_then_the_error_says_why(
    expression: str, problem: str
) -> None:
    with pytest.raises(ScheduleExpressionError, match=problem):
        parse_schedule_expression(expression)


def test_given_an_unknown_time_zone_then_a_config_error_names_it() -> None:
    with pytest.raises(ConfigError, match="'Mars/Olympus' is not an IANA time zone"):
        SyncSchedule.of("cron(0 7 * * ? *)", "Mars/Olympus", True)


# ---------------------------------------------------------------- what GET /api/schedule answers


def test_given_the_admin_functions_environment_then_the_status_is_expression_zone_flag_and_next_run() -> None:
    env = {
        "SYNC_SCHEDULE": "cron(0 7 * * ? *)",
        "SYNC_SCHEDULE_TIMEZONE": "Europe/London",
        "SYNC_SCHEDULE_ENABLED": "true",
        "INCREMENTAL_SYNC_SCHEDULE": "cron(0 * * * ? *)",
        "INCREMENTAL_SYNC_SCHEDULE_ENABLED": "true",
    }
    schedule = SyncSchedule.from_env(ScheduleEnv.from_env(env))

    status = schedule.status(utc(2026, 11, 29, 8, 0))

    assert status.model_dump(mode="json") == {
        "expression": "cron(0 7 * * ? *)",
        "timezone": "Europe/London",
        "enabled": True,
        "next_run_at": "2026-11-30T07:00:00Z",
        "run_type": None,
    }


def test_given_a_disabled_schedule_then_it_has_no_next_run() -> None:
    env = ScheduleEnv.from_env(
        {
            "SYNC_SCHEDULE": "cron(0 7 * * ? *)",
            "SYNC_SCHEDULE_TIMEZONE": "UTC",
            "SYNC_SCHEDULE_ENABLED": "false",
            "INCREMENTAL_SYNC_SCHEDULE": "cron(0 * * * ? *)",
            "INCREMENTAL_SYNC_SCHEDULE_ENABLED": "true",
        }
    )

    status = SyncSchedule.from_env(env).status(utc(2026, 11, 29, 8, 0))

    assert (status.enabled, status.next_run_at) == (False, None)


def test_given_both_schedules_then_each_says_its_run_and_next_time_the_incremental_first() -> None:
    env = ScheduleEnv.from_env(
        {
            "SYNC_SCHEDULE": "cron(0 7 * * ? *)",
            "SYNC_SCHEDULE_TIMEZONE": "America/Chicago",
            "SYNC_SCHEDULE_ENABLED": "true",
            "INCREMENTAL_SYNC_SCHEDULE": "cron(0 * * * ? *)",
            "INCREMENTAL_SYNC_SCHEDULE_ENABLED": "true",
        }
    )

    statuses = [s.status(utc(2026, 11, 29, 8, 20)) for s in deployment_schedules(env)]

    assert [s.model_dump(mode="json") for s in statuses] == [
        {
            "expression": "cron(0 * * * ? *)",
            "timezone": "America/Chicago",
            "enabled": True,
            "next_run_at": "2026-11-29T09:00:00Z",
            "run_type": "incremental_sync",
        },
        {
            "expression": "cron(0 7 * * ? *)",
            "timezone": "America/Chicago",
            "enabled": True,
            # 07:00 in Chicago (UTC-6 in November)
            "next_run_at": "2026-11-29T13:00:00Z",
            "run_type": "full_sync",
        },
    ]


def test_given_the_admin_environment_without_the_schedule_then_it_fails_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="SYNC_SCHEDULE_TIMEZONE"):
        AdminApiEnv.from_env(
            {
                "RECORDS_TABLE": "r",
                "STATE_TABLE": "s",
                "PCO_SECRET_ARN": "arn",
                "PCO_BASE_URL": "https://api.planningcenteronline.com",
                "SYNC_STATE_MACHINE_ARN": "arn:machine",
                "WEBHOOK_URL": "https://hooks",
                "WEBHOOK_DLQ_URL": "https://dlq",
                "SYNC_SCHEDULE": "cron(0 7 * * ? *)",
                "SYNC_SCHEDULE_ENABLED": "true",
            }
        )
