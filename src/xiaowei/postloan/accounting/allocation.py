"""The repayment waterfall: which debts a payment settles first.

Why configurable: the default order, penalty → interest → principal, is the one Chinese loan
contracts write down (费用、罚息、利息、本金 [check]); some products, and recoveries after
write-off, settle principal first. Across periods the default settles the oldest instalment in
full before the next (逐期); ``BY_COMPONENT`` instead settles every period's penalty, then every
period's interest, then principal.

The function is pure and exact: amounts are fen-precise Decimals, nothing is rounded, and what
a payment does not settle is returned as ``unallocated`` — so ``allocated + unallocated ==
amount`` always, which the ledger relies on to account for every yuan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")


class Component(StrEnum):
    """A kind of debt a payment can settle."""

    PENALTY = "penalty"
    """罚息 on overdue principal and 复利 on overdue interest, together."""
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AcrossPeriods(StrEnum):
    """How the waterfall walks several unpaid periods."""

    OLDEST_FIRST = "oldest_first"
    BY_COMPONENT = "by_component"


@dataclass(frozen=True)
class Waterfall:
    """The order of components and the walk across periods."""

    order: tuple[Component, ...] = (Component.PENALTY, Component.INTEREST, Component.PRINCIPAL)
    across: AcrossPeriods = AcrossPeriods.OLDEST_FIRST

    def __post_init__(self) -> None:
        order = tuple(Component(c) for c in self.order)
        if sorted(order) != sorted(Component):
            raise ValueError(
                f"order must name each of {[c.value for c in Component]} once, "
                f"got {[c.value for c in order]}")
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "across", AcrossPeriods(self.across))


@dataclass(frozen=True)
class Owed:
    """What one period still owes, by component (fen-precise, ≥ 0)."""

    period: int
    due_date: date
    penalty: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def __post_init__(self) -> None:
        for component in Component:
            value = getattr(self, component.value)
            if not isinstance(value, Decimal) or value < 0:
                raise ValueError(f"{component.value} owed for period {self.period} must be a "
                                 f"Decimal ≥ 0, got {value!r}")

    def of(self, component: Component) -> Decimal:
        return getattr(self, component.value)

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class AllocationLine:
    """Part of a payment applied to one component of one period."""

    period: int
    component: Component
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """How a payment was split; ``unallocated`` is what no debt absorbed."""

    amount: Decimal
    lines: tuple[AllocationLine, ...]
    unallocated: Decimal

    def total(self, component: Component | None = None) -> Decimal:
        """Amount applied to ``component`` (all components when ``None``)."""
        return sum((line.amount for line in self.lines
                    if component is None or line.component is component), ZERO)

    def for_period(self, period: int) -> dict[Component, Decimal]:
        """Amount applied to each component of ``period``."""
        out = dict.fromkeys(Component, ZERO)
        for line in self.lines:
            if line.period == period:
                out[line.component] += line.amount
        return out


def allocate(amount: Decimal, owed: Sequence[Owed], waterfall: Waterfall = Waterfall()
             ) -> Allocation:
    """Split ``amount`` over ``owed`` in the waterfall's order; the rest is ``unallocated``."""
    if not isinstance(amount, Decimal) or amount < 0:
        raise ValueError(f"amount must be a Decimal ≥ 0, got {amount!r}")
    ordered = sorted(owed, key=lambda o: (o.due_date, o.period))
    if waterfall.across is AcrossPeriods.OLDEST_FIRST:
        steps = [(o, c) for o in ordered for c in waterfall.order]
    else:
        steps = [(o, c) for c in waterfall.order for o in ordered]
    left = amount
    lines: list[AllocationLine] = []
    for item, component in steps:
        if left <= 0:
            break
        paid = min(left, item.of(component))
        if paid > 0:
            lines.append(AllocationLine(item.period, component, paid))
            left -= paid
    return Allocation(amount, tuple(lines), left)
