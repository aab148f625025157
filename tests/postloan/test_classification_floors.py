"""Qualitative floors: warning signals, credit impairment and the ECL ratios."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xiaowei.postloan.classification import LoanClass, LoanState, UnknownSignal, classify

SM, SS, D, L = (LoanClass.SPECIAL_MENTION, LoanClass.SUBSTANDARD, LoanClass.DOUBTFUL,
                LoanClass.LOSS)


@pytest.mark.parametrize(("signal", "expected"), [
    ("funds_misused", SM), ("evergreening", SM), ("npl_at_other_bank", SM),
    ("rating_cut_sharply", SS), ("cross_bank_90dpd_over_20pct", SS), ("evades_debt", D),
])
def test_each_signal_sets_its_floor_on_a_current_non_retail_loan(signal: str,
                                                                 expected: LoanClass) -> None:
    result = classify(LoanState("L1", dpd=0, segment="corporate", signals=[signal]))
    assert result.klass == expected
    assert result.codes == ["SIGNAL_" + signal.upper()]
    assert result.reasons[0].floor == expected


def test_signals_are_listed_all_and_the_worst_wins() -> None:
    result = classify(LoanState("L1", dpd=30, segment="corporate",
                                signals=["evades_debt", "funds_misused"]))
    assert result.klass == D
    assert result.codes == ["OVERDUE", "SIGNAL_FUNDS_MISUSED", "SIGNAL_EVADES_DEBT"]


def test_non_retail_signals_are_noted_but_do_not_floor_a_retail_loan() -> None:
    result = classify(LoanState("L1", dpd=0, segment="retail",
                                signals=["cross_bank_90dpd_over_20pct", "funds_misused"]))
    assert result.klass == SM  # funds_misused applies to everyone
    assert "SIGNAL_CROSS_BANK_90DPD_OVER_20PCT_NOT_APPLIED_RETAIL" in result.codes
    assert "SIGNAL_CROSS_BANK_90DPD_OVER_20PCT" not in result.codes


def test_small_micro_counts_as_retail_by_default_for_non_retail_signals() -> None:
    result = classify(LoanState("L1", dpd=0, signals=["npl_at_other_bank"]))
    assert result.klass == LoanClass.PASS
    assert result.codes == ["SIGNAL_NPL_AT_OTHER_BANK_NOT_APPLIED_RETAIL", "NO_FLOOR"]


def test_an_unknown_signal_is_refused_not_ignored() -> None:
    with pytest.raises(UnknownSignal, match="'fund_misused'"):
        classify(LoanState("L1", dpd=0, signals=["fund_misused"]))


def test_credit_impaired_is_at_least_substandard() -> None:
    result = classify(LoanState("L1", dpd=0, impaired=True))
    assert result.klass == SS
    assert result.codes == ["CREDIT_IMPAIRED"]


@pytest.mark.parametrize(("ratio", "expected", "code"), [
    ("0.4999", SS, None), ("0.50", D, "ECL_RATIO_50"), ("0.8999", D, "ECL_RATIO_50"),
    ("0.90", L, "ECL_RATIO_90"), ("1", L, "ECL_RATIO_90"),
])
def test_ecl_ratio_floors_on_impaired_assets(ratio: str, expected: LoanClass,
                                             code: str | None) -> None:
    result = classify(LoanState("L1", dpd=0, impaired=True, ecl_ratio=Decimal(ratio)))
    assert result.klass == expected
    assert result.codes == ["CREDIT_IMPAIRED", *([code] if code else [])]


def test_ecl_ratio_alone_sets_no_floor_without_impairment() -> None:
    result = classify(LoanState("L1", dpd=0, impaired=False, ecl_ratio=Decimal("0.95")))
    assert result.klass == LoanClass.PASS
