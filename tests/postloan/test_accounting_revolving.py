"""The revolving line (随借随还): daily interest on the drawn balance, billed monthly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    DayCount,
    Flow,
    LoanContract,
    LoanLedger,
    Payment,
    revolving_schedule,
)


def test_interest_by_hand_on_draws_and_repayments():
    # Limit 100,000 at 7.2% ACT/360 → 0.0002 a day per yuan. Start 2024-01-01, 3 months.
    # Draw 50,000 on Jan 11, repay 20,000 on Jan 21, draw 10,000 on Feb 10.
    # Bill Feb 1: 50,000 × 0.0002 × 10 days (Jan 11–20) = 100.00
    #           + 30,000 × 0.0002 × 11 days (Jan 21–31) =  66.00            → 166.00
    # Bill Mar 1: 30,000 × 0.0002 × 9 (Feb 1–9) + 40,000 × 0.0002 × 20 (Feb 10–29)
    #           = 54.00 + 160.00                                               → 214.00
    # Bill Apr 1: 40,000 × 0.0002 × 31 = 248.00, and the 40,000 drawn falls due.
    s = revolving_schedule(D("100000.00"), D("0.072"), date(2024, 1, 1), 3,
                           [Flow(date(2024, 1, 11), D("50000.00")),
                            Flow(date(2024, 2, 10), D("10000.00"))],
                           [Flow(date(2024, 1, 21), D("20000.00"))], day_count=DayCount.ACT_360)
    assert [(p.due_date, p.interest, p.closing_balance) for p in s.periods] == [
        (date(2024, 2, 1), D("166.00"), D("30000.00")),
        (date(2024, 3, 1), D("214.00"), D("40000.00")),
        (date(2024, 4, 1), D("248.00"), D("40000.00")),
    ]
    assert s.principal_due_at_maturity == D("40000.00")
    assert s.total_interest == D("628.00")
    assert (s.periods[0].drawn, s.periods[0].repaid) == (D("50000.00"), D("20000.00"))


def test_each_bill_is_rounded_to_the_fen():
    # 1,000 at 5% ACT/365 for one day: 1000 × 0.05 / 365 = 0.136986 → 0.14
    s = revolving_schedule(D("1000.00"), D("0.05"), date(2024, 1, 1), 1,
                           [Flow(date(2024, 1, 30), D("1000.00"))],
                           [Flow(date(2024, 1, 31), D("1000.00"))], day_count=DayCount.ACT_365)
    assert s.periods[0].interest == D("0.14")
    assert s.principal_due_at_maturity == D("0.00")


def test_draw_above_the_limit_and_overrepayment_are_refused():
    with pytest.raises(ValueError, match="limit"):
        revolving_schedule(D("1000.00"), D("0.05"), date(2024, 1, 1), 2,
                           [Flow(date(2024, 1, 2), D("600.00")),
                            Flow(date(2024, 1, 3), D("600.00"))])
    with pytest.raises(ValueError, match="exceed the drawn balance"):
        revolving_schedule(D("1000.00"), D("0.05"), date(2024, 1, 1), 2,
                           [Flow(date(2024, 1, 2), D("600.00"))],
                           [Flow(date(2024, 1, 3), D("700.00"))])
    with pytest.raises(ValueError, match=r"draws\[0\]\.on"):
        revolving_schedule(D("1000.00"), D("0.05"), date(2024, 1, 1), 1,
                           [Flow(date(2024, 2, 1), D("600.00"))])


def test_ledger_line_payment_pays_the_bill_then_repays_principal():
    # Line of 100,000 at 7.2% ACT/360 from 2024-01-01, 50,000 drawn on Jan 11.
    # Bill Feb 1: 50,000 × 0.0002 × 21 days = 210.00. A payment of 10,210.00 on Feb 1 pays
    # the bill and repays 10,000 principal, so March's bill is 40,000 × 0.0002 × 29 = 232.00.
    ledger = LoanLedger()
    ledger.add_loan(LoanContract("LINE1", D("100000.00"), D("0.072"), date(2024, 1, 1), 3,
                                 RepaymentMethod.REVOLVING, DayCount.ACT_360,
                                 draws=(Flow(date(2024, 1, 11), D("50000.00")),)))
    ledger.apply([Payment("R1", "LINE1", date(2024, 2, 1), D("10210.00"))], date(2024, 2, 1))
    feb = ledger.position("LINE1", date(2024, 2, 1))
    assert (feb.interest_paid, feb.principal_paid, feb.outstanding_principal) == (
        D("210.00"), D("10000.00"), D("40000.00"))
    march = ledger.position("LINE1", date(2024, 3, 2))
    assert march.overdue_interest == D("232.00")
    assert march.dpd == 1
    assert march.money_reconciles and march.principal_reconciles


def test_new_draws_replace_the_line_terms_and_replay_its_payments():
    # A payment of 100.00 on Jan 5, before any draw, waits in suspense; the draw of 50,000 on
    # Jan 11 then bills 210.00 on Feb 1 (as above), which the suspense settles in part.
    line = LoanContract("LINE2", D("100000.00"), D("0.072"), date(2024, 1, 1), 3,
                        RepaymentMethod.REVOLVING, DayCount.ACT_360)
    ledger = LoanLedger()
    ledger.add_loan(line)
    ledger.apply([Payment("S1", "LINE2", date(2024, 1, 5), D("100.00"))], date(2024, 1, 5))
    assert ledger.position("LINE2", date(2024, 1, 5)).suspense == D("100.00")
    drawn = LoanContract("LINE2", D("100000.00"), D("0.072"), date(2024, 1, 1), 3,
                         RepaymentMethod.REVOLVING, DayCount.ACT_360,
                         draws=(Flow(date(2024, 1, 11), D("50000.00")),))
    with pytest.raises(ValueError, match="replace_terms"):
        ledger.add_loan(drawn)
    ledger.add_loan(drawn, replace_terms=True)
    feb = ledger.position("LINE2", date(2024, 2, 1))
    assert (feb.principal, feb.interest_paid, feb.suspense) == (D("50000.00"), D("100.00"), 0)
    assert ledger.position("LINE2", date(2024, 2, 2)).overdue_interest == D("110.00")
    with pytest.raises(ValueError, match="amortising schedule"):
        ledger.settle("LINE2", date(2024, 2, 2))
    with pytest.raises(ValueError, match="above the limit"):
        LoanContract("LINE3", D("1000.00"), D("0.05"), date(2024, 1, 1), 3,
                     RepaymentMethod.REVOLVING,
                     draws=(Flow(date(2024, 1, 2), D("1200.00")),))
