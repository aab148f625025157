"""Service levels: when a piece of work falls due, and how late it is.

Why a calendar and not only clock hours: a case that arrives on Friday at 17:00 with a
four-hour service level is not late on Saturday morning — the people who own the queue are
not at work. Some queues (fraud holds, urgent callbacks) do run on the clock, so each service
level says which it uses. Times are stored in UTC; the calendar's working day is local time,
a fixed offset (the bank's own zone; China keeps no daylight-saving time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """The hours the people of a queue work: ``day_start``–``day_end`` local time on
    ``weekdays`` (ISO numbers, Monday = 1), except ``holidays``; ``extra_workdays`` are
    weekend days worked in lieu (调休)."""

    day_start: dt.time = dt.time(9, 0)
    day_end: dt.time = dt.time(17, 30)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    utc_offset_hours: float = 8.0

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError(f"calendar: day_end {self.day_end} must be after day_start "
                             f"{self.day_start}")
        bad = sorted(d for d in self.weekdays if not 1 <= d <= 7)
        if bad or not self.weekdays:
            raise ValueError(f"calendar: weekdays must be ISO numbers 1–7, got "
                             f"{sorted(self.weekdays)}")

    @property
    def zone(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=self.utc_offset_hours))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def _open(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.day_start, self.zone)

    def _close(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.day_end, self.zone)

    def _next_open(self, at: dt.datetime) -> dt.datetime:
        """``at`` if the queue is at work then, else the start of the next working period."""
        day = at.date()
        if self.is_working_day(day) and self._open(day) <= at < self._close(day):
            return at
        if self.is_working_day(day) and at < self._open(day):
            return self._open(day)
        day += DAY
        for _ in range(3660):  # ten years of holidays would be a broken calendar
            if self.is_working_day(day):
                return self._open(day)
            day += DAY
        raise ValueError("calendar has no working day in the next ten years")

    def add_working_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant ``duration`` of working time after ``start`` (aware), in UTC."""
        _aware(start, "start")
        left = duration
        at = self._next_open(start.astimezone(self.zone))
        while True:
            close = self._close(at.date())
            if at + left <= close:
                return (at + left).astimezone(dt.UTC)
            left -= close - at
            at = self._next_open(close)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end of the ``days``-th working day after ``start``'s day, in UTC."""
        _aware(start, "start")
        day = start.astimezone(self.zone).date()
        counted = 0
        while counted < days:
            day += DAY
            counted += self.is_working_day(day)
        return self._close(day).astimezone(dt.UTC)


def _aware(value: dt.datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")


@dataclass(frozen=True)
class ServiceLevel:
    """How long a queue's task may take: ``hours`` or ``days``, on the ``calendar`` (working
    time) or on the clock when ``calendar`` is None."""

    hours: float | None = None
    days: int | None = None
    calendar: WorkingCalendar | None = field(default=None)

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.days is None):
            raise ValueError("a service level has hours or days (exactly one)")
        if (self.hours is not None and self.hours <= 0) or (self.days is not None
                                                             and self.days <= 0):
            raise ValueError(f"a service level must be positive, got hours={self.hours} "
                             f"days={self.days}")

    def due(self, start: dt.datetime) -> dt.datetime:
        """When work started at ``start`` falls due (UTC)."""
        _aware(start, "start")
        if self.calendar is None:
            span = dt.timedelta(hours=self.hours) if self.hours is not None else \
                dt.timedelta(days=self.days or 0)
            return (start + span).astimezone(dt.UTC)
        if self.hours is not None:
            return self.calendar.add_working_time(start, dt.timedelta(hours=self.hours))
        return self.calendar.add_working_days(start, self.days or 0)

    def describe(self) -> str:
        unit = f"{self.hours:g} 小时 hours" if self.hours is not None else f"{self.days} 天 days"
        basis = "工作时间 working time" if self.calendar else "自然时间 clock time"
        return f"{unit} ({basis})"


def lateness(due_at: dt.datetime | None, now: dt.datetime) -> dt.timedelta | None:
    """How late work due at ``due_at`` is at ``now``; None when not late (or no due time)."""
    if due_at is None or now <= due_at:
        return None
    return now - due_at


def format_late(late: dt.timedelta) -> str:
    """"2天3小时 2d 3h" — a lateness for a table cell."""
    hours = int(late.total_seconds() // 3600)
    minutes = int(late.total_seconds() % 3600 // 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}天{hours}小时 {days}d {hours}h"
    return f"{hours}小时{minutes}分 {hours}h {minutes}m"
