"""Taking in repayments (还款入账): a file of payments booked against the bank's loans, once.

Why through the ledger and in one transaction: a payment is accepted only when the accounting
(:class:`~xiaowei.postloan.accounting.LoanLedger`) can book it — a known loan, a positive amount
to the fen, a date after disbursement and not in the future — and it is stored together with
how it was allocated (penalty, interest, principal, suspense), so the stored money always
reconciles with what was received. Each loan's earlier payments are replayed first, so a new
payment meets the arrears it really settles. The sender's payment id is the key: a resent file
books nothing twice (reported as duplicates); the same id with other content is refused. Every
refusal is quarantined with the field at fault and why, in the same transaction as the
bookings: a batch is all or nothing, and nothing is lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaowei.entities.registry_names import check_user
from xiaowei.postloan.accounting import LoanContract, LoanLedger
from xiaowei.store.database import for_writing, transaction
from xiaowei.store.tables import LoadBatch, Loan, LoanPayment, QuarantinedRow

TABLE = "loan_payment"


@dataclass(frozen=True)
class Booked:
    payment_id: str
    loan_id: str
    paid_on: dt.date
    amount: Decimal
    allocation: dict[str, str]


@dataclass(frozen=True)
class PaymentIntake:
    """What one file did: payments booked, already booked (no-op) and quarantined."""

    batch_id: str
    booked: tuple[Booked, ...]
    duplicates: tuple[str, ...]
    quarantined: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id,
                "booked": [{"payment_id": b.payment_id, "loan_id": b.loan_id,
                            "paid_on": b.paid_on.isoformat(), "amount": str(b.amount),
                            "allocation": b.allocation} for b in self.booked],
                "duplicates": list(self.duplicates), "quarantined": list(self.quarantined)}


def _exact(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with its amount as Decimal when it came as text or a whole number (JSON files
    carry "1234.56"); a float stays a float and the ledger refuses it, naming why."""
    row = dict(record)
    amount = row.get("amount")
    if isinstance(amount, str | int) and not isinstance(amount, bool):
        with contextlib.suppress(InvalidOperation):  # else left as text: the ledger refuses it
            row["amount"] = Decimal(str(amount).strip())
    if isinstance(row.get("paid_on"), str):
        with contextlib.suppress(ValueError):  # else refused by the ledger, naming the field
            row["paid_on"] = dt.date.fromisoformat(row["paid_on"])
    return row


def _ledger(session: Session, loan_ids: set[str]) -> tuple[LoanLedger, list[LoanPayment]]:
    """The ledger of the named loans the store holds, with their booked payments replayed."""
    ledger = LoanLedger()
    loans = session.scalars(select(Loan).where(Loan.loan_id.in_(sorted(loan_ids)))).all()
    for loan in loans:
        ledger.add_loan(LoanContract(loan.loan_id, loan.principal, loan.annual_rate,
                                     loan.start_date, loan.term_months,
                                     loan.repayment_method))
    earlier = session.scalars(select(LoanPayment).where(
        LoanPayment.loan_id.in_([loan.loan_id for loan in loans]))
        .order_by(LoanPayment.paid_on, LoanPayment.payment_id)).all()
    if earlier:
        replay = ledger.apply([{"payment_id": p.payment_id, "loan_id": p.loan_id,
                                "paid_on": p.paid_on, "amount": p.amount} for p in earlier],
                              max(p.paid_on for p in earlier))
        if replay.quarantined:  # stored payments were valid when booked: a broken store
            raise RuntimeError(f"booked payments no longer replay: {replay.quarantined[:3]}")
    return ledger, list(earlier)


def take_payments(engine: Engine, records: Iterable[Mapping[str, Any]], *, by: str,
                  as_of: dt.date, source: str = "payments") -> PaymentIntake:
    """Book ``records`` (``payment_id, loan_id, paid_on, amount``) received up to ``as_of``."""
    user = check_user(by, "receiver", ValueError)
    rows = [_exact(r) for r in records]
    batch_id = f"PAY-{uuid.uuid4().hex[:16]}"
    now = dt.datetime.now(dt.UTC)
    with transaction(for_writing(engine)) as session:
        loan_ids = {str(r.get("loan_id")) for r in rows if r.get("loan_id") is not None}
        ledger, earlier = _ledger(session, loan_ids)
        booked_ids = {p.payment_id for p in earlier}
        result = ledger.apply(rows, as_of)
        session.add(LoadBatch(batch_id=batch_id, source_dir=source, started_at=now,
                              finished_at=now, status="done", rows_in=len(rows),
                              rows_accepted=len(result.accepted),
                              rows_quarantined=len(result.quarantined)))
        session.flush()
        booked = []
        touched = {p.loan_id for p in result.accepted}
        allocations = {loan: ledger.allocations(loan, as_of) for loan in touched}
        for payment in result.accepted:
            if payment.payment_id in booked_ids:
                continue
            split = {k: str(v) for k, v in allocations[payment.loan_id].get(
                payment.payment_id, {}).items()}
            session.add(LoanPayment(payment_id=payment.payment_id, loan_id=payment.loan_id,
                                    paid_on=payment.paid_on, amount=payment.amount,
                                    allocation=split, received_at=now, received_by=user))
            booked.append(Booked(payment.payment_id, payment.loan_id, payment.paid_on,
                                 payment.amount, split))
        quarantined = []
        for number, rejected in enumerate(result.quarantined, start=1):
            raw = {k: str(v) for k, v in dict(rejected.record or {}).items()} \
                if isinstance(rejected.record, Mapping) else {"record": str(rejected.record)}
            session.add(QuarantinedRow(batch_id=batch_id, table_name=TABLE, row_number=number,
                                       column_name=rejected.field, reason=rejected.reason,
                                       raw=raw))
            quarantined.append({"payment_id": str(rejected.payment_id),
                                "loan_id": str(rejected.loan_id), "field": rejected.field,
                                "reason": rejected.reason})
    return PaymentIntake(batch_id, tuple(booked), tuple(p.payment_id for p in result.duplicates),
                         tuple(quarantined))


__all__ = ["Booked", "PaymentIntake", "take_payments"]
