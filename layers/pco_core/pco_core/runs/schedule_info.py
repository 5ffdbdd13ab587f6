"""When the scheduled syncs run (the Incremental Sync, hourly by default, and the nightly Full Sync):
EventBridge Scheduler's cron() and rate() expressions read in the schedules' IANA time zone, for the admin
page (`GET /api/schedule`) and the local stack's scheduler.

Pure: every answer takes the moment to count from, so callers inject their clock. The rules are
EventBridge Scheduler's: cron fields `minutes hours day-of-month month day-of-week year` (day-of-week 1-7 =
SUN-SAT, exactly one of the two day fields is `?`), a local time that daylight saving skips does not run
and one it repeats runs once; `rate(n unit)` counts fixed durations (a day is 24 hours) from the moment
the schedule began, which only the caller can know (`rate_anchor`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from pco_core.errors import ConfigError
from pco_core.settings import ScheduleEnv

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
FIRST_YEAR, LAST_YEAR = 1970, 2199
RATE_UNITS: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_WRAPPER = re.compile(r"^(cron|rate)\((.*)\)$")


class ScheduleExpressionError(ConfigError):
    """A schedule expression, time zone or flag EventBridge Scheduler would refuse."""


# ---------------------------------------------------------------- rate()


@dataclass(frozen=True)
class RateExpression:
    text: str
    interval: timedelta

    def next_after(self, moment: datetime, *, anchor: datetime) -> datetime:
        """The first of anchor, anchor + interval, ... strictly after `moment`."""
        if moment < anchor:
            return anchor.astimezone(UTC)
        elapsed = (moment - anchor) // self.interval + 1
        return (anchor + elapsed * self.interval).astimezone(UTC)


def _parse_rate(text: str, body: str) -> RateExpression:
    parts = body.split()
    if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < 1:
        raise ScheduleExpressionError(f"{text}: a rate is rate(<positive whole number> <unit>)")
    value, unit = int(parts[0]), parts[1]
    # EventBridge refuses "rate(1 minutes)" and "rate(5 minute)".
    singular = unit.removesuffix("s") if value > 1 and unit.endswith("s") else unit
    if singular not in RATE_UNITS or (value == 1) != (singular == unit):
        wanted = "minute, hour or day" if value == 1 else "minutes, hours or days"
        raise ScheduleExpressionError(f"{text}: the unit of rate({value} ...) must be one of {wanted}")
    return RateExpression(text, value * RATE_UNITS[singular])


# ---------------------------------------------------------------- cron()


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def number(self, token: str) -> int:
        upper = token.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        if not token.isdigit():
            raise ValueError(f"{token!r} is not a {self.name} value")
        value = int(token)
        if not self.low <= value <= self.high:
            raise ValueError(f"{value} is outside {self.name}'s {self.low}-{self.high}")
        return value

    def values(self, spec: str) -> frozenset[int]:
        """`*`, `5`, `1-5`, `MON-FRI`, `0/15`, `*/15`, `10-40/5` and comma lists of them."""
        out: set[int] = set()
        for item in spec.split(","):
            base, _, step_text = item.partition("/")
            step = 1
            if step_text:
                if not step_text.isdigit() or int(step_text) < 1:
                    raise ValueError(f"{item!r}: the step after / must be a positive whole number")
                step = int(step_text)
            if base == "*":
                start, end = self.low, self.high
            elif "-" in base:
                first, _, last = base.partition("-")
                start, end = self.number(first), self.number(last)
            else:
                start = self.number(base)
                end = self.high if step_text else start
            if start <= end:
                out.update(range(start, end + 1, step))
            else:  # a range that wraps, such as FRI-MON or 22-2
                span = list(range(start, self.high + 1)) + list(range(self.low, end + 1))
                out.update(span[::step])
        return frozenset(out)


MINUTES = _Field("minutes", 0, 59)
HOURS = _Field("hours", 0, 23)
DAYS_OF_MONTH = _Field("day-of-month", 1, 31)
MONTHS = _Field("month", 1, 12, MONTH_NAMES)
DAYS_OF_WEEK = _Field("day-of-week", 1, 7, DAY_NAMES)
YEARS = _Field("year", FIRST_YEAR, LAST_YEAR)


def _weekday(day: date) -> int:
    """EventBridge's day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, target: int) -> int | None:
    """The Monday-Friday day of the month nearest to `target`, never leaving the month (`15W`).

    None when the month has no such day (31W in a 30-day month)."""
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    weekday = date(year, month, target).weekday()
    if weekday < 5:
        return target
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st is a Saturday
        return target - 1 if target > 1 else target + 2
    return target + 1 if target < last else target - 2  # Sunday


