"""Restructuring (重组: 展期 extension, capitalisation, a new schedule) and its observation clock.

Why an observation clock: under 《商业银行金融资产风险分类办法》(2023) a restructured asset is
watched from the first repayment date after the restructuring for at least two consecutive
periods *and* at least one year; a missed payment restarts the watch. Five-level
classification (``postloan.classification``) reads the clock, so it is a plain frozen
dataclass of dates that any system can fill in: the due dates of the new schedule, the ones
paid on time and the ones missed.

What a restructuring does with the arrears (``RestructuringPolicy`` in ``accounting.yaml``):
overdue interest and interest accrued to the restructuring date join the new principal when
``capitalise_interest`` (the usual 展期 with 利息资本化); otherwise they are carried onto the
first new instalment. Penalty is carried, not capitalised, unless ``capitalise_penalty`` [check].
The new schedule runs monthly from the restructuring date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting.amounts import ZERO, require_rate, require_term, require_yuan
from xiaowei.postloan.accounting.config import RestructuringPolicy, default_config
from xiaowei.postloan.accounting.daycount import DayCount, RateConvention, add_months, due_dates
from xiaowei.postloan.accounting.schedule import AMORTISING, Schedule, amortise, level_payment


@dataclass(frozen=True)
class ObservationClock:
    """The observation period of one restructuring, as plain dates.

    ``on_time_due_dates``: due dates of the new schedule whose principal and interest were paid
    in full by the due date (plus the technical grace); ``missed_due_dates``: due dates known to
    be missed. A due date in neither is still open. Each miss restarts the clock at the next
    due date after it.
    """

    restructured_on: date
    due_dates: tuple[date, ...]
    on_time_due_dates: tuple[date, ...] = ()
    missed_due_dates: tuple[date, ...] = ()
    min_periods: int = 2
    min_months: int = 12

    def __post_init__(self) -> None:
        if not self.due_dates or self.due_dates[0] <= self.restructured_on:
            raise ValueError("due_dates must be non-empty and after restructured_on")
        known = set(self.due_dates)
        for name in ("on_time_due_dates", "missed_due_dates"):
            stray = [d for d in getattr(self, name) if d not in known]
            if stray:
                raise ValueError(f"{name} holds dates that are not due dates: {stray}")
        both = set(self.on_time_due_dates) & set(self.missed_due_dates)
        if both:
            raise ValueError(f"a due date cannot be both on time and missed: {sorted(both)}")

    @property
    def first_repayment_date(self) -> date:
        """The first repayment date after restructuring, where the observation starts."""
        return self.due_dates[0]

    def last_missed_on(self, as_of: date) -> date | None:
        """The latest missed due date on or before ``as_of``."""
        missed = [d for d in self.missed_due_dates if d <= as_of]
        return max(missed) if missed else None

    def started_on(self, as_of: date) -> date | None:
        """Start of the observation in force on ``as_of``; ``None`` if no due date is left."""
        last_miss = self.last_missed_on(as_of)
        if last_miss is None:
            return self.first_repayment_date
        return next((d for d in self.due_dates if d > last_miss), None)

    def periods_observed(self, as_of: date) -> int:
        """Consecutive periods paid on time from the start up to ``as_of``."""
        start = self.started_on(as_of)
        if start is None:
            return 0
        on_time = set(self.on_time_due_dates)
        count = 0
        for due in self.due_dates:
            if due < start:
                continue
            if due > as_of or due not in on_time:
                break
            count += 1
        return count

    def passes_on(self, as_of: date) -> date | None:
        """The earliest date the clock in force on ``as_of`` can pass (one year from its start)."""
        start = self.started_on(as_of)
        return None if start is None else add_months(start, self.min_months)

    def passed(self, as_of: date) -> bool:
        """``min_periods`` consecutive periods on time *and* ``min_months`` since the start."""
        ends = self.passes_on(as_of)
        return (ends is not None and as_of >= ends
                and self.periods_observed(as_of) >= self.min_periods)


@dataclass(frozen=True)
class Restructuring:
    """What was capitalised or carried, the new schedule, and the clock it started."""

    restructured_on: date
    outstanding_principal: Decimal
    capitalised_interest: Decimal
    capitalised_penalty: Decimal
    carried_interest: Decimal
    carried_penalty: Decimal
    schedule: Schedule
    observation: ObservationClock

    @property
    def new_principal(self) -> Decimal:
        return self.schedule.principal


def extended_term(schedule: Schedule, on: date, extension_months: int) -> int:
    """展期: the periods still ahead of ``on`` plus ``extension_months``."""
    require_term(extension_months, "extension_months")
    return sum(1 for d in schedule.due_dates if d > on) + extension_months


def restructure(on: date, outstanding_principal: Decimal, overdue_interest: Decimal,
                accrued_interest: Decimal, penalty: Decimal, term_months: int,
                annual_rate: Decimal, method: RepaymentMethod, *,
                day_count: DayCount | None = None, convention: RateConvention | None = None,
                policy: RestructuringPolicy | None = None) -> Restructuring:
    """Restructure a loan on ``on`` into a new schedule of ``term_months`` from that date."""
    for name, value in (("overdue_interest", overdue_interest),
                        ("accrued_interest", accrued_interest), ("penalty", penalty)):
        require_yuan(value, name, positive=False)
    require_yuan(outstanding_principal, "outstanding_principal", positive=False)
    require_rate(annual_rate)
    require_term(term_months)
    method = RepaymentMethod(method)
    if method not in AMORTISING:
        raise ValueError(f"method must be one of {[m.value for m in AMORTISING]} "
                         f"(a restructured loan is amortised), got {method.value}")
    config = default_config()
    policy = policy or config.restructuring
    day_count = DayCount(day_count or config.day_count)
    convention = RateConvention(convention or config.convention)
    interest = overdue_interest + accrued_interest
    cap_interest = interest if policy.capitalise_interest else ZERO
    cap_penalty = penalty if policy.capitalise_penalty else ZERO
    principal = outstanding_principal + cap_interest + cap_penalty
    if principal <= 0:
        raise ValueError("outstanding_principal: nothing is left to restructure")
    dates = due_dates(on, term_months)
    level = (level_payment(principal, annual_rate, term_months)
             if method is RepaymentMethod.EQUAL_INSTALMENT else None)
    rows = amortise(principal, annual_rate, on, dates, method, day_count, convention,
                    instalment=level)
    carried = interest - cap_interest
    rows = (replace(rows[0], interest=rows[0].interest + carried), *rows[1:])
    schedule = Schedule(principal, annual_rate, on, method, day_count, convention, rows, level,
                        carried)
    clock = ObservationClock(on, dates, min_periods=policy.observation_min_periods,
                             min_months=policy.observation_min_months)
    return Restructuring(on, outstanding_principal, cap_interest, cap_penalty, carried,
                         penalty - cap_penalty, schedule, clock)
