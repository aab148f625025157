"""Upgrading out of 不良, and manual overrides under maker–checker."""

from __future__ import annotations

import pytest

from xiaowei.postloan.classification import (
    LoanClass,
    LoanState,
    ManualOverride,
    OverrideRefused,
    UpgradeFacts,
    classify,
)

P, SM, SS, D, L = (LoanClass.PASS, LoanClass.SPECIAL_MENTION, LoanClass.SUBSTANDARD,
                   LoanClass.DOUBTFUL, LoanClass.LOSS)


def _cured(facts: UpgradeFacts | None, current: LoanClass = D, dpd: int = 0) -> LoanState:
    return LoanState("U1", dpd=dpd, current_class=current, upgrade=facts)


def test_upgrade_allowed_after_both_periods_and_months() -> None:
    result = classify(_cured(UpgradeFacts(True, normal_periods_since=2, months_normal_since=6)))
    assert result.klass == P
    assert result.codes == ["UPGRADE_ALLOWED", "NO_FLOOR"]


@pytest.mark.parametrize(("facts", "missing"), [
    (UpgradeFacts(True, normal_periods_since=2, months_normal_since=5), "6 个月"),
    (UpgradeFacts(True, normal_periods_since=1, months_normal_since=12), "2 期"),
    (UpgradeFacts(False, normal_periods_since=6, months_normal_since=6), "逾期本息尚未全部结清"),
    (UpgradeFacts(True, 6, 6, other_impaired_assets=True), "其他已减值资产"),
    (None, "未提供升级条件"),
])
def test_upgrade_refused_holds_the_current_npl_class(facts: UpgradeFacts | None,
                                                     missing: str) -> None:
    result = classify(_cured(facts))
    assert result.klass == D
    assert result.codes == ["UPGRADE_REFUSED"]
    assert result.reasons[0].floor == D
    assert missing in result.reasons[0].zh


def test_a_loan_still_overdue_has_not_repaid_its_arrears() -> None:
    result = classify(_cured(UpgradeFacts(True, 6, 6), current=SS, dpd=5))
    assert result.klass == SS
    assert "逾期本息尚未全部结清" in result.reasons[-1].zh


def test_no_hold_for_performing_loans_or_when_floors_are_as_bad() -> None:
    assert classify(_cured(None, current=SM)).klass == P
    worse = classify(LoanState("U1", dpd=400, current_class=SS))
    assert worse.klass == L
    assert "UPGRADE_REFUSED" not in worse.codes


def _override(klass: LoanClass, evidence: str = "现场检查发现主要资产被查封",
              maker: str = "wang.li", checker: str = "zhao.min") -> ManualOverride:
    return ManualOverride(klass, evidence, maker, checker)


def test_override_may_make_the_class_worse_and_is_a_reason() -> None:
    result = classify(LoanState("O1", dpd=10, override=_override(D)))
    assert result.klass == D
    assert result.codes == ["OVERDUE", "MANUAL_OVERRIDE"]
    assert "wang.li" in result.reasons[-1].zh and "查封" in result.reasons[-1].zh


def test_override_equal_to_the_floor_is_accepted() -> None:
    assert classify(LoanState("O1", dpd=10, override=_override(SM))).klass == SM


def test_override_better_than_a_floor_is_refused_naming_the_floor() -> None:
    with pytest.raises(OverrideRefused, match=r"better than the objective floor 次级.*OVERDUE_90"):
        classify(LoanState("O1", dpd=95, override=_override(SM)))


def test_override_cannot_lift_a_held_npl_class() -> None:
    state = LoanState("O1", dpd=0, current_class=D, override=_override(P))
    with pytest.raises(OverrideRefused, match="UPGRADE_REFUSED"):
        classify(state)


@pytest.mark.parametrize(("override", "message"), [
    (_override(D, maker="wang.li", checker="wang.li"), "checker must be another person"),
    (_override(D, maker="Wang.Li", checker=" wang.li "), "checker must be another person"),
    (_override(D, checker=""), "a maker and a checker"),
    (_override(D, evidence="  "), "needs evidence text"),
])
def test_override_needs_evidence_and_a_second_person(override: ManualOverride,
                                                     message: str) -> None:
    with pytest.raises(OverrideRefused, match=message):
        classify(LoanState("O1", dpd=0, override=override))
