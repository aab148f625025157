"""Hand-computed schedules of the amortising methods, day counts and month-end clamping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    DayCount,
    RateConvention,
    add_months,
    build_schedule,
    due_dates,
    level_payment,
)
from xiaowei.postloan.accounting.amounts import round_fen
from xiaowei.postloan.accounting.daycount import accrue

EQUAL_INSTALMENT = RepaymentMethod.EQUAL_INSTALMENT
EQUAL_PRINCIPAL = RepaymentMethod.EQUAL_PRINCIPAL
BULLET = RepaymentMethod.INTEREST_ONLY_BULLET


def rows(schedule):
    return [(i.due_date, i.principal, i.interest, i.closing_balance)
            for i in schedule.instalments]


def test_equal_instalment_monthly_rate_by_hand():
    # 120,000 yuan, 6% a year, 12 months, monthly rate r = 0.06 / 12 = 0.005.
    # (1.005)^12 = 1.0616778119; A = 120000 × 0.005 × 1.0616778119 / 0.0616778119
    #   = 600 × 17.2132860 = 10,327.9716 → 10,327.97.
    # Row 1: interest 120,000.00 × 0.005 = 600.00; principal 10,327.97 − 600.00 = 9,727.97;
    #        balance 120,000.00 − 9,727.97 = 110,272.03.
    # Row 2: interest 110,272.03 × 0.005 = 551.36015 → 551.36; principal 9,776.61;
    #        balance 100,495.42.
    # Row 12: opening 10,276.61 (balance after row 11); interest 10,276.61 × 0.005 = 51.38305
    #        → 51.38; principal = the whole balance 10,276.61; payment 10,327.99 (the last
    #        instalment absorbs two fen of rounding).
    s = build_schedule(D("120000.00"), D("0.06"), date(2024, 1, 15), 12, EQUAL_INSTALMENT,
                       convention=RateConvention.MONTHLY)
    assert s.level_instalment == D("10327.97")
    assert rows(s)[0] == (date(2024, 2, 15), D("9727.97"), D("600.00"), D("110272.03"))
    assert rows(s)[1] == (date(2024, 3, 15), D("9776.61"), D("551.36"), D("100495.42"))
    last = s.instalments[-1]
    assert (last.due_date, last.opening_balance, last.interest, last.principal, last.payment) == (
        date(2025, 1, 15), D("10276.61"), D("51.38"), D("10276.61"), D("10327.99"))
    assert all(i.payment == D("10327.97") for i in s.instalments[:-1])
    assert sum(i.principal for i in s.instalments) == D("120000.00")
    assert s.total_interest == D("3935.66")


def test_equal_instalment_actual_days_charges_february_less():
    # Same loan from Jan 31 2024 under ACT/360: period 1 runs Jan 31 → Feb 29 (29 days),
    # interest 120,000 × 0.06 × 29 / 360 = 580.00; principal 10,327.97 − 580.00 = 9,747.97.
    # Period 2 runs Feb 29 → Mar 31 (31 days): 110,252.03 × 0.06 × 31 / 360 = 569.6355 → 569.64.
    s = build_schedule(D("120000.00"), D("0.06"), date(2024, 1, 31), 12, EQUAL_INSTALMENT,
                       day_count=DayCount.ACT_360, convention=RateConvention.ACTUAL_DAYS)
    assert rows(s)[0] == (date(2024, 2, 29), D("9747.97"), D("580.00"), D("110252.03"))
    assert rows(s)[1] == (date(2024, 3, 31), D("9758.33"), D("569.64"), D("100493.70"))
    assert [i.days for i in s.instalments[:3]] == [29, 31, 30]
    assert s.instalments[-1].closing_balance == 0


def test_equal_principal_by_hand():
    # 12,000 yuan, 6%, 12 months from 2024-01-15, ACT/360: principal 1,000.00 a month.
    # Row 1 (31 days): 12,000 × 0.06 × 31/360 = 62.00
    # Row 2 (Feb 15 → Mar 15, 29 days, leap year): 11,000 × 0.06 × 29/360 = 53.1667 → 53.17
    # Row 3 (31 days): 10,000 × 0.06 × 31/360 = 51.6667 → 51.67
    # Row 12 (Dec 15 → Jan 15, 31 days): 1,000 × 0.06 × 31/360 = 5.1667 → 5.17
    s = build_schedule(D("12000.00"), D("0.06"), date(2024, 1, 15), 12, EQUAL_PRINCIPAL,
                       day_count=DayCount.ACT_360)
    assert rows(s)[:3] == [
        (date(2024, 2, 15), D("1000.00"), D("62.00"), D("11000.00")),
        (date(2024, 3, 15), D("1000.00"), D("53.17"), D("10000.00")),
        (date(2024, 4, 15), D("1000.00"), D("51.67"), D("9000.00")),
    ]
    assert rows(s)[-1] == (date(2025, 1, 15), D("1000.00"), D("5.17"), D("0.00"))


def test_equal_principal_last_period_absorbs_the_odd_fen():
    # 10,000.00 / 3 = 3,333.333… → 3,333.33 twice, and 3,333.34 in the last period.
    s = build_schedule(D("10000.00"), D("0.05"), date(2024, 5, 10), 3, EQUAL_PRINCIPAL)
    assert [i.principal for i in s.instalments] == [D("3333.33"), D("3333.33"), D("3333.34")]


def test_interest_only_bullet_by_hand_with_month_end_clamping():
    # 100,000 at 7.2%, from 2023-01-31, ACT/360; due dates clamp to month ends:
    # Feb 28 (28 days): 100,000 × 0.072 × 28/360 = 560.00
    # Mar 31 (31 days): 620.00;  Apr 30 (30 days): 600.00 plus the whole principal.
    s = build_schedule(D("100000.00"), D("0.072"), date(2023, 1, 31), 3, BULLET,
                       day_count=DayCount.ACT_360)
    assert rows(s) == [
        (date(2023, 2, 28), D("0.00"), D("560.00"), D("100000.00")),
        (date(2023, 3, 31), D("0.00"), D("620.00"), D("100000.00")),
        (date(2023, 4, 30), D("100000.00"), D("600.00"), D("0.00")),
    ]


@pytest.mark.parametrize(("day_count", "year", "expected"), [
    # 36,000 at 10%, February period Feb 15 → Mar 15: 28 actual days in 2023, 29 in 2024.
    (DayCount.ACT_360, 2023, D("280.00")),     # 36000 × 0.1 × 28/360
    (DayCount.ACT_365, 2023, D("276.16")),     # 36000 × 0.1 × 28/365 = 276.1644
    (DayCount.THIRTY_360, 2023, D("300.00")),  # the 15th to the 15th is 30 days
    (DayCount.ACT_360, 2024, D("290.00")),     # leap year: 29 days
    (DayCount.ACT_365, 2024, D("286.03")),     # 36000 × 0.1 × 29/365 = 286.0274
])
def test_day_counts_on_a_february_period(day_count, year, expected):
    s = build_schedule(D("36000.00"), D("0.10"), date(year, 1, 15), 2, BULLET,
                       day_count=day_count)
    february = s.instalments[1]
    assert (february.accrual_start, february.due_date) == (date(year, 2, 15),
                                                             date(year, 3, 15))
    assert february.interest == expected


def test_monthly_convention_ignores_the_length_of_february():
    # annual/12 for every regular period: 36,000 × 0.10 / 12 = 300.00, 28 days or 31.
    s = build_schedule(D("36000.00"), D("0.10"), date(2023, 1, 15), 3, BULLET,
                       convention=RateConvention.MONTHLY)
    assert [i.interest for i in s.instalments] == [D("300.00")] * 3


def test_thirty_360_counts_the_31st_as_the_30th_and_telescopes():
    assert DayCount.THIRTY_360.days(date(2024, 1, 31), date(2024, 3, 31)) == 60
    assert DayCount.THIRTY_360.days(date(2024, 1, 15), date(2024, 2, 15)) == 30
    pieces = (DayCount.THIRTY_360.days(date(2024, 1, 31), date(2024, 2, 29))
              + DayCount.THIRTY_360.days(date(2024, 2, 29), date(2024, 3, 31)))
    assert pieces == 60
    # ACT/365 is fixed: a leap year earns 366/365 of the rate, 36,000 × 0.1 × 366/365 = 3,609.86
    assert round_fen(accrue(D("36000"), D("0.1"), date(2024, 1, 1), date(2025, 1, 1),
                            DayCount.ACT_365)) == D("3609.86")


def test_end_of_month_clamping():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    # from the start date, not chained: Jan 31 → Feb 29 → Mar 31 (not Mar 29)
    assert due_dates(date(2024, 1, 31), 4) == (
        date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31))


def test_level_payment_without_interest_is_principal_over_term():
    assert level_payment(D("1200.00"), D("0"), 12) == D("100.00")
    s = build_schedule(D("1000.00"), D("0"), date(2024, 1, 1), 3, EQUAL_INSTALMENT)
    assert [i.payment for i in s.instalments] == [D("333.33"), D("333.33"), D("333.34")]


def test_balance_on_a_date_follows_the_schedule():
    s = build_schedule(D("12000.00"), D("0.06"), date(2024, 1, 15), 12, EQUAL_PRINCIPAL)
    assert s.balance_on(date(2024, 2, 14)) == D("12000.00")
    assert s.balance_on(date(2024, 2, 15)) == D("11000.00")
    assert s.maturity_date == date(2025, 1, 15)


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"principal": 1000.0}, TypeError, "principal"),
    ({"principal": D("-1.00")}, ValueError, "principal"),
    ({"principal": D("10.005")}, ValueError, "principal"),
    ({"annual_rate": D("0.5")}, ValueError, "annual_rate"),
    ({"annual_rate": 0.06}, TypeError, "annual_rate"),
    ({"term_months": 0}, ValueError, "term_months"),
    ({"term_months": 121}, ValueError, "term_months"),
])
def test_bad_terms_are_refused_naming_the_field(kwargs, error, field):
    args = {"principal": D("1000.00"), "annual_rate": D("0.06"), "start_date": date(2024, 1, 1),
            "term_months": 12, "method": EQUAL_INSTALMENT} | kwargs
    with pytest.raises(error, match=field):
        build_schedule(**args)
