"""Write-off (核销) and the recoveries that follow it (账销案存).

Why a separate record rather than a zero balance: a write-off takes the loan off the balance
sheet, not the claim off the borrower ("the books are closed, the case stays open"). The
written-off principal, interest and penalty stay recorded off-book; every later recovery is
booked against them and reported apart from ordinary repayments, because recoveries on
written-off loans are income of another kind (核销后收回) and a measure of the collection team.

Recoveries settle principal first by default (``write_off.recovery_order`` [check]); anything
beyond the whole claim is ``excess`` for the ledger's suspense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from xiaowei.postloan.accounting.allocation import Component, Owed, Waterfall, allocate
from xiaowei.postloan.accounting.amounts import ZERO, require_yuan

RECOVERY_ORDER = Waterfall((Component.PRINCIPAL, Component.INTEREST, Component.PENALTY))


@dataclass(frozen=True)
class WriteOff:
    """The amounts taken off the books on ``written_off_on``."""

    loan_id: str
    written_off_on: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal

    def __post_init__(self) -> None:
        for name in ("principal", "interest", "penalty"):
            require_yuan(getattr(self, name), name, positive=False)

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.penalty


@dataclass(frozen=True)
class Recovery:
    """One amount received after write-off and what it settled."""

    payment_id: str
    received_on: date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    excess: Decimal


@dataclass(frozen=True)
class WrittenOffLoan:
    """A written-off loan and its recoveries; ``recover`` returns the next state."""

    write_off: WriteOff
    recoveries: tuple[Recovery, ...] = field(default=())

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(r, name) for r in self.recoveries), ZERO)

    @property
    def recovered(self) -> Decimal:
        """Recovered against the claim (excess not included)."""
        return self._sum("principal") + self._sum("interest") + self._sum("penalty")

    @property
    def remaining(self) -> Owed:
        """The off-book claim still open."""
        w = self.write_off
        return Owed(0, w.written_off_on, penalty=w.penalty - self._sum("penalty"),
                    interest=w.interest - self._sum("interest"),
                    principal=w.principal - self._sum("principal"))

    def recovered_of(self, component: Component) -> Decimal:
        return self._sum(component.value)

    def recover(self, payment_id: str, received_on: date, amount: Decimal,
                order: Waterfall = RECOVERY_ORDER) -> WrittenOffLoan:
        """Book ``amount`` received on ``received_on`` (after the write-off date)."""
        require_yuan(amount, f"amount (payment {payment_id})")
        if received_on <= self.write_off.written_off_on:
            raise ValueError(f"received_on {received_on} must be after the write-off on "
                             f"{self.write_off.written_off_on} (payment {payment_id})")
        split = allocate(amount, [self.remaining], order)
        recovery = Recovery(payment_id, received_on, amount,
                            split.total(Component.PRINCIPAL), split.total(Component.INTEREST),
                            split.total(Component.PENALTY), split.unallocated)
        return WrittenOffLoan(self.write_off, (*self.recoveries, recovery))
