"""The loan contract the ledger keeps: the terms every schedule and position is derived from.

Why a frozen dataclass of plain values: the ledger recomputes every figure from the contract
and the accepted payments, so the contract must not change under it. A revolving line's
``principal`` is its credit limit and its ``draws`` are the amounts taken; the other methods
draw the whole principal at disbursement. The limit is checked per draw only: repayments free
it up again, and the core system that pays out a draw is where the running limit is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from xiaowei.entities.lending import Loan, RepaymentMethod
from xiaowei.postloan.accounting.amounts import require_rate, require_term, require_yuan
from xiaowei.postloan.accounting.daycount import DayCount, RateConvention, add_months
from xiaowei.postloan.accounting.revolving import Flow, check_flows


@dataclass(frozen=True)
class LoanContract:
    """A disbursed loan's terms. ``day_count`` / ``convention`` ``None``: the ledger's config."""

    loan_id: str
    principal: Decimal
    annual_rate: Decimal
    start_date: date
    term_months: int
    method: RepaymentMethod
    day_count: DayCount | None = None
    convention: RateConvention | None = None
    draws: tuple[Flow, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.loan_id, str) or not self.loan_id.strip():
            raise ValueError(f"loan_id must be a non-empty string, got {self.loan_id!r}")
        where = f" (loan {self.loan_id})"
        try:
            require_yuan(self.principal, "principal")
            require_rate(self.annual_rate)
            require_term(self.term_months)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{exc}{where}") from None
        if isinstance(self.start_date, datetime) or not isinstance(self.start_date, date):
            raise TypeError(f"start_date must be a date, got {self.start_date!r}{where}")
        object.__setattr__(self, "method", RepaymentMethod(self.method))
        if self.day_count is not None:
            object.__setattr__(self, "day_count", DayCount(self.day_count))
        if self.convention is not None:
            object.__setattr__(self, "convention", RateConvention(self.convention))
        draws = tuple(self.draws)
        object.__setattr__(self, "draws", draws)
        if draws and self.method is not RepaymentMethod.REVOLVING:
            raise ValueError(f"draws are for a revolving line only, not {self.method.value}"
                             f"{where}")
        check_flows(draws, "draws", self.start_date, self.maturity_date - timedelta(days=1))
        for index, flow in enumerate(draws):
            if flow.amount > self.principal:
                raise ValueError(f"draws[{index}].amount {flow.amount} is above the limit "
                                 f"(principal) {self.principal}{where}")

    @property
    def maturity_date(self) -> date:
        return add_months(self.start_date, self.term_months)

    @classmethod
    def from_loan(cls, loan: Loan, *, day_count: DayCount | None = None,
                  convention: RateConvention | None = None,
                  draws: tuple[Flow, ...] = ()) -> LoanContract:
        """The contract of a ``xiaowei.entities.lending.Loan`` record."""
        return cls(loan.loan_id, loan.principal, loan.annual_rate, loan.start_date,
                   loan.term_months, loan.repayment_method, day_count, convention, draws)
