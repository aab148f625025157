"""Calendars of a loan: monthly due dates, day counts and the rate convention.

Why these three live together: every interest figure in the package is ``balance × annual rate ×
year fraction`` over the days between two dates, and the year fraction depends on how the due
dates fall (a February period is 28 or 29 actual days) and on which day count the contract
names. Keeping the calendar in one module means a schedule, a penalty and a revolving line can
never disagree on how long a period is.

Conventions (see docs/postloan_accounting.md):

- Due dates run monthly *from the start date*, not from the previous due date, with the day
  clamped to the month's end: a loan started on Jan 31 falls due on Feb 28 (29), Mar 31,
  Apr 30 … — chaining from the previous due date would drift to the 28th for ever.
- ``ACT/360`` (the default, common in Chinese bank loans), ``ACT/365`` (fixed 365, also in leap
  years) and ``30/360`` in its 30E/360 form (a day 31 counts as 30; February is not stretched),
  so a period from the 15th to the 15th is always 30 days.
- ``RateConvention.MONTHLY`` charges ``annual / 12`` for every regular monthly period regardless
  of its length — the convention of most 等额本息 contracts; stub periods (after a prepayment
  or a restructuring mid-period) still use the day count.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum

MONTHS_PER_YEAR = 12


class DayCount(StrEnum):
    """How many days a stretch of time counts, and how many days make a year."""

    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"
    THIRTY_360 = "30/360"

    @property
    def basis(self) -> int:
        """Days in the denominator of the year fraction."""
        return 365 if self is DayCount.ACT_365 else 360

    def days(self, start: date, end: date) -> int:
        """Days from ``start`` (counted) to ``end`` (not counted) under this day count."""
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        if self is not DayCount.THIRTY_360:
            return (end - start).days
        return _thirty_e(end) - _thirty_e(start)


def _thirty_e(day: date) -> int:
    """A date as a day number in a calendar of 30-day months (30E/360: the 31st is the 30th).

    Written as a difference of day numbers so that days(a, b) + days(b, c) == days(a, c):
    interest accrued piecewise (a revolving line) equals interest accrued at once.
    """
    return day.year * 360 + day.month * 30 + min(day.day, 30)


class RateConvention(StrEnum):
    """How a regular monthly period's interest is derived from the annual rate."""

    ACTUAL_DAYS = "actual_days"
    """annual rate × day-count days / basis, on the actual days of each period."""
    MONTHLY = "monthly"
    """annual rate / 12 for each regular monthly period (月利率 = 年利率 / 12)."""


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, the day clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    index = start.month - 1 + months
    year, month = start.year + index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(start: date, term_months: int) -> tuple[date, ...]:
    """The ``term_months`` monthly due dates of a loan disbursed on ``start``."""
    if term_months < 1:
        raise ValueError(f"term_months must be ≥ 1, got {term_months}")
    return tuple(add_months(start, k) for k in range(1, term_months + 1))


def accrue(balance: Decimal, annual_rate: Decimal, start: date, end: date,
           day_count: DayCount) -> Decimal:
    """Interest on ``balance`` from ``start`` to ``end``, unrounded (round once, per period)."""
    return balance * annual_rate * day_count.days(start, end) / day_count.basis


def period_interest(balance: Decimal, annual_rate: Decimal, start: date, end: date,
                    day_count: DayCount, convention: RateConvention, *, regular: bool) -> Decimal:
    """Unrounded interest of one period; ``regular`` says it is a whole monthly period."""
    if convention is RateConvention.MONTHLY and regular:
        return balance * annual_rate / MONTHS_PER_YEAR
    return accrue(balance, annual_rate, start, end, day_count)
