"""The revolving line (随借随还): draw and repay any day, interest daily on what is drawn.

Why no schedule fixed in advance: the borrower decides when to draw and when to repay, so the
interest of a month is only known at its end. Interest for each day accrues on the balance
drawn at the end of that day (a draw on the 3rd repaid on the 8th costs 5 days), is summed
unrounded over the month and charged, rounded half-up to the fen, on each monthly billing date
— the same monthly grid (end-of-month clamped) as the amortising loans. The drawn balance falls
due in full at maturity. There is no "monthly rate" convention here: interest is always by the
day count.

``RevolvingAccrual`` is the running meter the ledger uses; ``revolving_schedule`` applies it to
known draws and principal repayments to show the bills of a whole term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from xiaowei.postloan.accounting.amounts import (
    ZERO,
    require_rate,
    require_term,
    require_yuan,
    round_fen,
)
from xiaowei.postloan.accounting.config import default_config
from xiaowei.postloan.accounting.daycount import DayCount, accrue, due_dates


@dataclass(frozen=True)
class Flow:
    """A draw, or a repayment of principal, of ``amount`` (> 0) on ``on``."""

    on: date
    amount: Decimal


class RevolvingAccrual:
    """The drawn balance and the interest accrued on it since the last bill (mutable)."""

    def __init__(self, annual_rate: Decimal, day_count: DayCount, start: date) -> None:
        self.annual_rate = annual_rate
        self.day_count = day_count
        self.balance = ZERO
        self.accrued = Decimal(0)
        self.accrued_to = start

    def advance(self, day: date) -> None:
        """Accrue interest on the current balance up to ``day`` (not counted)."""
        if day > self.accrued_to:
            self.accrued += accrue(self.balance, self.annual_rate, self.accrued_to, day,
                                   self.day_count)
            self.accrued_to = day

    def move(self, amount: Decimal) -> None:
        """Change the balance from the current day on (a draw > 0, a repayment < 0)."""
        if self.balance + amount < 0:
            raise ValueError(f"a repayment of {-amount} exceeds the drawn balance {self.balance}")
        self.balance += amount

    def bill(self) -> Decimal:
        """Charge the accrued interest, rounded to the fen, and restart the meter."""
        interest = round_fen(self.accrued)
        self.accrued = Decimal(0)
        return interest


@dataclass(frozen=True)
class RevolvingPeriod:
    """One billing month of a revolving line."""

    period: int
    accrual_start: date
    due_date: date
    drawn: Decimal
    repaid: Decimal
    interest: Decimal
    closing_balance: Decimal


@dataclass(frozen=True)
class RevolvingSchedule:
    """The bills of a revolving line over its term; the drawn balance is due at maturity."""

    limit: Decimal
    annual_rate: Decimal
    start_date: date
    day_count: DayCount
    periods: tuple[RevolvingPeriod, ...]

    @property
    def maturity_date(self) -> date:
        return self.periods[-1].due_date

    @property
    def principal_due_at_maturity(self) -> Decimal:
        return self.periods[-1].closing_balance

    @property
    def total_interest(self) -> Decimal:
        return sum((p.interest for p in self.periods), ZERO)


def check_flows(flows: Sequence[Flow], what: str, first: date, last: date) -> None:
    """Every flow a positive fen amount dated from ``first`` to ``last`` (inclusive)."""
    for index, flow in enumerate(flows):
        require_yuan(flow.amount, f"{what}[{index}].amount")
        if not first <= flow.on <= last:
            raise ValueError(f"{what}[{index}].on {flow.on} must be from {first} to {last}")


def revolving_schedule(limit: Decimal, annual_rate: Decimal, start_date: date, term_months: int,
                       draws: Sequence[Flow], repayments: Sequence[Flow] = (), *,
                       day_count: DayCount | None = None) -> RevolvingSchedule:
    """Monthly bills of a line with these draws and principal repayments.

    A period's ``closing_balance`` is the balance after that day's flows, so at maturity it is
    the principal still owed.

    Draws run from the start date to the day before maturity, repayments to maturity; the
    balance may never exceed ``limit`` nor go below 0 (both refused, naming the day).
    """
    require_yuan(limit, "limit")
    require_rate(annual_rate)
    require_term(term_months)
    day_count = DayCount(day_count or default_config().day_count)
    dates = due_dates(start_date, term_months)
    maturity = dates[-1]
    check_flows(draws, "draws", start_date, maturity - timedelta(days=1))
    check_flows(repayments, "repayments", start_date, maturity)
    moves: dict[date, list[Decimal]] = {}
    for flow in draws:
        moves.setdefault(flow.on, []).append(flow.amount)
    for flow in repayments:
        moves.setdefault(flow.on, []).append(-flow.amount)
    meter = RevolvingAccrual(annual_rate, day_count, start_date)
    periods: list[RevolvingPeriod] = []
    previous = start_date
    days = sorted(set(moves) | set(dates))
    drawn = repaid = ZERO
    for day in days:
        meter.advance(day)
        if day in moves:
            for amount in moves[day]:
                drawn += max(amount, ZERO)
                repaid += max(-amount, ZERO)
                meter.balance += amount
            if meter.balance < 0:
                raise ValueError(f"repayments on {day} exceed the drawn balance "
                                 f"(it would be {meter.balance})")
            if meter.balance > limit:
                raise ValueError(f"draws on {day} exceed the limit {limit} "
                                 f"(the balance would be {meter.balance})")
        if day in dates:
            periods.append(RevolvingPeriod(len(periods) + 1, previous, day, drawn, repaid,
                                           meter.bill(), meter.balance))
            previous, drawn, repaid = day, ZERO, ZERO
    return RevolvingSchedule(limit, annual_rate, start_date, day_count, tuple(periods))