@dataclass(frozen=True)
class _DaysOfMonth:
    """A day-of-month field: plain days, `L` (last day), `LW` (last weekday), `nW` (nearest weekday)."""

    days: frozenset[int]
    last: bool = False
    last_weekday: bool = False
    nearest_weekday_to: int | None = None

    def matches(self, day: date) -> bool:
        if day.day in self.days or (self.last and day.day == _last_day(day)):
            return True
        if self.last_weekday and day.day == _nearest_weekday(day.year, day.month, _last_day(day)):
            return True
        target = self.nearest_weekday_to
        return target is not None and day.day == _nearest_weekday(day.year, day.month, target)

    @classmethod
    def parse(cls, spec: str) -> _DaysOfMonth:
        upper = spec.upper()
        if upper == "L":
            return cls(frozenset(), last=True)
        if upper == "LW":
            return cls(frozenset(), last_weekday=True)
        if upper.endswith("W"):
            return cls(frozenset(), nearest_weekday_to=DAYS_OF_MONTH.number(upper[:-1]))
        return cls(DAYS_OF_MONTH.values(spec))


@dataclass(frozen=True)
class _DaysOfWeek:
    """A day-of-week field: plain days, `L` (Saturday), `nL` (the month's last n-day), `n#k` (k-th n-day)."""

    days: frozenset[int]
    last_of_month: int | None = None
    nth: tuple[int, int] | None = None

    def matches(self, day: date) -> bool:
        weekday = _weekday(day)
        if self.nth is not None:
            wanted, n = self.nth
            return weekday == wanted and (day.day - 1) // 7 + 1 == n
        if self.last_of_month is not None:
            return weekday == self.last_of_month and day.day + 7 > _last_day(day)
        return weekday in self.days

    @classmethod
    def parse(cls, spec: str) -> _DaysOfWeek:
        upper = spec.upper()
        if "#" in upper:
            if "," in upper:
                raise ValueError("a day-of-week with # holds one expression only")
            weekday, _, n = upper.partition("#")
            if n not in {"1", "2", "3", "4", "5"}:
                raise ValueError(f"{spec!r}: the week after # must be 1-5")
            return cls(frozenset(), nth=(DAYS_OF_WEEK.number(weekday), int(n)))
        if upper == "L":
            return cls(frozenset({7}))
        if upper.endswith("L"):
            return cls(frozenset(), last_of_month=DAYS_OF_WEEK.number(upper[:-1]))
        return cls(DAYS_OF_WEEK.values(spec))


