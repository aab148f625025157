"""Prepayment: partial (shorten the term or reduce the instalment) and full settlement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import LoanStatus, RepaymentMethod
from xiaowei.postloan.accounting import (
    LoanContract,
    LoanLedger,
    Payment,
    PrepaymentFee,
    PrepaymentMode,
    RateConvention,
    build_schedule,
    prepay_partial,
    settle_in_full,
)

# The 120,000 / 6% / 12-month 等额本息 loan of the schedule tests (instalment 10,327.97);
# after the second instalment (2024-03-15) the balance is 100,495.42.
SCHEDULE = build_schedule(D("120000.00"), D("0.06"), date(2024, 1, 15), 12,
                          RepaymentMethod.EQUAL_INSTALMENT, convention=RateConvention.MONTHLY)


def test_reduce_instalment_keeps_the_maturity():
    # New balance 100,495.42 − 50,000 = 50,495.42 over the 10 periods left at r = 0.005:
    # (1.005)^10 = 1.0511401320; A = 50,495.42 × 0.005 × 1.05114013 / 0.05114013 = 5,189.443
    # → 5,189.44. Period 3 interest 50,495.42 × 0.005 = 252.475 → 252.48.
    result = prepay_partial(SCHEDULE, date(2024, 3, 15), D("50000.00"),
                            PrepaymentMode.REDUCE_INSTALMENT)
    rest = result.schedule
    assert (result.accrued_interest, result.fee, result.total) == (0, 0, D("50000.00"))
    assert rest.level_instalment == D("5189.44")
    assert rest.instalments[0].period == 3 and rest.instalments[0].interest == D("252.48")
    assert rest.maturity_date == SCHEDULE.maturity_date and rest.term == 10
    assert sum(i.principal for i in rest.instalments) == D("50495.42")


def test_shorten_term_keeps_the_instalment():
    # Same prepayment, instalment kept at 10,327.97: 50,495.42 is repaid in 5 periods
    # (4 × 10,327.97 plus a last one of 9,939.63), maturity 2024-08-15 instead of 2025-01-15.
    result = prepay_partial(SCHEDULE, date(2024, 3, 15), D("50000.00"),
                            PrepaymentMode.SHORTEN_TERM)
    rest = result.schedule
    assert [i.payment for i in rest.instalments] == [D("10327.97")] * 4 + [D("9939.63")]
    assert rest.maturity_date == date(2024, 8, 15)
    assert rest.instalments[-1].closing_balance == 0


def test_mid_period_prepayment_pays_interest_to_date_and_the_fee():
    # On 2024-03-25, 10 days after the last due date: interest 100,495.42 × 0.06 × 10/360
    # = 167.4924 → 167.49. Fee 1% of 50,000 = 500.00 (above the 100.00 minimum).
    # The next period runs from Mar 25 (a 21-day stub): 50,495.42 × 0.06 × 21/360 = 176.73.
    fee = PrepaymentFee(D("0.01"), D("100.00"))
    result = prepay_partial(SCHEDULE, date(2024, 3, 25), D("50000.00"),
                            PrepaymentMode.REDUCE_INSTALMENT, fee)
    assert (result.accrued_interest, result.fee, result.total) == (
        D("167.49"), D("500.00"), D("50667.49"))
    assert result.schedule.instalments[0].interest == D("176.73")
    small = prepay_partial(SCHEDULE, date(2024, 3, 25), D("5000.00"),
                           PrepaymentMode.REDUCE_INSTALMENT, fee)
    assert small.fee == D("100.00")  # 1% would be 50.00: the minimum applies


def test_settle_in_full():
    fee = PrepaymentFee(D("0.01"))
    result = settle_in_full(SCHEDULE, date(2024, 3, 25), fee)
    assert (result.principal, result.accrued_interest, result.fee) == (
        D("100495.42"), D("167.49"), D("1004.95"))
    assert result.settled and result.total == D("101667.86")


def test_refusals():
    bullet = build_schedule(D("10000.00"), D("0.06"), date(2024, 1, 15), 6,
                            RepaymentMethod.INTEREST_ONLY_BULLET)
    with pytest.raises(ValueError, match="shorten_term does not apply"):
        prepay_partial(bullet, date(2024, 3, 1), D("1000.00"), PrepaymentMode.SHORTEN_TERM)
    with pytest.raises(ValueError, match="settle the loan in full"):
        prepay_partial(SCHEDULE, date(2024, 3, 25), D("100495.42"),
                       PrepaymentMode.REDUCE_INSTALMENT)
    with pytest.raises(ValueError, match="before maturity"):
        settle_in_full(SCHEDULE, date(2025, 1, 15))


def _ledger():
    ledger = LoanLedger()
    ledger.add_loan(LoanContract("Q1", D("120000.00"), D("0.06"), date(2024, 1, 15), 12,
                                 RepaymentMethod.EQUAL_INSTALMENT,
                                 convention=RateConvention.MONTHLY))
    ledger.apply([Payment("Q1-1", "Q1", date(2024, 2, 15), D("10327.97")),
                  Payment("Q1-2", "Q1", date(2024, 3, 15), D("10327.97"))], date(2024, 3, 15))
    return ledger


def test_ledger_prepayment_is_paid_from_suspense():
    ledger = _ledger()
    with pytest.raises(ValueError, match="does not cover"):
        ledger.prepay("Q1", date(2024, 3, 25), D("50000.00"))
    ledger.apply([Payment("Q1-3", "Q1", date(2024, 3, 25), D("50167.49"))], date(2024, 3, 25))
    ledger.prepay("Q1", date(2024, 3, 25), D("50000.00"), PrepaymentMode.REDUCE_INSTALMENT)
    position = ledger.position("Q1", date(2024, 3, 26))
    assert position.outstanding_principal == D("50495.42")
    assert position.suspense == 0
    assert position.principal_reconciles and position.money_reconciles
    # A payment dated before the prepayment can no longer be booked.
    late = ledger.apply([Payment("Q1-0", "Q1", date(2024, 3, 20), D("1.00"))], date(2024, 4, 1))
    assert late.quarantined[0].field == "paid_on"


def test_ledger_settlement_closes_the_loan():
    ledger = _ledger()
    ledger.apply([Payment("Q1-3", "Q1", date(2024, 3, 25), D("100700.00"))], date(2024, 3, 25))
    result = ledger.settle("Q1", date(2024, 3, 25))
    assert result.total == D("100662.91")  # 100,495.42 + 167.49
    position = ledger.position("Q1", date(2024, 6, 1))
    assert position.status is LoanStatus.SETTLED
    assert (position.outstanding_principal, position.dpd, position.suspense) == (
        0, 0, D("37.09"))
    assert position.principal_reconciles and position.money_reconciles


def test_ledger_refuses_prepayment_with_arrears():
    ledger = LoanLedger()
    ledger.add_loan(_ledger().contract("Q1"))
    ledger.apply([Payment("Q1-1", "Q1", date(2024, 2, 20), D("60000.00"))], date(2024, 2, 20))
    # The Feb 15 instalment, paid late on Feb 20 (5 days of penalty first), is no arrear on
    # Mar 1, and the rest of the payment waits in suspense: the prepayment goes through.
    ledger.prepay("Q1", date(2024, 3, 1), D("1000.00"))
    fresh = LoanLedger()
    fresh.add_loan(ledger.contract("Q1"))
    with pytest.raises(ValueError, match=r"arrears on 2024-03-01 \(oldest unpaid due 2024-02-15"):
        fresh.prepay("Q1", date(2024, 3, 1), D("1000.00"))
