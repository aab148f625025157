"""Debtor-level classification of non-retail assets, and the small-micro retail switch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xiaowei.postloan.classification import (
    LoanClass,
    LoanState,
    apply_debtor_contagion,
    classify,
    default_rules,
    npl_share,
)

SS = LoanClass.SUBSTANDARD


def _book(bad_balance: str, good_balance: str, segment: str = "corporate",
          debtor: str | None = "D1") -> list[tuple[LoanState, object]]:
    states = [LoanState("BAD", dpd=120, debtor_id=debtor, segment=segment,
                        balance=Decimal(bad_balance)),
              LoanState("GOOD", dpd=0, debtor_id=debtor, segment=segment,
                        balance=Decimal(good_balance))]
    return [(s, classify(s)) for s in states]


def test_exactly_ten_percent_does_not_spread() -> None:
    book = _book("100.00", "900.00")
    assert npl_share(book) == Decimal("0.1")
    result = apply_debtor_contagion(book)
    assert result[1].klass == LoanClass.PASS
    assert result[1].codes == ["NO_FLOOR"]


def test_over_ten_percent_makes_every_claim_at_least_substandard() -> None:
    book = _book("100.10", "899.90")  # 10.01 %
    result = apply_debtor_contagion(book)
    assert [c.klass for c in result] == [SS, SS]
    assert result[1].codes == ["DEBTOR_NPL_SHARE"]  # "no floor met" is gone
    assert "10.0100%" in result[1].reasons[0].zh
    assert result[0].codes[-1] == "DEBTOR_NPL_SHARE"


def test_retail_loans_are_classified_loan_by_loan() -> None:
    result = apply_debtor_contagion(_book("500", "500", segment="retail"))
    assert result[1].klass == LoanClass.PASS


def test_small_micro_follows_the_retail_switch() -> None:
    rules = default_rules()
    as_retail = apply_debtor_contagion(_book("500", "500", segment="small_micro"), rules)
    assert as_retail[1].klass == LoanClass.PASS
    debtor = rules.debtor.model_copy(update={"small_micro_as_retail": False})
    non_retail = rules.model_copy(update={"debtor": debtor})
    result = apply_debtor_contagion(_book("500", "500", segment="small_micro"), non_retail)
    assert result[1].klass == SS


def test_loans_without_a_debtor_are_left_alone_and_balances_are_required() -> None:
    assert apply_debtor_contagion(_book("500", "500", debtor=None))[1].klass == LoanClass.PASS
    state = LoanState("X", dpd=0, debtor_id="D1", segment="corporate")
    with pytest.raises(ValueError, match="balance is required"):
        apply_debtor_contagion([(state, classify(state))])