@dataclass(frozen=True)
class CronExpression:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: _DaysOfMonth | None  # None: `?`
    months: frozenset[int]
    days_of_week: _DaysOfWeek | None  # None: `?`
    years: frozenset[int]

    def runs_on(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return self.days_of_month.matches(day)
        return self.days_of_week is not None and self.days_of_week.matches(day)

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """The first run strictly after `moment` (in UTC), or None when the year field has run out."""
        after = moment.astimezone(UTC)
        day = after.astimezone(zone).date()
        times = [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]
        while day.year <= LAST_YEAR:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                continue
            if self.runs_on(day):
                for clock_time in times:
                    run = _local_instant(datetime.combine(day, clock_time), zone)
                    if run is not None and run > after:
                        return run
            day += timedelta(days=1)
        return None


def _local_instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time in `zone`: a repeated time's first, None for a skipped one."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _parse_cron(text: str, body: str) -> CronExpression:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{text}: cron() takes six fields (minutes hours day-of-month month day-of-week year)"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"{text}: exactly one of day-of-month and day-of-week must be ?")
    try:
        return CronExpression(
            text=text,
            minutes=MINUTES.values(minutes),
            hours=HOURS.values(hours),
            days_of_month=None if dom == "?" else _DaysOfMonth.parse(dom),
            months=MONTHS.values(month),
            days_of_week=None if dow == "?" else _DaysOfWeek.parse(dow),
            years=YEARS.values(year),
        )
    except ValueError as exc:
        raise ScheduleExpressionError(f"{text}: {exc}") from None


ScheduleExpression = CronExpression | RateExpression


def parse_schedule_expression(text: str) -> ScheduleExpression:
    """`cron(...)` or `rate(...)` as EventBridge Scheduler reads it; ScheduleExpressionError otherwise."""
    found = _WRAPPER.match(text.strip())
    if found is None:
        raise ScheduleExpressionError(f"{text!r} is neither cron(...) nor rate(...)")
    kind, body = found.groups()
    return _parse_cron(text, body) if kind == "cron" else _parse_rate(text, body)


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(
            f"{name!r} is not an IANA time zone (such as America/Chicago)"
        ) from None


# ---------------------------------------------------------------- the scheduled syncs


class ScheduleStatus(BaseModel):
    """What `GET /api/schedule` answers, per schedule."""

    expression: str
    timezone: str
    enabled: bool
    # None when disabled, when the year field has run out, or for a rate() whose start is unknown.
    next_run_at: datetime | None
    # The run the schedule starts ("incremental_sync" or "full_sync"); None when not told.
    run_type: str | None = None


@dataclass(frozen=True)
class SyncSchedule:
    """The deployment's schedule (its SyncSchedule, SyncScheduleTimezone and SyncScheduleEnabled)."""

    expression: ScheduleExpression
    zone: ZoneInfo
    enabled: bool

    @classmethod
    def of(cls, expression: str, timezone: str, enabled: bool) -> SyncSchedule:
        return cls(parse_schedule_expression(expression), load_zone(timezone), enabled)

    @classmethod
    def from_env(cls, env: ScheduleEnv) -> SyncSchedule:
        return cls.of(env.sync_schedule, env.sync_schedule_timezone, env.sync_schedule_enabled)

    @property
    def kind(self) -> Literal["cron", "rate"]:
        return "cron" if isinstance(self.expression, CronExpression) else "rate"

    def next_run_after(self, moment: datetime, *, rate_anchor: datetime | None = None) -> datetime | None:
        """The next start strictly after `moment`, in UTC, whether or not the schedule is enabled.

        A rate() counts from when the schedule began (`rate_anchor`); without it the answer is None.
        """
        if isinstance(self.expression, CronExpression):
            return self.expression.next_after(moment, self.zone)
        if rate_anchor is None:
            return None
        return self.expression.next_after(moment, anchor=rate_anchor)

    def status(self, now: datetime, *, rate_anchor: datetime | None = None) -> ScheduleStatus:
        next_run = self.next_run_after(now, rate_anchor=rate_anchor) if self.enabled else None
        return ScheduleStatus(
            expression=self.expression.text,
            timezone=self.zone.key,
            enabled=self.enabled,
            next_run_at=next_run,
        )


@dataclass(frozen=True)
class ScheduledRun:
    """One of the deployment's schedules and the run it starts."""

    run_type: Literal["incremental_sync", "full_sync"]
    schedule: SyncSchedule

    def status(self, now: datetime, *, rate_anchor: datetime | None = None) -> ScheduleStatus:
        answer = self.schedule.status(now, rate_anchor=rate_anchor)
        return answer.model_copy(update={"run_type": self.run_type})


def deployment_schedules(env: ScheduleEnv) -> list[ScheduledRun]:
    """Both schedules of the deployment, the Incremental Sync first (it comes round most often)."""
    zone = env.sync_schedule_timezone
    return [
        ScheduledRun(
            "incremental_sync",
            SyncSchedule.of(env.incremental_sync_schedule, zone, env.incremental_sync_schedule_enabled),
        ),
        ScheduledRun("full_sync", SyncSchedule.from_env(env)),
    ]
