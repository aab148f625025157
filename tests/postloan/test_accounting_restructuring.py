"""Restructuring (展期, capitalisation) and the observation clock classification reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    LoanContract,
    LoanLedger,
    ObservationClock,
    Payment,
    RateConvention,
    RestructuringPolicy,
    add_months,
    due_dates,
    restructure,
)

RESTRUCTURED = date(2024, 3, 10)
DUES = due_dates(RESTRUCTURED, 24)  # 2024-04-10, 2024-05-10 …


def clock(on_time=(), missed=(), **kwargs):
    return ObservationClock(RESTRUCTURED, DUES, tuple(on_time), tuple(missed), **kwargs)


def test_passes_only_after_one_year_from_the_first_repayment():
    everything = clock(on_time=DUES)
    assert everything.first_repayment_date == date(2024, 4, 10)
    assert not everything.passed(date(2025, 4, 9))
    assert everything.passed(date(2025, 4, 10))
    assert everything.periods_observed(date(2025, 4, 10)) == 13


def test_passes_only_after_two_consecutive_periods():
    short = clock(on_time=DUES[:1], min_months=1)  # a one-month clock isolates the period rule
    assert short.passes_on(date(2024, 6, 1)) == date(2024, 5, 10)
    assert not short.passed(date(2024, 6, 1))  # one period on time, the second still open
    both = clock(on_time=DUES[:2], min_months=1)
    assert not both.passed(date(2024, 5, 9))
    assert both.passed(date(2024, 5, 10))


def test_a_missed_payment_restarts_the_clock():
    miss = date(2024, 8, 10)
    c = clock(on_time=[d for d in DUES if d != miss], missed=[miss])
    assert c.started_on(date(2024, 8, 9)) == date(2024, 4, 10)  # the miss is not known yet
    assert c.started_on(date(2024, 8, 11)) == date(2024, 9, 10)
    assert c.last_missed_on(date(2025, 1, 1)) == miss
    assert not c.passed(date(2025, 4, 10))
    assert not c.passed(date(2025, 9, 9))
    assert c.passed(date(2025, 9, 10))


def test_clock_refuses_dates_that_are_not_due_dates():
    with pytest.raises(ValueError, match="not due dates"):
        clock(on_time=[date(2024, 4, 11)])
    with pytest.raises(ValueError, match="both on time and missed"):
        clock(on_time=DUES[:1], missed=DUES[:1])


def test_restructure_capitalises_interest_and_carries_penalty():
    # 100,000 outstanding + 1,000 overdue + 200 accrued interest → new principal 101,200.00;
    # the 50.00 penalty is carried to the first instalment.
    r = restructure(RESTRUCTURED, D("100000.00"), D("1000.00"), D("200.00"), D("50.00"), 12,
                    D("0.06"), RepaymentMethod.EQUAL_PRINCIPAL,
                    convention=RateConvention.MONTHLY)
    assert (r.new_principal, r.capitalised_interest, r.carried_penalty) == (
        D("101200.00"), D("1200.00"), D("50.00"))
    assert r.schedule.due_dates[0] == date(2024, 4, 10)
    assert sum(i.principal for i in r.schedule.instalments) == D("101200.00")
    assert r.observation.first_repayment_date == date(2024, 4, 10)
    # Without capitalisation the 1,200 interest rides on the first instalment:
    # 100,000 × 0.005 + 1,200 = 1,700.00.
    kept = restructure(RESTRUCTURED, D("100000.00"), D("1000.00"), D("200.00"), D("50.00"), 12,
                       D("0.06"), RepaymentMethod.EQUAL_PRINCIPAL,
                       convention=RateConvention.MONTHLY,
                       policy=RestructuringPolicy(capitalise_interest=False))
    assert kept.new_principal == D("100000.00")
    assert kept.schedule.instalments[0].interest == D("1700.00")
    assert kept.carried_interest == D("1200.00")


def _restructured_ledger():
    # 等额本金 12,000 at 6% ACT/360 from 2024-01-15; period 1 (1,062.00) paid, period 2
    # (1,000 + 53.17, due Mar 15) missed. Restructured on Apr 10 with a 6-month extension:
    # 10 periods were left after Apr 10, so 16 months from Apr 10.
    #   accrued interest Mar 15 → Apr 10 on the scheduled 10,000: 10,000 × 0.06 × 26/360 = 43.33
    #   new principal 11,000 + 53.17 + 43.33 = 11,096.50
    #   penalty 26 days: 1,000 × 9% × 26/360 = 6.50, + 53.17 × 9% × 26/360 = 0.3456 → 6.85
    ledger = LoanLedger()
    ledger.add_loan(LoanContract("R1", D("12000.00"), D("0.06"), date(2024, 1, 15), 12,
                                 RepaymentMethod.EQUAL_PRINCIPAL))
    ledger.apply([Payment("R1-0", "R1", date(2024, 2, 15), D("1062.00"))], date(2024, 2, 15))
    result = ledger.restructure("R1", date(2024, 4, 10), extension_months=6)
    return ledger, result


def test_ledger_restructuring_by_hand():
    ledger, r = _restructured_ledger()
    assert (r.outstanding_principal, r.capitalised_interest, r.carried_penalty) == (
        D("11000.00"), D("96.50"), D("6.85"))
    assert r.schedule.term == 16 and r.new_principal == D("11096.50")
    first = r.schedule.instalments[0]
    # principal 11,096.50 / 16 = 693.53; interest Apr 10 → May 10: 11,096.50 × 0.06 × 30/360
    assert (first.due_date, first.principal, first.interest) == (
        date(2024, 5, 10), D("693.53"), D("55.48"))
    position = ledger.position("R1", date(2024, 4, 11))
    assert position.restructured_on == (date(2024, 4, 10),)
    assert (position.principal, position.outstanding_principal) == (D("12096.50"),
                                                                     D("11096.50"))
    assert (position.dpd, position.penalty_accrued) == (0, D("6.85"))
    assert position.observation.first_repayment_date == date(2024, 5, 10)
    assert position.observation_passed is False
    assert position.principal_reconciles and position.money_reconciles


def _pay_instalments(ledger, schedule, late=None):
    payments = []
    for row in schedule.instalments[:14]:
        amount = row.payment + (D("6.85") if row.period == 1 else 0)
        paid_on = row.due_date
        if row.due_date == late:
            paid_on, amount = date(late.year, late.month, 20), amount + D("10.00")
        payments.append(Payment(f"R1-{row.period}", "R1", paid_on, amount))
    result = ledger.apply(payments, date(2025, 7, 1))
    assert not result.quarantined


def test_ledger_observation_passes_after_a_year_of_payments():
    ledger, r = _restructured_ledger()
    _pay_instalments(ledger, r.schedule)
    assert not ledger.position("R1", date(2025, 5, 9)).observation_passed
    passed = ledger.position("R1", date(2025, 5, 10))
    assert passed.observation_passed
    assert passed.observation.periods_observed(date(2025, 5, 10)) == 13


def test_ledger_observation_restarts_after_a_missed_payment():
    ledger, r = _restructured_ledger()
    _pay_instalments(ledger, r.schedule, late=date(2024, 8, 10))
    position = ledger.position("R1", date(2025, 6, 1))
    assert position.observation.missed_due_dates == (date(2024, 8, 10),)
    assert position.observation.started_on(position.as_of) == date(2024, 9, 10)
    assert not position.observation_passed
    assert add_months(date(2024, 9, 10), 12) == position.observation.passes_on(position.as_of)
    assert position.dpd == 0  # the late instalment was paid; the clock still restarted
    facts = position.restructuring_facts()
    assert facts == {
        "restructured": True, "restructured_on": date(2024, 4, 10),
        "observation_passed": False, "first_payment_after_restructuring": date(2024, 5, 10),
        "periods_paid_since": 9,  # 2024-09-10 … 2025-05-10, all on time
        "missed_since_restructure": True, "last_missed_on": date(2024, 8, 10),
        "restructured_again_in_observation": False,
    }


def test_restructured_again_during_observation_is_flagged():
    ledger, _ = _restructured_ledger()
    assert not ledger.position("R1", date(2024, 5, 1)).restructured_again_in_observation
    ledger.restructure("R1", date(2024, 6, 1), term_months=24)
    again = ledger.position("R1", date(2024, 6, 2))
    assert again.restructured_on == (date(2024, 4, 10), date(2024, 6, 1))
    assert again.restructured_again_in_observation
    assert again.observation.restructured_on == date(2024, 6, 1)
    assert again.principal_reconciles


def test_payments_before_the_restructuring_are_closed():
    ledger, _ = _restructured_ledger()
    result = ledger.apply([Payment("OLD", "R1", date(2024, 4, 10), D("100.00"))],
                          date(2024, 5, 1))
    assert result.quarantined[0].field == "paid_on"
    assert "on or before the restructuring" in result.quarantined[0].reason
    with pytest.raises(ValueError, match="exactly one of"):
        ledger.restructure("R1", date(2024, 6, 1))
    with pytest.raises(ValueError, match="must be after"):
        ledger.restructure("R1", date(2024, 4, 1), term_months=12)


def test_observation_settings_come_from_the_policy():
    r = restructure(RESTRUCTURED, D("1000.00"), D("0.00"), D("0.00"), D("0.00"), 12,
                    D("0.06"), RepaymentMethod.EQUAL_INSTALMENT,
                    policy=RestructuringPolicy(observation_min_periods=3,
                                               observation_min_months=6))
    c = replace(r.observation, on_time_due_dates=r.schedule.due_dates)
    assert c.passed(date(2024, 10, 10)) and not c.passed(date(2024, 10, 9))
