"""Whether a restructured loan's observation period (观察期) is over.

The rule (办法, DOMAIN.md §1): the period starts on the first repayment date after the
restructuring, lasts at least N consecutive repayment periods **and** at least M years, and
restarts from the missed payment when one is missed. A loan overdue beyond the grace *today* has
missed a payment: its period passes only if it had already passed on the date that payment fell
due (as-of minus days past due); otherwise it restarts there. Why a module of its own: the
nightly batch needs the same answer for a million loans (``plus_years_array``), and both paths
must agree to the day, leap years included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


def plus_years(start: dt.date, years: int) -> dt.date:
    """``start`` plus whole years; 29 February lands on 1 March (never short of a full year)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a common year
        return dt.date(start.year + years, 3, 1)


def plus_years_array(start: np.ndarray, years: int) -> np.ndarray:
    """``plus_years`` over a datetime64[D] array (NaT stays NaT)."""
    month = start.astype("datetime64[M]")
    day = (start - month.astype("datetime64[D]")).astype(np.int64)
    shifted = (month + np.timedelta64(12 * years, "M")).astype("datetime64[D]")
    return shifted + day.astype("timedelta64[D]")  # 29 Feb + 1 year overflows to 1 March


@dataclass(frozen=True)
class ObservationStatus:
    """The answer and a sentence in each language saying why."""

    passed: bool
    zh: str
    en: str


def observation_status(
    *,
    first_payment: dt.date | None,
    periods_paid: int,
    missed: bool,
    last_missed_on: dt.date | None,
    as_of: dt.date,
    min_periods: int,
    min_years: int,
    overdue_days: int = 0,
) -> ObservationStatus:
    """Is the observation over on ``as_of``?

    ``periods_paid`` counts consecutive repayment periods paid in full and on time since the
    period (re)started. A miss without its date cannot say when the period restarted, so the
    period is taken as not over (the conservative reading). ``overdue_days`` > 0 (a payment
    overdue beyond the grace now) judges the period on the date that payment fell due.
    """
    if missed and last_missed_on is None:
        return ObservationStatus(False, "观察期内曾未按期还款且未提供日期，观察期重新计算",
                                 "a payment was missed in observation (date unknown): "
                                 "the period restarts")
    start = last_missed_on if last_missed_on is not None else first_payment
    if start is None:
        return ObservationStatus(False, "重组后首个还款日未到或未知，观察期尚未开始",
                                 "first repayment date after restructuring not reached or "
                                 "unknown: observation has not started")
    restarted = "（因未按期还款重新起算）" if last_missed_on is not None else ""
    restarted_en = " (restarted by a missed payment)" if last_missed_on is not None else ""
    ends = plus_years(start, min_years)
    judged_on = as_of - dt.timedelta(days=overdue_days)
    if overdue_days > 0 and (ends > judged_on or periods_paid < min_periods):
        return ObservationStatus(
            False, f"目前逾期 {overdue_days} 天，观察期自 {judged_on} 起重新计算",
            f"{overdue_days} days overdue now: the observation restarts from {judged_on}")
    if ends > as_of or periods_paid < min_periods:
        return ObservationStatus(
            False,
            f"观察期自 {start} 起{restarted}，需满 {min_years} 年（{ends}）且连续 {min_periods} "
            f"期按时还款，目前已还 {periods_paid} 期",
            f"observation from {start}{restarted_en} needs {min_years} year(s) (to {ends}) and "
            f"{min_periods} consecutive periods paid; {periods_paid} paid so far")
    return ObservationStatus(
        True,
        f"观察期自 {start} 起{restarted}已满 {min_years} 年且连续 {periods_paid} 期按时还款",
        f"observation from {start}{restarted_en} passed: {min_years} year(s) and "
        f"{periods_paid} consecutive periods paid")
