"""Restructured loans: the observation period (computed or reported), its restart on a miss,
the floors during it, and their lifting after it."""

from __future__ import annotations

import datetime as dt

import pytest

from xiaowei.postloan.classification import LoanClass, LoanState, classify, observation_status
from xiaowei.postloan.classification.observation import plus_years

AS_OF = dt.date(2025, 6, 30)
P, SM, SS = LoanClass.PASS, LoanClass.SPECIAL_MENTION, LoanClass.SUBSTANDARD


def _restructured(**kwargs: object) -> LoanState:
    facts: dict = {"dpd": 0, "restructured": True, "restructured_on": dt.date(2024, 1, 10)}
    facts.update(kwargs)
    return LoanState("R1", **facts)


def test_in_observation_a_pass_loan_is_at_least_special_mention() -> None:
    result = classify(_restructured(observation_passed=False), as_of=AS_OF)
    assert result.klass == SM
    assert result.codes == ["RESTRUCTURED_IN_OBSERVATION"]


def test_after_observation_the_restructuring_floor_lifts() -> None:
    result = classify(_restructured(observation_passed=True), as_of=AS_OF)
    assert result.klass == P
    assert result.codes == ["RESTRUCTURED_OBSERVATION_PASSED", "NO_FLOOR"]


def test_overdue_beyond_grace_in_observation_is_non_performing() -> None:
    within = classify(_restructured(observation_passed=False, dpd=7), as_of=AS_OF)
    beyond = classify(_restructured(observation_passed=False, dpd=8), as_of=AS_OF)
    assert within.klass == SM
    assert beyond.klass == SS
    assert "RESTRUCTURED_OVERDUE_IN_OBSERVATION" in beyond.codes


def test_an_objective_npl_condition_in_observation_makes_it_npl() -> None:
    result = classify(_restructured(observation_passed=False, impaired=True), as_of=AS_OF)
    assert result.klass == SS
    assert {"CREDIT_IMPAIRED", "RESTRUCTURED_IN_OBSERVATION"} <= set(result.codes)


def test_restructured_again_in_observation_is_at_least_substandard() -> None:
    once = classify(_restructured(observation_passed=False), as_of=AS_OF)
    again = classify(_restructured(observation_passed=False,
                                   restructured_again_in_observation=True), as_of=AS_OF)
    assert once.klass == SM
    assert again.klass == SS
    assert again.codes[0] == "RESTRUCTURED_AGAIN_IN_OBSERVATION"


def test_observation_needs_a_year_and_two_periods_from_the_first_repayment() -> None:
    first = dt.date(2024, 6, 30)
    day_before = _restructured(first_payment_after_restructuring=first, periods_paid_since=12)
    assert classify(day_before, as_of=dt.date(2025, 6, 29)).klass == SM
    assert classify(day_before, as_of=dt.date(2025, 6, 30)).klass == P
    one_period = _restructured(first_payment_after_restructuring=first, periods_paid_since=1)
    assert classify(one_period, as_of=dt.date(2026, 1, 1)).klass == SM
    not_started = _restructured()
    assert "尚未开始" in classify(not_started, as_of=AS_OF).reasons[0].zh


def test_observation_restarts_on_a_missed_payment() -> None:
    base = {"first_payment_after_restructuring": dt.date(2024, 2, 10), "periods_paid_since": 4}
    assert classify(_restructured(**base), as_of=AS_OF).klass == P
    missed = classify(_restructured(**base, last_missed_on=dt.date(2025, 2, 10)), as_of=AS_OF)
    assert missed.klass == SM
    assert "2025-02-10" in missed.reasons[0].zh
    later = classify(_restructured(**base, last_missed_on=dt.date(2025, 2, 10)),
                     as_of=dt.date(2026, 2, 10))
    assert later.klass == P
    undated = classify(_restructured(**base, missed_since_restructure=True), as_of=AS_OF)
    assert undated.klass == SM


def test_a_payment_overdue_now_is_a_miss_unless_the_period_had_already_passed() -> None:
    facts = {"first_payment_after_restructuring": dt.date(2024, 2, 10), "periods_paid_since": 4}
    # Due on 2025-05-31: the year from 2024-02-10 was complete — the period had passed.
    passed_before = classify(_restructured(**facts, dpd=30), as_of=AS_OF)
    assert passed_before.klass == SM  # the ladder's 关注 only
    assert "RESTRUCTURED_OBSERVATION_PASSED" in passed_before.codes
    # Due on 2024-12-02, inside the year: the period restarts and the loan is 不良.
    restarted = classify(_restructured(**facts, dpd=210), as_of=AS_OF)
    assert restarted.klass == SS
    assert "RESTRUCTURED_OVERDUE_IN_OBSERVATION" in restarted.codes


def test_a_leap_day_start_needs_a_full_year() -> None:
    assert plus_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 3, 1)
    status = observation_status(first_payment=dt.date(2024, 2, 29), periods_paid=12,
                                missed=False, last_missed_on=None, as_of=dt.date(2025, 2, 28),
                                min_periods=2, min_years=1)
    assert not status.passed


def test_restructuring_facts_need_the_restructured_flag() -> None:
    with pytest.raises(ValueError, match="restructured is false"):
        LoanState("R1", dpd=0, restructured_again_in_observation=True)
