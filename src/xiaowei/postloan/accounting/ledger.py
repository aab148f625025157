"""The loan ledger: contracts, idempotent batches of repayments, contract events, positions.

Why the ledger stores only contracts, accepted payments and events: every figure is replayed
from them (``replay``), so a batch applied twice, or a payment re-sent by a channel, changes
nothing — the same ``payment_id`` with the same content is reported as a duplicate, with
different content it is quarantined, never booked twice. Bad records go to quarantine with the
field and the reason; the rest of the batch is applied.

A contract event — restructuring, prepayment, settlement, write-off (``events``) — closes the
books before its date: later payments dated on or before it are refused, because accepting
them would change the amounts the event already fixed. Events take effect at the end of their
day, after that day's payments. After a write-off, payments are recoveries (账销案存).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from xiaowei.entities.lending import LoanStatus, RepaymentMethod
from xiaowei.postloan.accounting.allocation import Component
from xiaowei.postloan.accounting.amounts import ZERO
from xiaowei.postloan.accounting.config import AccountingConfig, default_config
from xiaowei.postloan.accounting.contract import LoanContract
from xiaowei.postloan.accounting.daycount import due_dates
from xiaowei.postloan.accounting.delinquency import days_past_due
from xiaowei.postloan.accounting.events import prepay_loan, restructure_loan, write_off_loan
from xiaowei.postloan.accounting.loanfile import LoanFile, Segment
from xiaowei.postloan.accounting.payments import Payment, PaymentError, Rejected, read_payment
from xiaowei.postloan.accounting.position import LoanPosition
from xiaowei.postloan.accounting.prepayment import Prepayment, PrepaymentMode
from xiaowei.postloan.accounting.replay import RevolvingTerms, SegmentBook, Terms
from xiaowei.postloan.accounting.restructuring import Restructuring
from xiaowei.postloan.accounting.schedule import build_schedule
from xiaowei.postloan.accounting.writeoff import WriteOff, WrittenOffLoan


@dataclass(frozen=True)
class BatchResult:
    """What one ``apply`` did: booked, already known (no-op) and quarantined payments."""

    as_of: date
    accepted: tuple[Payment, ...]
    duplicates: tuple[Payment, ...]
    quarantined: tuple[Rejected, ...]


class LoanLedger:
    """Loans, their repayments and events; positions as of any date."""

    def __init__(self, config: AccountingConfig | None = None) -> None:
        self.config = config or default_config()
        self._files: dict[str, LoanFile] = {}
        self._payments: dict[str, Payment] = {}
        self.quarantine: list[Rejected] = []

    # --- loans ----------------------------------------------------------------------------

    def add_loan(self, contract: LoanContract, *, replace_terms: bool = False) -> None:
        """Register a loan; the same contract again is a no-op.

        ``replace_terms`` swaps the contract of a loan with no event yet (a revolving line's
        new draws); its payments are kept and replayed on the new terms.
        """
        known = self._files.get(contract.loan_id)
        if known is not None and known.contract == contract:
            return
        if known is not None and not replace_terms:
            raise ValueError(f"loan_id {contract.loan_id} is already in the ledger with other "
                             "terms; pass replace_terms=True to change them")
        if known is not None and (len(known.segments) > 1 or known.write_off is not None):
            raise ValueError(f"loan_id {contract.loan_id}: terms cannot change after a "
                             "restructuring, prepayment or write-off")
        if known is not None and any(p.paid_on < contract.start_date for p in known.payments):
            raise ValueError(f"start_date {contract.start_date} of loan {contract.loan_id} "
                             "falls after payments already booked")
        segment = Segment("disbursement", contract.start_date, self._first_terms(contract))
        payments = known.payments if known is not None else []
        self._files[contract.loan_id] = LoanFile(contract, [segment], self.config, payments)

    def _first_terms(self, contract: LoanContract) -> Terms:
        day_count = contract.day_count or self.config.day_count
        if contract.method is RepaymentMethod.REVOLVING:
            billing = due_dates(contract.start_date, contract.term_months)
            return Terms(contract.start_date, contract.annual_rate,
                         revolving=RevolvingTerms(day_count, billing, contract.draws))
        schedule = build_schedule(contract.principal, contract.annual_rate, contract.start_date,
                                  contract.term_months, contract.method, day_count=day_count,
                                  convention=contract.convention or self.config.convention)
        return Terms(contract.start_date, contract.annual_rate, schedule=schedule)

    @property
    def loan_ids(self) -> tuple[str, ...]:
        return tuple(self._files)

    def contract(self, loan_id: str) -> LoanContract:
        return self._file(loan_id).contract

    def payments(self, loan_id: str) -> tuple[Payment, ...]:
        """Accepted payments of a loan, by date and id."""
        return tuple(sorted(self._file(loan_id).payments,
                            key=lambda p: (p.paid_on, p.payment_id)))

    def _file(self, loan_id: str) -> LoanFile:
        try:
            return self._files[loan_id]
        except KeyError:
            raise KeyError(f"loan_id {loan_id!r} is not in the ledger") from None

    # --- payments -------------------------------------------------------------------------

    def apply(self, payments: Iterable[Payment | Mapping[str, Any]], as_of: date) -> BatchResult:
        """Book a batch of payments received up to ``as_of``; idempotent by ``payment_id``."""
        if not isinstance(as_of, date):
            raise TypeError(f"as_of must be a date, got {as_of!r}")
        accepted: list[Payment] = []
        duplicates: list[Payment] = []
        rejected: list[Rejected] = []
        for raw in payments:
            try:
                payment = read_payment(raw)
                recorded = self._payments.get(payment.payment_id)
                if recorded == payment:
                    duplicates.append(payment)
                    continue
                if recorded is not None:
                    raise PaymentError("payment_id", (
                        f"payment_id {payment.payment_id} was already booked with other "
                        f"content: {'; '.join(recorded.differences(payment))}"))
                self._admit(payment, as_of)
            except PaymentError as exc:
                rejected.append(Rejected(_get(raw, "payment_id"), _get(raw, "loan_id"),
                                         exc.field, exc.reason, raw))
                continue
            self._payments[payment.payment_id] = payment
            self._files[payment.loan_id].payments.append(payment)
            accepted.append(payment)
        self.quarantine.extend(rejected)
        return BatchResult(as_of, tuple(accepted), tuple(duplicates), tuple(rejected))

    def _admit(self, payment: Payment, as_of: date) -> None:
        pid, paid_on = payment.payment_id, payment.paid_on
        loan = self._files.get(payment.loan_id)
        if loan is None:
            raise PaymentError("loan_id", f"loan_id {payment.loan_id!r} is not a loan in this "
                                          f"ledger (payment {pid})")
        if paid_on < loan.contract.start_date:
            raise PaymentError("paid_on", f"paid_on {paid_on} is before disbursement on "
                                          f"{loan.contract.start_date} (payment {pid})")
        if paid_on > as_of:
            raise PaymentError("paid_on", f"paid_on {paid_on} is after the as-of date {as_of} "
                                          f"(payment {pid})")
        closed = loan.closed_through
        if closed is not None and paid_on <= closed:
            raise PaymentError("paid_on", f"paid_on {paid_on} is on or before the "
                                          f"{loan.last_event} of loan {payment.loan_id} on "
                                          f"{closed}; the books before it are closed "
                                          f"(payment {pid})")

    # --- events ---------------------------------------------------------------------------

    def restructure(self, loan_id: str, on: date, *, term_months: int | None = None,
                    extension_months: int | None = None, annual_rate: Decimal | None = None,
                    method: RepaymentMethod | None = None) -> Restructuring:
        """Restructure on ``on``: a new schedule of ``term_months`` from that date, or 展期 by
        ``extension_months`` beyond the periods left. Starts an observation clock."""
        return restructure_loan(self._file(loan_id), on, term_months, extension_months,
                                annual_rate, method)

    def prepay(self, loan_id: str, on: date, principal: Decimal,
               mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALMENT) -> Prepayment:
        """Prepay ``principal`` on ``on`` out of suspense, and re-amortise the rest."""
        return prepay_loan(self._file(loan_id), on, principal, PrepaymentMode(mode))

    def settle(self, loan_id: str, on: date) -> Prepayment:
        """Settle the loan in full on ``on`` (提前结清) out of suspense."""
        return prepay_loan(self._file(loan_id), on, None, None)

    def write_off(self, loan_id: str, on: date) -> WriteOff:
        """核销 on ``on``; later payments of the loan are booked as recoveries."""
        return write_off_loan(self._file(loan_id), on)

    # --- positions ------------------------------------------------------------------------

    def position(self, loan_id: str, as_of: date) -> LoanPosition:
        """The loan as of the end of ``as_of``."""
        loan = self._file(loan_id)
        contract = loan.contract
        if as_of < contract.start_date:
            raise ValueError(f"as_of {as_of} is before the disbursement of loan {loan_id} on "
                             f"{contract.start_date}")
        written = loan.write_off
        until = as_of if written is None else min(as_of, written.written_off_on)
        index = loan.segment_on(until)
        book = loan.book(index, until)
        totals = loan.totals(index, book)
        events = loan.segments[1:index + 1]
        position = LoanPosition(
            loan_id=loan_id, as_of=as_of, method=contract.method, status=LoanStatus.ACTIVE,
            principal=totals.lent, principal_paid=totals.principal,
            outstanding_principal=book.outstanding_principal,
            overdue_principal=book.overdue_principal, overdue_interest=book.overdue_interest,
            accrued_interest=book.accrued_interest, interest_paid=totals.interest,
            penalty_accrued=book.penalty_owed, penalty_paid=totals.penalty,
            fees_paid=totals.fees, received=totals.received, suspense=book.suspense,
            dpd=0, bucket="", overdue_since=book.oldest_unpaid_due(),
            paid_periods=book.paid_periods, total_periods=len(book.due_dates),
            next_due_date=book.next_due_date,
            restructured_on=tuple(s.starts_on for s in events if s.kind == "restructuring"),
            observation=loan.observation(index, until),
            restructured_again_in_observation=any(s.again_in_observation for s in events))
        if written is not None and as_of > written.written_off_on:
            position = _off_book(position, *self._recoveries(loan, written, as_of))
        dpd = days_past_due(position.overdue_since, as_of, self.config.grace_days)
        return replace(position, dpd=dpd, bucket=self.config.ladder.bucket(dpd),
                       status=_status(position, book, dpd))

    def allocations(self, loan_id: str, as_of: date) -> dict[str, dict[str, Decimal]]:
        """How each payment of the loan in force on ``as_of`` was applied — per payment id,
        the amount to each component and to suspense: what a booking stores beside the
        payment, so that every yuan received is accounted for."""
        loan = self._file(loan_id)
        until = as_of if loan.write_off is None else min(as_of, loan.write_off.written_off_on)
        out: dict[str, dict[str, Decimal]] = {}
        for index in range(loan.segment_on(until) + 1):
            for applied in loan.book(index, until).applied:
                if applied.payment_id is None:
                    continue  # suspense released later: already counted under its payment
                row = out.setdefault(applied.payment_id, {"suspense": Decimal("0.00")})
                for component in Component:
                    row[component.value] = row.get(component.value, Decimal("0.00")) + \
                        applied.allocation.total(component)
                row["principal_prepaid"] = row.get("principal_prepaid", Decimal("0.00")) + \
                    applied.principal_prepaid
                row["suspense"] += applied.to_suspense
        return out

    def positions(self, as_of: date) -> list[LoanPosition]:
        """Every loan disbursed by ``as_of``, in the order they were added."""
        return [self.position(loan_id, as_of) for loan_id, loan in self._files.items()
                if loan.contract.start_date <= as_of]

    def _recoveries(self, loan: LoanFile, written: WriteOff, as_of: date
                    ) -> tuple[WrittenOffLoan, Decimal]:
        record, excess = WrittenOffLoan(written), ZERO
        for payment in sorted(loan.payments, key=lambda p: (p.paid_on, p.payment_id)):
            if written.written_off_on < payment.paid_on <= as_of:
                record = record.recover(payment.payment_id, payment.paid_on, payment.amount,
                                        self.config.recovery_order)
                excess += record.recoveries[-1].excess
        return record, excess


def _off_book(position: LoanPosition, record: WrittenOffLoan, excess: Decimal) -> LoanPosition:
    """The position after write-off: nothing on book, the claim and its recoveries off it."""
    received = sum((r.amount for r in record.recoveries), ZERO)
    cleared = record.remaining.total == 0
    return replace(position, outstanding_principal=ZERO, overdue_principal=ZERO,
                   overdue_interest=ZERO, accrued_interest=ZERO, penalty_accrued=ZERO,
                   received=position.received + received, suspense=position.suspense + excess,
                   written_off=record, next_due_date=None,
                   overdue_since=None if cleared else position.overdue_since)


def _status(position: LoanPosition, book: SegmentBook, dpd: int) -> LoanStatus:
    if position.written_off is not None:
        return LoanStatus.WRITTEN_OFF
    owes = (position.outstanding_principal > 0 or book.oldest_unpaid_due() is not None
            or position.penalty_accrued > 0)
    open_line = book.terms.revolving is not None and position.next_due_date is not None
    if not owes and not open_line:
        return LoanStatus.SETTLED
    return LoanStatus.OVERDUE if dpd > 0 else LoanStatus.ACTIVE


def _get(raw: object, name: str) -> object:
    if isinstance(raw, Payment):
        return getattr(raw, name)
    if isinstance(raw, Mapping):
        return raw.get(name)
    return None
