"""The repayment waterfall and the penalty (罚息) and compound interest (复利) it settles."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    AcrossPeriods,
    Component,
    DayCount,
    LoanContract,
    LoanLedger,
    Owed,
    Payment,
    PenaltyTerms,
    RateConvention,
    Waterfall,
    allocate,
    compound_interest,
    default_config,
    penalty_interest,
)

PEN, INT, PRI = Component.PENALTY, Component.INTEREST, Component.PRINCIPAL
OWED = [
    Owed(2, date(2024, 3, 15), penalty=D("0.00"), interest=D("90.00"), principal=D("1000.00")),
    Owed(1, date(2024, 2, 15), penalty=D("10.00"), interest=D("100.00"), principal=D("1000.00")),
]


def lines(allocation):
    return [(line.period, line.component, line.amount) for line in allocation.lines]


def test_default_order_settles_the_oldest_period_penalty_interest_principal():
    result = allocate(D("1150.00"), OWED)
    assert lines(result) == [(1, PEN, D("10.00")), (1, INT, D("100.00")), (1, PRI, D("1000.00")),
                             (2, INT, D("40.00"))]
    assert result.unallocated == D("0.00")


def test_by_component_settles_every_penalty_then_every_interest_first():
    result = allocate(D("1150.00"), OWED, Waterfall(across=AcrossPeriods.BY_COMPONENT))
    assert lines(result) == [(1, PEN, D("10.00")), (1, INT, D("100.00")), (2, INT, D("90.00")),
                             (1, PRI, D("950.00"))]


def test_principal_first_order():
    result = allocate(D("1150.00"), OWED, Waterfall((PRI, INT, PEN)))
    assert lines(result) == [(1, PRI, D("1000.00")), (1, INT, D("100.00")), (1, PEN, D("10.00")),
                             (2, PRI, D("40.00"))]


def test_what_no_debt_absorbs_is_unallocated():
    result = allocate(D("3000.00"), OWED)
    assert result.total() == D("2200.00")
    assert result.unallocated == D("800.00")
    assert result.for_period(2) == {PEN: D("0.00"), INT: D("90.00"), PRI: D("1000.00")}


def test_waterfall_must_name_each_component_once():
    with pytest.raises(ValueError, match="order must name each"):
        Waterfall((PEN, PEN, INT))


def test_penalty_and_compound_by_hand():
    # 100,000 overdue principal, contract 6% + 50% = 9%, 10 days ACT/360:
    #   100,000 × 0.09 × 10/360 = 250.00.  Compound on 500 overdue interest: 500 × 0.09 × 10/360
    #   = 1.25.  Compounding off → 0.
    terms = PenaltyTerms()
    start, end = date(2024, 4, 15), date(2024, 4, 25)
    assert terms.rate(D("0.06")) == D("0.09")
    assert penalty_interest(D("100000"), D("0.06"), start, end, terms) == D("250")
    assert compound_interest(D("500"), D("0.06"), start, end, terms) == D("1.25")
    assert compound_interest(D("500"), D("0.06"), start, end,
                             PenaltyTerms(compound=False)) == 0
    assert penalty_interest(D("100000"), D("0.06"), start, end,
                            PenaltyTerms(markup=D("0.3"))) == D("216.6666666666666666666666667")


def _bullet_ledger(config=None):
    # 先息后本 360,000 at 6% from 2024-01-15, 3 months, monthly rate: interest 1,800.00 a month;
    # the last instalment, due 2024-04-15, is 360,000 principal + 1,800 interest.
    ledger = LoanLedger(config)
    ledger.add_loan(LoanContract("B1", D("360000.00"), D("0.06"), date(2024, 1, 15), 3,
                                 RepaymentMethod.INTEREST_ONLY_BULLET, DayCount.ACT_360,
                                 RateConvention.MONTHLY))
    ledger.apply([Payment("B1-1", "B1", date(2024, 2, 15), D("1800.00")),
                  Payment("B1-2", "B1", date(2024, 3, 15), D("1800.00"))], date(2024, 3, 15))
    return ledger


def test_penalty_on_a_concrete_overdue_loan():
    # The last instalment is unpaid for 10 days (Apr 15 → Apr 25):
    #   罚息 360,000 × 9% × 10/360 = 900.00;  复利 1,800 × 9% × 10/360 = 4.50;  total 904.50.
    ledger = _bullet_ledger()
    late = ledger.position("B1", date(2024, 4, 25))
    assert (late.overdue_principal, late.overdue_interest) == (D("360000.00"), D("1800.00"))
    assert late.penalty_accrued == D("904.50")
    assert (late.dpd, late.bucket) == (10, "M1")
    # Paying 362,704.50 that day clears everything, penalty first.
    ledger.apply([Payment("B1-3", "B1", date(2024, 4, 25), D("362704.50"))], date(2024, 4, 25))
    paid = ledger.position("B1", date(2024, 4, 25))
    assert (paid.penalty_paid, paid.penalty_accrued, paid.suspense) == (D("904.50"), 0, 0)
    assert paid.status.value == "settled" and paid.dpd == 0


def test_penalty_without_compounding_and_with_principal_first():
    config = replace(default_config(), penalty=PenaltyTerms(compound=False),
                     waterfall=Waterfall((PRI, INT, PEN)))
    ledger = _bullet_ledger(config)
    assert ledger.position("B1", date(2024, 4, 25)).penalty_accrued == D("900.00")
    # 360,000.00 paid on Apr 25 goes to principal first: interest and penalty stay owed,
    # and penalty stops growing on the principal but the interest is still late.
    ledger.apply([Payment("B1-3", "B1", date(2024, 4, 25), D("360000.00"))], date(2024, 4, 25))
    after = ledger.position("B1", date(2024, 5, 5))
    assert (after.principal_paid, after.overdue_interest) == (D("360000.00"), D("1800.00"))
    assert after.penalty_accrued == D("900.00")  # nothing more: compounding is off
    assert after.dpd == 20
