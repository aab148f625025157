"""Repayment schedules of amortising loans: 等额本息, 等额本金 and 先息后本.

Why each period's interest is computed on the actual days between due dates (by default): the
bank accrues interest daily in its core system (ACT/360), so a 31-day month earns more than a
28-day February; a schedule that charged the same every month would not reconcile with the
accruals. Contracts that quote a monthly rate (月利率 = 年利率/12, usual for 等额本息) choose
``RateConvention.MONTHLY``; the choice is explicit on every schedule.

How the fen are kept exact:

- interest is rounded half-up to the fen per period, on that period's opening balance;
- 等额本息: the level instalment comes from the annuity formula with monthly rate annual/12,
  rounded to the fen; each period's principal is the instalment minus the period's interest;
- 等额本金: principal per period is principal/n rounded to the fen;
- 先息后本: principal is repaid in full with the last instalment;
- the last instalment takes whatever principal is left, so the principal column sums to the
  principal exactly and the balance ends at 0 — the rounding of every earlier period lands there.

The revolving line (随借随还) has no schedule fixed in advance; see ``revolving``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting.amounts import (
    ZERO,
    require_rate,
    require_term,
    require_yuan,
    round_fen,
)
from xiaowei.postloan.accounting.config import default_config
from xiaowei.postloan.accounting.daycount import (
    MONTHS_PER_YEAR,
    DayCount,
    RateConvention,
    due_dates,
    period_interest,
)

AMORTISING = (RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL,
              RepaymentMethod.INTEREST_ONLY_BULLET)


@dataclass(frozen=True)
class Instalment:
    """One period of a schedule: what falls due on ``due_date``."""

    period: int
    accrual_start: date
    due_date: date
    days: int
    opening_balance: Decimal
    principal: Decimal
    interest: Decimal
    closing_balance: Decimal

    @property
    def payment(self) -> Decimal:
        """Principal plus interest due."""
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    """A loan's instalments and the terms they were computed with."""

    principal: Decimal
    annual_rate: Decimal
    start_date: date
    method: RepaymentMethod
    day_count: DayCount
    convention: RateConvention
    instalments: tuple[Instalment, ...]
    level_instalment: Decimal | None = None
    """等额本息: the instalment the annuity formula gives (the last one may differ)."""
    carried_interest: Decimal = ZERO
    """Interest a restructuring added to the first instalment (already in its ``interest``)."""

    @property
    def term(self) -> int:
        return len(self.instalments)

    @property
    def maturity_date(self) -> date:
        return self.instalments[-1].due_date

    @property
    def due_dates(self) -> tuple[date, ...]:
        return tuple(i.due_date for i in self.instalments)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.instalments), ZERO)

    @property
    def total_payment(self) -> Decimal:
        return sum((i.payment for i in self.instalments), ZERO)

    def balance_on(self, day: date) -> Decimal:
        """Scheduled principal outstanding after every instalment due on or before ``day``."""
        balance = self.principal
        for instalment in self.instalments:
            if instalment.due_date > day:
                break
            balance = instalment.closing_balance
        return balance

    def last_due_on_or_before(self, day: date) -> date:
        """The latest due date not after ``day``, or the start date before the first one."""
        latest = self.start_date
        for instalment in self.instalments:
            if instalment.due_date > day:
                break
            latest = instalment.due_date
        return latest


def level_payment(balance: Decimal, annual_rate: Decimal, periods: int) -> Decimal:
    """The 等额本息 instalment: ``B·r·(1+r)^n / ((1+r)^n − 1)`` with r = annual/12, to the fen."""
    monthly = annual_rate / MONTHS_PER_YEAR
    if monthly == 0:
        return round_fen(balance / periods)
    growth = (1 + monthly) ** periods
    return round_fen(balance * monthly * growth / (growth - 1))


def amortise(balance: Decimal, annual_rate: Decimal, accrual_start: date,
             dates: Sequence[date], method: RepaymentMethod, day_count: DayCount,
             convention: RateConvention, *, first_period: int = 1, regular_first: bool = True,
             instalment: Decimal | None = None, principal_step: Decimal | None = None,
             stop_when_repaid: bool = False) -> tuple[Instalment, ...]:
    """Instalments repaying ``balance`` on ``dates``; the core of every schedule here.

    ``regular_first=False`` marks the first period as a stub (it starts between due dates,
    after a prepayment or restructuring), so it uses the day count even under the monthly
    convention. ``instalment`` / ``principal_step`` keep a given level payment or principal per
    period (prepayment that shortens the term); ``stop_when_repaid`` then drops the periods
    left after the balance reaches 0.
    """
    if method not in AMORTISING:
        raise ValueError(f"method must be one of {[m.value for m in AMORTISING]}, got {method}")
    if not dates:
        raise ValueError("dates: a schedule needs at least one due date")
    if dates[0] <= accrual_start or any(b <= a for a, b in pairwise(dates)):
        raise ValueError(f"dates must increase and follow accrual_start {accrual_start}")
    count = len(dates)
    if method is RepaymentMethod.EQUAL_INSTALMENT and instalment is None:
        instalment = level_payment(balance, annual_rate, count)
    if method is RepaymentMethod.EQUAL_PRINCIPAL and principal_step is None:
        principal_step = round_fen(balance / count)
    rows: list[Instalment] = []
    previous = accrual_start
    for index, due in enumerate(dates):
        regular = index > 0 or regular_first
        interest = round_fen(period_interest(balance, annual_rate, previous, due, day_count,
                                             convention, regular=regular))
        if index == count - 1:
            principal = balance
        elif method is RepaymentMethod.EQUAL_INSTALMENT:
            assert instalment is not None
            principal = min(max(instalment - interest, ZERO), balance)
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            assert principal_step is not None
            principal = min(principal_step, balance)
        else:
            principal = ZERO
        rows.append(Instalment(first_period + index, previous, due,
                               day_count.days(previous, due), balance, principal, interest,
                               balance - principal))
        balance -= principal
        previous = due
        if stop_when_repaid and balance == 0:
            break
    return tuple(rows)


def build_schedule(principal: Decimal, annual_rate: Decimal, start_date: date, term_months: int,
                   method: RepaymentMethod, *, day_count: DayCount | None = None,
                   convention: RateConvention | None = None) -> Schedule:
    """The schedule of a loan disbursed on ``start_date``, due monthly from it.

    ``day_count`` and ``convention`` default to ``accounting.yaml`` (ACT/360, actual days).
    """
    require_yuan(principal, "principal")
    require_rate(annual_rate)
    require_term(term_months)
    method = RepaymentMethod(method)
    config = default_config()
    day_count = DayCount(day_count or config.day_count)
    convention = RateConvention(convention or config.convention)
    level = None
    if method is RepaymentMethod.EQUAL_INSTALMENT:
        level = level_payment(principal, annual_rate, term_months)
    rows = amortise(principal, annual_rate, start_date, due_dates(start_date, term_months),
                    method, day_count, convention, instalment=level)
    return Schedule(principal, annual_rate, start_date, method, day_count, convention, rows,
                    level)
