"""Penalty interest (罚息) on overdue principal and compound interest (复利) on overdue interest.

Why a markup over the contract rate rather than a rate of its own: Chinese loan contracts state
the penalty rate as the contract rate plus 30%–50% of it (PBOC 银发〔2003〕251号 [check]), so a
repriced loan carries its penalty rate along. Penalty replaces, and does not add to, the
contract interest on the overdue part: the schedule's later periods already charge interest
only on the balance still scheduled, so the overdue principal earns the penalty rate alone.

Penalty accrues daily from the day after the due date until the day of payment (an amount due
on the 15th and paid on the 20th is 5 days late) and is kept unrounded until it is owed; the
amount owed is rounded half-up to the fen (see ``replay``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xiaowei.postloan.accounting.daycount import DayCount, accrue


@dataclass(frozen=True)
class PenaltyTerms:
    """The penalty side of a contract: markup, day count and whether overdue interest compounds.

    ``compound_markup`` is the markup applied to overdue interest; ``None`` means the penalty
    markup (复利 charged at the penalty rate [check]).
    """

    markup: Decimal = Decimal("0.5")
    day_count: DayCount = DayCount.ACT_360
    compound: bool = True
    compound_markup: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("markup", "compound_markup"):
            value = getattr(self, name)
            if value is None and name == "compound_markup":
                continue
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a Decimal ≥ 0 (0.5 means +50%), got {value!r}")

    def rate(self, contract_rate: Decimal) -> Decimal:
        """Annual penalty rate on overdue principal: contract rate × (1 + markup)."""
        return contract_rate * (1 + self.markup)

    def compound_rate(self, contract_rate: Decimal) -> Decimal:
        """Annual rate on overdue interest; 0 when compounding is off."""
        if not self.compound:
            return Decimal(0)
        markup = self.markup if self.compound_markup is None else self.compound_markup
        return contract_rate * (1 + markup)


def penalty_interest(overdue_principal: Decimal, contract_rate: Decimal, start: date, end: date,
                     terms: PenaltyTerms) -> Decimal:
    """Unrounded 罚息 on ``overdue_principal`` for the days from ``start`` to ``end``."""
    return accrue(overdue_principal, terms.rate(contract_rate), start, end, terms.day_count)


def compound_interest(overdue_interest: Decimal, contract_rate: Decimal, start: date, end: date,
                      terms: PenaltyTerms) -> Decimal:
    """Unrounded 复利 on ``overdue_interest`` for the days from ``start`` to ``end``."""
    return accrue(overdue_interest, terms.compound_rate(contract_rate), start, end,
                  terms.day_count)
