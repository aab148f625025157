"""A loan's position on a date: the figures monitoring, classification and staging read.

Why one flat frozen record: the nightly batch computes it for every loan and hands it to
strategies, tags and the five-level classification, which must not reach back into the
ledger. Two identities are exposed as checks because they are what an auditor asks first:
principal lent = principal paid + outstanding + written off, and money received = penalty +
interest + principal + fees paid + recoveries + suspense — every yuan lands somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xiaowei.entities.lending import LoanStatus, RepaymentMethod
from xiaowei.postloan.accounting.amounts import ZERO
from xiaowei.postloan.accounting.restructuring import ObservationClock
from xiaowei.postloan.accounting.writeoff import WrittenOffLoan


@dataclass(frozen=True)
class LoanPosition:
    """One loan as of ``as_of`` (end of that day, after its payments).

    ``principal`` is what was lent: the contract principal (a line's draws so far) plus
    interest or penalty capitalised by restructuring. ``overdue_*`` count instalments due
    *before* ``as_of``; one due today is not yet late. ``paid_periods`` / ``total_periods`` /
    ``next_due_date`` refer to the schedule in force (the restructured one after a
    restructuring). ``penalty_accrued`` is 罚息 and 复利 accrued and unpaid.
    """

    loan_id: str
    as_of: date
    method: RepaymentMethod
    status: LoanStatus
    principal: Decimal
    principal_paid: Decimal
    outstanding_principal: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    accrued_interest: Decimal
    interest_paid: Decimal
    penalty_accrued: Decimal
    penalty_paid: Decimal
    fees_paid: Decimal
    received: Decimal
    suspense: Decimal
    dpd: int
    bucket: str
    overdue_since: date | None
    paid_periods: int
    total_periods: int
    next_due_date: date | None
    restructured_on: tuple[date, ...] = ()
    observation: ObservationClock | None = None
    restructured_again_in_observation: bool = False
    written_off: WrittenOffLoan | None = None

    @property
    def restructured(self) -> bool:
        return bool(self.restructured_on)

    @property
    def observation_passed(self) -> bool | None:
        """Whether the latest restructuring's observation has passed; ``None`` if none."""
        return None if self.observation is None else self.observation.passed(self.as_of)

    def restructuring_facts(self) -> dict[str, object]:
        """The restructuring facts five-level classification takes, under its field names.

        ``periods_paid_since`` counts the consecutive periods paid on time since the clock's
        (re)start; ``missed_since_restructure`` / ``last_missed_on`` cover the latest
        restructuring's schedule up to ``as_of``.
        """
        clock = self.observation
        last_missed = None if clock is None else clock.last_missed_on(self.as_of)
        return {
            "restructured": self.restructured,
            "restructured_on": self.restructured_on[-1] if self.restructured_on else None,
            "observation_passed": self.observation_passed,
            "first_payment_after_restructuring":
                None if clock is None else clock.first_repayment_date,
            "periods_paid_since": 0 if clock is None else clock.periods_observed(self.as_of),
            "missed_since_restructure": last_missed is not None,
            "last_missed_on": last_missed,
            "restructured_again_in_observation": self.restructured_again_in_observation,
        }

    @property
    def written_off_principal(self) -> Decimal:
        return ZERO if self.written_off is None else self.written_off.write_off.principal

    @property
    def recovered(self) -> Decimal:
        """Recoveries on the written-off claim (reported apart from repayments)."""
        return ZERO if self.written_off is None else self.written_off.recovered

    @property
    def principal_reconciles(self) -> bool:
        return (self.principal_paid + self.outstanding_principal + self.written_off_principal
                == self.principal)

    @property
    def money_reconciles(self) -> bool:
        landed = (self.penalty_paid + self.interest_paid + self.principal_paid + self.fees_paid
                  + self.recovered + self.suspense)
        return landed == self.received
