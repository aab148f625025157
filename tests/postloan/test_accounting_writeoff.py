"""Write-off (核销) and recoveries booked against the written-off claim (账销案存)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import LoanStatus, RepaymentMethod
from xiaowei.postloan.accounting import (
    Component,
    DayCount,
    LoanContract,
    LoanLedger,
    Payment,
    RateConvention,
    Waterfall,
    WriteOff,
    WrittenOffLoan,
)

W_DATE = date(2024, 7, 15)


def test_recoveries_settle_principal_first_and_keep_the_excess():
    record = WrittenOffLoan(WriteOff("W1", W_DATE, D("10000.00"), D("500.00"), D("100.00")))
    record = record.recover("R1", date(2024, 8, 1), D("3000.00"))
    assert record.remaining.principal == D("7000.00")
    record = record.recover("R2", date(2024, 9, 1), D("8000.00"))
    last = record.recoveries[-1]
    assert (last.principal, last.interest, last.penalty, last.excess) == (
        D("7000.00"), D("500.00"), D("100.00"), D("400.00"))
    assert record.recovered == D("10600.00") and record.remaining.total == 0


def test_recovery_order_is_configurable_and_dates_must_follow_the_write_off():
    record = WrittenOffLoan(WriteOff("W1", W_DATE, D("10000.00"), D("500.00"), D("100.00")))
    interest_first = Waterfall((Component.PENALTY, Component.INTEREST, Component.PRINCIPAL))
    split = record.recover("R1", date(2024, 8, 1), D("550.00"), interest_first).recoveries[0]
    assert (split.penalty, split.interest, split.principal) == (D("100.00"), D("450.00"), 0)
    with pytest.raises(ValueError, match="after the write-off"):
        record.recover("R0", W_DATE, D("1.00"))


def _written_off_ledger():
    # 先息后本 360,000 at 6% monthly rate from 2024-01-15; interest paid twice, the last
    # instalment (360,000 + 1,800, due Apr 15) never paid. Written off on Jul 15, 91 days on:
    #   罚息 360,000 × 9% × 91/360 = 8,190.00; 复利 1,800 × 9% × 91/360 = 40.95 → 8,230.95
    ledger = LoanLedger()
    ledger.add_loan(LoanContract("W1", D("360000.00"), D("0.06"), date(2024, 1, 15), 3,
                                 RepaymentMethod.INTEREST_ONLY_BULLET, DayCount.ACT_360,
                                 RateConvention.MONTHLY))
    ledger.apply([Payment("W1-1", "W1", date(2024, 2, 15), D("1800.00")),
                  Payment("W1-2", "W1", date(2024, 3, 15), D("1800.00"))], date(2024, 3, 15))
    return ledger


def test_ledger_write_off_moves_the_balance_off_book():
    ledger = _written_off_ledger()
    record = ledger.write_off("W1", W_DATE)
    assert (record.principal, record.interest, record.penalty) == (
        D("360000.00"), D("1800.00"), D("8230.95"))
    position = ledger.position("W1", date(2024, 7, 16))
    assert position.status is LoanStatus.WRITTEN_OFF
    assert (position.outstanding_principal, position.overdue_interest,
            position.penalty_accrued) == (0, 0, 0)
    assert position.written_off_principal == D("360000.00")
    assert position.dpd == 92  # the claim is still unpaid: days keep counting
    assert position.principal_reconciles and position.money_reconciles
    # the day of the write-off itself still shows the loan on book
    assert ledger.position("W1", W_DATE).outstanding_principal == D("360000.00")


def test_ledger_books_later_payments_as_recoveries():
    ledger = _written_off_ledger()
    ledger.write_off("W1", W_DATE)
    result = ledger.apply([Payment("W1-R1", "W1", date(2024, 8, 1), D("100000.00")),
                           Payment("W1-R2", "W1", date(2024, 9, 1), D("300000.00")),
                           Payment("W1-X", "W1", date(2024, 7, 10), D("5.00"))],
                          date(2024, 9, 1))
    assert [r.field for r in result.quarantined] == ["paid_on"]
    assert "write-off" in result.quarantined[0].reason
    august = ledger.position("W1", date(2024, 8, 2))
    assert august.recovered == D("100000.00")
    assert august.written_off.remaining.principal == D("260000.00")
    assert august.principal_paid == 0  # recoveries are reported apart from repayments
    september = ledger.position("W1", date(2024, 9, 2))
    assert september.recovered == D("370030.95")
    assert september.suspense == D("29969.05")
    assert september.dpd == 0
    assert september.money_reconciles and september.principal_reconciles
    with pytest.raises(ValueError, match="written off"):
        ledger.restructure("W1", date(2024, 10, 1), term_months=12)
