"""Prepayment (提前还款): part of the principal early, or the whole loan settled.

Why interest to the day of prepayment: the bank has lent the balance up to that day and no
further. A prepayment therefore pays (1) interest accrued on the scheduled balance from the
last due date to the prepayment date, by the contract's day count, rounded to the fen;
(2) the prepaid principal; (3) an optional fee on that principal (``PrepaymentFee``, a product
choice [check]). What remains is re-amortised on the *remaining* due dates, the first period
running from the prepayment date (a stub period, counted by the day count):

- ``REDUCE_INSTALMENT`` keeps the maturity and lowers the instalment (等额本息: a new level
  payment; 等额本金: a new principal per period; 先息后本: only the interest falls);
- ``SHORTEN_TERM`` keeps the instalment (等额本息) or the principal per period (等额本金) and
  drops the periods no longer needed. A 先息后本 loan has no instalment to keep: refused.

Both functions assume every instalment due on or before the prepayment date is paid; the
ledger checks that before it calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting.amounts import ZERO, require_yuan, round_fen
from xiaowei.postloan.accounting.config import PrepaymentFee, default_config
from xiaowei.postloan.accounting.daycount import accrue
from xiaowei.postloan.accounting.schedule import Schedule, amortise, level_payment


class PrepaymentMode(StrEnum):
    """What a partial prepayment changes in the rest of the schedule."""

    SHORTEN_TERM = "shorten_term"
    REDUCE_INSTALMENT = "reduce_instalment"


@dataclass(frozen=True)
class Prepayment:
    """What a prepayment costs and the schedule left after it (``None`` once settled)."""

    on: date
    principal: Decimal
    accrued_interest: Decimal
    fee: Decimal
    schedule: Schedule | None

    @property
    def total(self) -> Decimal:
        """Amount the borrower pays on ``on``."""
        return self.principal + self.accrued_interest + self.fee

    @property
    def settled(self) -> bool:
        return self.schedule is None


def _check_date(schedule: Schedule, on: date) -> None:
    if not schedule.start_date < on < schedule.maturity_date:
        raise ValueError(f"on {on} must fall after the start {schedule.start_date} and before "
                         f"maturity {schedule.maturity_date}")


def accrued_interest(schedule: Schedule, on: date) -> Decimal:
    """Interest accrued and not yet due on ``on``, rounded to the fen.

    Before the first due date it includes interest a restructuring carried onto the first
    instalment (``Schedule.carried_interest``).
    """
    last_due = schedule.last_due_on_or_before(on)
    exact = accrue(schedule.balance_on(on), schedule.annual_rate, last_due, on,
                   schedule.day_count)
    carried = schedule.carried_interest if on < schedule.instalments[0].due_date else ZERO
    return round_fen(exact) + carried


def prepayment_fee(principal: Decimal, fee: PrepaymentFee) -> Decimal:
    """``max(rate × principal, minimum)`` to the fen; 0 when the product charges none."""
    if fee.rate == 0 and fee.minimum == 0:
        return ZERO
    return max(round_fen(principal * fee.rate), round_fen(fee.minimum))


def settle_in_full(schedule: Schedule, on: date, fee: PrepaymentFee | None = None
                   ) -> Prepayment:
    """The settlement (提前结清) on ``on``: all principal, interest to date and the fee."""
    _check_date(schedule, on)
    fee = fee or default_config().prepayment_fee
    principal = schedule.balance_on(on)
    return Prepayment(on, principal, accrued_interest(schedule, on),
                      prepayment_fee(principal, fee), None)


def prepay_partial(schedule: Schedule, on: date, principal: Decimal, mode: PrepaymentMode,
                   fee: PrepaymentFee | None = None) -> Prepayment:
    """Prepay ``principal`` on ``on`` and re-amortise the rest per ``mode``."""
    _check_date(schedule, on)
    require_yuan(principal, "principal")
    mode = PrepaymentMode(mode)
    fee = fee or default_config().prepayment_fee
    outstanding = schedule.balance_on(on)
    if principal >= outstanding:
        raise ValueError(f"principal {principal} must be below the outstanding {outstanding}; "
                         "settle the loan in full instead")
    remaining = tuple(d for d in schedule.due_dates if d > on)
    balance = outstanding - principal
    method = schedule.method
    level = step = None
    if mode is PrepaymentMode.REDUCE_INSTALMENT:
        if method is RepaymentMethod.EQUAL_INSTALMENT:
            level = level_payment(balance, schedule.annual_rate, len(remaining))
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            step = round_fen(balance / len(remaining))
    elif method is RepaymentMethod.EQUAL_INSTALMENT:
        level = schedule.level_instalment or schedule.instalments[0].payment
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        step = schedule.instalments[0].principal
    else:
        raise ValueError(f"mode {mode.value} does not apply to {method.value} "
                         f"({method.zh}): there is no instalment to keep; use reduce_instalment")
    first = next(i.period for i in schedule.instalments if i.due_date > on)
    rows = amortise(balance, schedule.annual_rate, on, remaining, method, schedule.day_count,
                    schedule.convention, first_period=first,
                    regular_first=on in schedule.due_dates, instalment=level,
                    principal_step=step, stop_when_repaid=mode is PrepaymentMode.SHORTEN_TERM)
    rest = Schedule(balance, schedule.annual_rate, on, method, schedule.day_count,
                    schedule.convention, rows, level)
    return Prepayment(on, principal, accrued_interest(schedule, on),
                      prepayment_fee(principal, fee), rest)
