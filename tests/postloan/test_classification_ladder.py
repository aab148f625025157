"""The days-past-due ladders at their boundaries, per product, and the class order."""

from __future__ import annotations

import pytest

from xiaowei.postloan.classification import LoanClass, LoanState, classify

P, SM, SS, D, L = (LoanClass.PASS, LoanClass.SPECIAL_MENTION, LoanClass.SUBSTANDARD,
                   LoanClass.DOUBTFUL, LoanClass.LOSS)


def _class(dpd: int, product: str | None = None) -> LoanClass:
    return classify(LoanState("L1", dpd=dpd, product=product)).klass


@pytest.mark.parametrize(("dpd", "expected"), [
    (0, P), (7, P), (8, SM), (90, SM), (91, SS), (270, SS), (271, D), (360, D), (361, L),
    (5000, L),
])
def test_default_ladder_boundaries(dpd: int, expected: LoanClass) -> None:
    assert _class(dpd) == expected


@pytest.mark.parametrize(("dpd", "expected"), [
    (0, P), (1, SM), (90, SM), (91, SS), (120, SS), (121, D), (180, D), (181, L),
])
def test_credit_card_ladder_boundaries(dpd: int, expected: LoanClass) -> None:
    assert _class(dpd, "credit_card") == expected


def test_unknown_product_uses_the_default_ladder() -> None:
    assert _class(5, "working_capital") == P
    assert _class(181, "working_capital") == SS


def test_grace_days_are_explained_and_pass_says_no_floor_met() -> None:
    within = classify(LoanState("L1", dpd=7))
    assert within.codes == ["OVERDUE_WITHIN_GRACE", "NO_FLOOR"]
    assert "7 天" in within.reasons[0].zh
    current = classify(LoanState("L2", dpd=0))
    assert current.codes == ["NO_FLOOR"]
    assert current.reasons[0].floor == P


def test_only_the_highest_ladder_step_is_a_reason_and_it_names_the_days() -> None:
    result = classify(LoanState("L1", dpd=361))
    assert result.codes == ["OVERDUE_360"]
    assert result.reasons[0].floor == L
    assert "361" in result.reasons[0].zh and "361" in result.reasons[0].en


def test_classes_are_ordered_and_parse_from_both_languages() -> None:
    assert P < SM < SS < D < L
    assert max([SS, P, D]) == D
    assert [c.non_performing for c in LoanClass] == [False, False, True, True, True]
    assert LoanClass.parse("可疑") is D
    assert LoanClass.parse("special mention") is SM
    assert LoanClass.parse("SUBSTANDARD") is SS
    assert [c.en for c in LoanClass] == ["pass", "special mention", "substandard", "doubtful",
                                         "loss"]
    with pytest.raises(ValueError, match="unknown loan class 'bad'"):
        LoanClass.parse("bad")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dpd": -1}, "dpd must be an integer ≥ 0"),
    ({"dpd": True}, "dpd must be an integer ≥ 0"),
    ({"dpd": 3, "balance": 1.5}, "not float"),
    ({"dpd": 3, "segment": "sme"}, "segment must be one of"),
    ({"dpd": 3, "restructured_on": __import__("datetime").date(2024, 1, 1)},
     "restructured is false"),
])
def test_loan_state_refuses_malformed_facts(kwargs: dict, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        LoanState("L1", **kwargs)
