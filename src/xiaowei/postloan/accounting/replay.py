"""One contract segment replayed day by day: what fell due, what was paid, what is late.

Why replay instead of updating balances as payments arrive: a payment may arrive late for an
earlier date, and penalty depends on *when* each fen was paid. Recomputing from the contract
and the set of accepted payments makes the result a pure function of that set — applying a
batch twice, or in another order, cannot change it — and every figure can be re-derived for
any as-of date.

A *segment* is the loan between two contract events (disbursement, restructuring, prepayment):
its own schedule (or revolving meter), the suspense it inherits, and any penalty carried onto
its first instalment. Within a day the order is fixed: penalty and revolving interest accrue up
to the day, instalments fall due (and suspense pays them), draws are made, then the day's
payments are applied in payment-id order. What a payment does not settle repays a revolving
line's drawn principal, and otherwise waits in suspense for the next due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from xiaowei.postloan.accounting.allocation import (
    Allocation,
    Component,
    Owed,
    Waterfall,
    allocate,
)
from xiaowei.postloan.accounting.amounts import ZERO, round_fen
from xiaowei.postloan.accounting.daycount import DayCount
from xiaowei.postloan.accounting.payments import Payment
from xiaowei.postloan.accounting.penalty import PenaltyTerms, compound_interest, penalty_interest
from xiaowei.postloan.accounting.prepayment import accrued_interest
from xiaowei.postloan.accounting.revolving import Flow, RevolvingAccrual
from xiaowei.postloan.accounting.schedule import Schedule


@dataclass(frozen=True)
class RevolvingTerms:
    """A revolving segment: its day count, billing dates (the last is maturity) and draws."""

    day_count: DayCount
    billing_dates: tuple[date, ...]
    draws: tuple[Flow, ...]


@dataclass(frozen=True)
class Terms:
    """What a segment runs on: exactly one of ``schedule`` / ``revolving``, or neither once the
    loan is settled."""

    start: date
    annual_rate: Decimal
    schedule: Schedule | None = None
    revolving: RevolvingTerms | None = None
    opening_suspense: Decimal = ZERO
    carried_penalty: Decimal = ZERO


@dataclass
class DueBook:
    """One instalment (or revolving bill) that has fallen due, and what was paid on it."""

    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    penalty_exact: Decimal = Decimal(0)
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    accrued_to: date | None = None
    paid_off_on: date | None = None

    def __post_init__(self) -> None:
        self.accrued_to = self.accrued_to or self.due_date
        if self.principal + self.interest == 0:
            self.paid_off_on = self.due_date

    @property
    def principal_left(self) -> Decimal:
        return self.principal - self.principal_paid

    @property
    def interest_left(self) -> Decimal:
        return self.interest - self.interest_paid

    @property
    def penalty_owed(self) -> Decimal:
        return round_fen(self.penalty_exact) - self.penalty_paid

    def owed(self) -> Owed:
        return Owed(self.period, self.due_date, self.penalty_owed, self.interest_left,
                    self.principal_left)


@dataclass(frozen=True)
class Applied:
    """What one payment (``payment_id``) or the suspense (``None``) settled on ``on``."""

    payment_id: str | None
    on: date
    amount: Decimal
    allocation: Allocation
    principal_prepaid: Decimal
    to_suspense: Decimal


@dataclass
class SegmentBook:
    """The replayed state of one segment (mutable while ``run`` works)."""

    terms: Terms
    penalty: PenaltyTerms
    waterfall: Waterfall
    dues: dict[int, DueBook] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    received: Decimal = ZERO
    suspense: Decimal = ZERO
    until: date | None = None
    meter: RevolvingAccrual | None = None

    @classmethod
    def replay(cls, terms: Terms, payments: Iterable[Payment], until: date,
               penalty: PenaltyTerms, waterfall: Waterfall) -> SegmentBook:
        """Run ``terms`` with ``payments`` (all dated within the segment) up to ``until``."""
        book = cls(terms, penalty, waterfall, suspense=terms.opening_suspense)
        book._run(sorted(payments, key=lambda p: (p.paid_on, p.payment_id)), until)
        return book

    # --- running ---------------------------------------------------------------------------

    def _run(self, payments: list[Payment], until: date) -> None:
        terms = self.terms
        days = {p.paid_on for p in payments}
        draws: dict[date, Decimal] = {}
        if terms.schedule is not None:
            days |= set(terms.schedule.due_dates)
        if terms.revolving is not None:
            self.meter = RevolvingAccrual(terms.annual_rate, terms.revolving.day_count,
                                          terms.start)
            days |= set(terms.revolving.billing_dates)
            for flow in terms.revolving.draws:
                draws[flow.on] = draws.get(flow.on, ZERO) + flow.amount
            days |= set(draws)
        by_day: dict[date, list[Payment]] = {}
        for payment in payments:
            by_day.setdefault(payment.paid_on, []).append(payment)
        for day in sorted(d for d in days if terms.start <= d <= until):
            self._accrue(day)
            if self._fall_due(day) and self.suspense > 0:
                self._apply(None, day, self.suspense)
            if self.meter is not None and day in draws:
                self.meter.move(draws[day])
            for payment in by_day.get(day, ()):
                self._apply(payment.payment_id, day, payment.amount)
        self._accrue(until)
        self.until = until

    def _accrue(self, day: date) -> None:
        rate = self.terms.annual_rate
        for due in self.dues.values():
            assert due.accrued_to is not None
            if day <= due.accrued_to or due.paid_off_on is not None:
                continue
            due.penalty_exact += penalty_interest(due.principal_left, rate, due.accrued_to, day,
                                                  self.penalty)
            due.penalty_exact += compound_interest(due.interest_left, rate, due.accrued_to, day,
                                                   self.penalty)
            due.accrued_to = day
        if self.meter is not None:
            self.meter.advance(day)

    def _fall_due(self, day: date) -> bool:
        terms, new = self.terms, []
        if terms.schedule is not None:
            first = terms.schedule.instalments[0].period
            for row in terms.schedule.instalments:
                if row.due_date == day:
                    carried = terms.carried_penalty if row.period == first else ZERO
                    new.append(DueBook(row.period, day, row.principal, row.interest, carried))
        if terms.revolving is not None and day in terms.revolving.billing_dates:
            assert self.meter is not None
            principal = ZERO
            if day == terms.revolving.billing_dates[-1]:
                principal, self.meter.balance = self.meter.balance, ZERO
            period = terms.revolving.billing_dates.index(day) + 1
            new.append(DueBook(period, day, principal, self.meter.bill()))
        for due in new:
            self.dues[due.period] = due
        return bool(new)

    def _apply(self, payment_id: str | None, day: date, amount: Decimal) -> None:
        open_dues = [o for o in (d.owed() for d in self.dues.values()) if o.total > 0]
        split = allocate(amount, open_dues, self.waterfall)
        for line in split.lines:
            due = self.dues[line.period]
            if line.component is Component.PRINCIPAL:
                due.principal_paid += line.amount
            elif line.component is Component.INTEREST:
                due.interest_paid += line.amount
            else:
                due.penalty_paid += line.amount
            if due.paid_off_on is None and due.principal_left == due.interest_left == 0:
                due.paid_off_on = day
        left, prepaid = split.unallocated, ZERO
        if payment_id is not None and self.meter is not None and self.meter.balance > 0:
            prepaid = min(left, self.meter.balance)
            self.meter.move(-prepaid)
            left -= prepaid
        self.principal_paid += split.total(Component.PRINCIPAL) + prepaid
        self.interest_paid += split.total(Component.INTEREST)
        self.penalty_paid += split.total(Component.PENALTY)
        if payment_id is None:
            self.suspense = left
        else:
            self.received += amount
            self.suspense += left
        self.applied.append(Applied(payment_id, day, amount, split, prepaid, left))

    # --- reading ---------------------------------------------------------------------------

    @property
    def principal_total(self) -> Decimal:
        """Principal lent in this segment: the schedule's, or the draws made so far."""
        if self.terms.schedule is not None:
            return self.terms.schedule.principal
        if self.terms.revolving is not None:
            assert self.until is not None
            return sum((f.amount for f in self.terms.revolving.draws if f.on <= self.until),
                       ZERO)
        return ZERO

    @property
    def outstanding_principal(self) -> Decimal:
        return self.principal_total - self.principal_paid

    def _late(self) -> list[DueBook]:
        assert self.until is not None
        return [d for d in self.dues.values() if d.due_date < self.until]

    @property
    def overdue_principal(self) -> Decimal:
        """Principal due before ``until`` and still unpaid."""
        return sum((d.principal_left for d in self._late()), ZERO)

    @property
    def overdue_interest(self) -> Decimal:
        return sum((d.interest_left for d in self._late()), ZERO)

    @property
    def unpaid_due_interest(self) -> Decimal:
        """Interest fallen due (today included) and unpaid."""
        return sum((d.interest_left for d in self.dues.values()), ZERO)

    @property
    def penalty_owed(self) -> Decimal:
        """Penalty accrued to ``until`` and unpaid, carried penalty not yet due included."""
        owed = sum((d.penalty_owed for d in self.dues.values()), ZERO)
        return owed + self.undue_carried_penalty

    @property
    def undue_carried_penalty(self) -> Decimal:
        schedule = self.terms.schedule
        if schedule is None or schedule.instalments[0].period in self.dues:
            return ZERO
        return self.terms.carried_penalty

    @property
    def accrued_interest(self) -> Decimal:
        """Contract interest accrued to ``until`` and not yet due, rounded to the fen."""
        assert self.until is not None
        if self.meter is not None:
            return round_fen(self.meter.accrued)
        schedule = self.terms.schedule
        if schedule is None or self.until >= schedule.maturity_date:
            return ZERO
        return accrued_interest(schedule, self.until)

    def oldest_unpaid_due(self) -> date | None:
        """Due date of the oldest instalment with principal or interest unpaid."""
        unpaid = [d.due_date for d in self.dues.values() if d.paid_off_on is None]
        return min(unpaid) if unpaid else None

    @property
    def paid_periods(self) -> int:
        return sum(1 for d in self.dues.values() if d.paid_off_on is not None)

    @property
    def due_dates(self) -> tuple[date, ...]:
        if self.terms.schedule is not None:
            return self.terms.schedule.due_dates
        if self.terms.revolving is not None:
            return self.terms.revolving.billing_dates
        return ()

    @property
    def next_due_date(self) -> date | None:
        assert self.until is not None
        return next((d for d in self.due_dates if d > self.until), None)

    def punctuality(self, grace_days: int) -> tuple[tuple[date, ...], tuple[date, ...]]:
        """(due dates paid on time, due dates known missed) as of ``until``."""
        assert self.until is not None
        grace = timedelta(days=grace_days)
        on_time, missed = [], []
        for due in sorted(self.dues.values(), key=lambda d: d.due_date):
            deadline = due.due_date + grace
            if due.paid_off_on is not None and due.paid_off_on <= deadline:
                on_time.append(due.due_date)
            elif deadline < self.until:
                missed.append(due.due_date)
        return tuple(on_time), tuple(missed)
