"""What the ledger keeps per loan: the contract, its segments, its payments, its write-off.

Why segments: a restructuring or a prepayment replaces the schedule from its date on, but the
history before it stays as it was. Each segment is replayed on its own (``replay``) with the
payments dated inside it, and carries the totals of the segments closed before it, so a
position needs only the segment in force. Payments dated on or before the latest event are
refused, which keeps a closed segment — and what the event fixed from it — unchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from xiaowei.postloan.accounting.amounts import ZERO
from xiaowei.postloan.accounting.config import AccountingConfig
from xiaowei.postloan.accounting.contract import LoanContract
from xiaowei.postloan.accounting.payments import Payment
from xiaowei.postloan.accounting.replay import SegmentBook, Terms
from xiaowei.postloan.accounting.restructuring import ObservationClock, Restructuring
from xiaowei.postloan.accounting.writeoff import WriteOff


@dataclass(frozen=True)
class Totals:
    """Cumulative figures of the segments closed so far."""

    lent: Decimal = ZERO
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO
    fees: Decimal = ZERO
    received: Decimal = ZERO


@dataclass(frozen=True)
class Segment:
    """The loan from ``starts_on`` (an event, or disbursement) to the next event.

    ``added`` is principal lent by the event itself (capitalised interest or penalty).
    """

    kind: str
    starts_on: date
    terms: Terms
    before: Totals = Totals()
    added: Decimal = ZERO
    restructuring: Restructuring | None = None
    again_in_observation: bool = False


@dataclass
class LoanFile:
    """One loan's records in the ledger."""

    contract: LoanContract
    segments: list[Segment]
    config: AccountingConfig
    payments: list[Payment] = field(default_factory=list)
    write_off: WriteOff | None = None

    @property
    def closed_through(self) -> date | None:
        """Date up to which (inclusive) the books are closed to new payments."""
        if self.write_off is not None:
            return self.write_off.written_off_on
        return self.segments[-1].starts_on if len(self.segments) > 1 else None

    @property
    def last_event(self) -> str:
        return "write-off" if self.write_off is not None else self.segments[-1].kind

    def book(self, index: int, until: date) -> SegmentBook:
        """Segment ``index`` replayed up to ``until`` (or its end, if earlier)."""
        segment = self.segments[index]
        last = index == len(self.segments) - 1
        end = until if last else min(until, self.segments[index + 1].starts_on)
        first = index == 0
        window = [p for p in self.payments
                  if (p.paid_on >= segment.starts_on if first else p.paid_on > segment.starts_on)
                  and p.paid_on <= end]
        return SegmentBook.replay(segment.terms, window, end, self.config.penalty,
                                  self.config.waterfall)

    def segment_on(self, day: date) -> int:
        """Index of the segment in force at the end of ``day``."""
        return max(i for i, s in enumerate(self.segments) if i == 0 or s.starts_on < day)

    def totals(self, index: int, book: SegmentBook) -> Totals:
        """Cumulative totals through segment ``index`` as replayed in ``book``."""
        segment = self.segments[index]
        lent = book.principal_total if index == 0 else segment.added
        b = segment.before
        return Totals(b.lent + lent, b.principal + book.principal_paid,
                      b.interest + book.interest_paid, b.penalty + book.penalty_paid, b.fees,
                      b.received + book.received)

    def current(self, on: date, event: str) -> tuple[int, SegmentBook]:
        """The last segment's book on an event date, once the event may be booked there."""
        loan_id = self.contract.loan_id
        if self.write_off is not None:
            raise ValueError(f"loan {loan_id} was written off on "
                             f"{self.write_off.written_off_on}; no {event} after it")
        after = self.segments[-1].starts_on
        if on <= after:
            raise ValueError(f"on {on} must be after {after}, the loan's last event "
                             f"({self.segments[-1].kind})")
        later = [p for p in self.payments if p.paid_on > on]
        if later:
            first = min(later, key=lambda p: (p.paid_on, p.payment_id))
            raise ValueError(f"on {on}: payment {first.payment_id} dated {first.paid_on} is "
                             f"already booked after it; book the {event} before later payments")
        index = len(self.segments) - 1
        return index, self.book(index, on)

    def observation(self, index: int, until: date) -> ObservationClock | None:
        """The latest restructuring's clock, with the punctuality known by ``until``."""
        starts = [i for i in range(1, index + 1) if self.segments[i].kind == "restructuring"]
        if not starts:
            return None
        restructuring = self.segments[starts[-1]].restructuring
        assert restructuring is not None
        dates: set[date] = set()
        on_time: set[date] = set()
        missed: set[date] = set()
        for i in range(starts[-1], index + 1):
            book = self.book(i, until)
            assert book.until is not None
            dates |= {d for d in book.due_dates if i == index or d <= book.until}
            kept, late = book.punctuality(self.config.grace_days)
            on_time |= set(kept)
            missed |= set(late)
        return replace(restructuring.observation, due_dates=tuple(sorted(dates)),
                       on_time_due_dates=tuple(sorted(on_time)),
                       missed_due_dates=tuple(sorted(missed)))
