"""The ledger: every bad payment quarantined with its field, idempotent batches, reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import Loan, LoanStatus, RepaymentMethod
from xiaowei.postloan.accounting import (
    DayCount,
    Flow,
    LoanContract,
    LoanLedger,
    Payment,
    RateConvention,
)

START = date(2024, 1, 15)
AS_OF = date(2024, 6, 30)


def ledger():
    book = LoanLedger()
    book.add_loan(LoanContract("L1", D("12000.00"), D("0.06"), START, 12,
                               RepaymentMethod.EQUAL_PRINCIPAL, DayCount.ACT_360))
    return book


def record(**changes):
    return {"payment_id": "P123", "loan_id": "L1", "paid_on": date(2024, 2, 15),
            "amount": D("1062.00")} | changes


@pytest.mark.parametrize(("raw", "field", "reason"), [
    (record(amount=D("-5.00")), "amount", "amount must be > 0 (payment P123: -5.00)"),
    (record(amount=D("0.00")), "amount", "amount must be > 0 (payment P123: 0.00)"),
    (record(amount=1062.0), "amount", "amount must be a Decimal, not float (payment P123"),
    (record(amount="1062.00"), "amount", "amount must be a Decimal, not str"),
    (record(amount=1062), "amount", "amount must be a Decimal, not int"),
    (record(amount=D("NaN")), "amount", "amount must be a finite number"),
    (record(amount=D("10.005")), "amount", "amount must be whole fen"),
    (record(loan_id="NOPE"), "loan_id", "loan_id 'NOPE' is not a loan in this ledger"),
    (record(loan_id=""), "loan_id", "loan_id must be a non-empty string"),
    (record(payment_id=None), "payment_id", "payment_id must be a non-empty string"),
    (record(paid_on=date(2024, 1, 14)), "paid_on",
     "paid_on 2024-01-14 is before disbursement on 2024-01-15 (payment P123)"),
    (record(paid_on=date(2024, 7, 1)), "paid_on",
     "paid_on 2024-07-01 is after the as-of date 2024-06-30 (payment P123)"),
    (record(paid_on=datetime(2024, 2, 15, 9, 30)), "paid_on", "paid_on must be a date, not"),
    (record(paid_on="2024-02-15"), "paid_on", "paid_on must be a date, not str"),
    ({"payment_id": "P123", "loan_id": "L1", "amount": D("1.00")}, "paid_on",
     "paid_on is missing"),
    (record(channel="app"), "channel", "unknown field 'channel'"),
])
def test_each_bad_payment_is_quarantined_naming_its_field(raw, field, reason):
    book = ledger()
    result = book.apply([raw, record(payment_id="GOOD")], AS_OF)
    assert [p.payment_id for p in result.accepted] == ["GOOD"]
    (rejected,) = result.quarantined
    assert rejected.field == field
    assert reason in rejected.reason
    assert rejected.record is raw
    assert book.quarantine == [rejected]


def test_same_id_with_other_content_is_quarantined_and_not_booked():
    book = ledger()
    book.apply([record()], AS_OF)
    result = book.apply([record(amount=D("1000.00"))], AS_OF)
    (rejected,) = result.quarantined
    assert rejected.field == "payment_id"
    assert "amount 1062.00 → 1000.00" in rejected.reason
    assert [p.amount for p in book.payments("L1")] == [D("1062.00")]


def test_duplicates_inside_one_batch():
    result = ledger().apply([record(), record(), record(amount=D("1.00"))], AS_OF)
    assert len(result.accepted) == 1
    assert len(result.duplicates) == 1
    assert result.quarantined[0].field == "payment_id"


def batch():
    return [
        Payment("A", "L1", date(2024, 2, 15), D("1062.00")),
        Payment("B", "L1", date(2024, 3, 20), D("800.00")),
        Payment("C", "L1", date(2024, 4, 15), D("2000.00")),
        Payment("D", "L1", date(2024, 6, 1), D("555.55")),
    ]


def test_applying_a_batch_twice_changes_nothing():
    book = ledger()
    first = book.apply(batch(), AS_OF)
    before = book.position("L1", AS_OF)
    second = book.apply(batch(), AS_OF)
    assert len(first.accepted) == 4 and not first.duplicates
    assert not second.accepted and len(second.duplicates) == 4 and not second.quarantined
    assert book.position("L1", AS_OF) == before


def test_order_of_arrival_does_not_matter():
    forward, backward = ledger(), ledger()
    forward.apply(batch(), AS_OF)
    for payment in reversed(batch()):
        backward.apply([payment], AS_OF)
    assert forward.position("L1", AS_OF) == backward.position("L1", AS_OF)


def test_every_yuan_lands_somewhere_and_principal_reconciles():
    book = ledger()
    book.apply(batch(), AS_OF)
    p = book.position("L1", AS_OF)
    assert p.received == D("4417.55")
    assert p.penalty_paid + p.interest_paid + p.principal_paid + p.suspense == p.received
    assert p.principal_paid + p.outstanding_principal == p.principal == D("12000.00")
    assert p.principal_reconciles and p.money_reconciles


def test_overpayment_waits_in_suspense_and_pays_the_next_instalment_on_time():
    # 2,200.00 on Feb 15: 1,062.00 pays period 1, 1,138.00 waits; on Mar 15 it pays period 2
    # (1,053.17) and 84.83 is left in suspense. The loan is never late.
    book = ledger()
    book.apply([Payment("A", "L1", date(2024, 2, 15), D("2200.00"))], AS_OF)
    feb = book.position("L1", date(2024, 2, 15))
    assert (feb.suspense, feb.paid_periods) == (D("1138.00"), 1)
    march = book.position("L1", date(2024, 3, 15))
    assert (march.suspense, march.paid_periods, march.dpd) == (D("84.83"), 2, 0)
    # On Apr 15 the 84.83 pays period 3's interest 51.67 and 33.16 of its principal.
    april = book.position("L1", date(2024, 4, 16))
    assert (april.dpd, april.suspense, april.overdue_interest) == (1, 0, 0)
    assert april.overdue_principal == D("966.84")


def test_position_fields_for_monitoring():
    book = ledger()
    book.apply(batch()[:1], AS_OF)
    p = book.position("L1", date(2024, 3, 20))
    # period 2 (1,000 + 53.17) due Mar 15 unpaid: 5 days late
    assert (p.status, p.dpd, p.bucket) == (LoanStatus.OVERDUE, 5, "M1")
    assert (p.overdue_principal, p.overdue_interest) == (D("1000.00"), D("53.17"))
    assert (p.paid_periods, p.total_periods, p.next_due_date) == (1, 12, date(2024, 4, 15))
    assert p.outstanding_principal == D("11000.00")
    # penalty: 1,000 × 9% × 5/360 = 1.25; 53.17 × 9% × 5/360 = 0.0665 → 1.32
    assert p.penalty_accrued == D("1.32")
    # interest accrued Mar 15 → Mar 20 on the scheduled 10,000: 10,000 × 0.06 × 5/360 = 8.33
    assert p.accrued_interest == D("8.33")
    assert [x.loan_id for x in book.positions(AS_OF)] == ["L1"]


def test_loans_and_contracts():
    book = ledger()
    same = LoanContract("L1", D("12000.00"), D("0.06"), START, 12,
                        RepaymentMethod.EQUAL_PRINCIPAL, DayCount.ACT_360)
    book.add_loan(same)  # the same contract again: no-op
    other = LoanContract("L1", D("15000.00"), D("0.06"), START, 12,
                         RepaymentMethod.EQUAL_PRINCIPAL)
    with pytest.raises(ValueError, match="replace_terms"):
        book.add_loan(other)
    with pytest.raises(TypeError, match="principal must be a Decimal, not float"):
        LoanContract("L2", 1000.0, D("0.06"), START, 12, RepaymentMethod.EQUAL_PRINCIPAL)
    with pytest.raises(ValueError, match="draws are for a revolving line only"):
        LoanContract("L2", D("1000.00"), D("0.06"), START, 12, RepaymentMethod.EQUAL_PRINCIPAL,
                     draws=(Flow(START, D("1.00")),))
    with pytest.raises(ValueError, match="before the disbursement"):
        book.position("L1", date(2024, 1, 1))
    loan = Loan(loan_id="L9", application_id="A9", principal="50000", annual_rate="0.05",
                term_months=6, start_date=START, maturity_date=date(2024, 7, 15),
                repayment_method=RepaymentMethod.EQUAL_INSTALMENT)
    contract = LoanContract.from_loan(loan, convention=RateConvention.MONTHLY)
    assert contract.principal == D("50000.00") and contract.maturity_date == loan.maturity_date
