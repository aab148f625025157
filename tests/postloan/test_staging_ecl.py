"""ECL = PD × LGD × EAD on hand-computed examples, to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xiaowei.postloan.staging import Stage, expected_credit_loss, lifetime_pd, stage_pd

# Hand calculation: balance 100,000.00, undrawn 50,000.00, CCF 40 % (default)
# ⇒ EAD = 100,000 + 0.40 × 50,000 = 120,000.00; PD(12m) 2 %; LGD 45 % (default, unsecured).
LOAN = {"balance": Decimal("100000.00"), "undrawn": Decimal("50000.00"),
        "pd_12m": Decimal("0.02")}


@pytest.mark.parametrize(("stage", "months", "pd", "ecl"), [
    (Stage.PERFORMING, 36, "0.02", "1080.00"),          # 0.02 × 0.45 × 120000
    (Stage.UNDERPERFORMING, 36, "0.058808", "3175.63"),  # 1 − 0.98³; × 54000 = 3175.632
    (Stage.IMPAIRED, 36, "1", "54000.00"),
])
def test_hand_computed_ecl_by_stage(stage: Stage, months: int, pd: str, ecl: str) -> None:
    result = expected_credit_loss(stage=stage, remaining_months=months, **LOAN)
    assert result.ead == Decimal("120000.00")
    assert result.lgd == Decimal("0.45") and result.ccf == Decimal("0.40")
    assert result.pd == Decimal(pd)
    assert result.ecl == Decimal(ecl)


def test_collateral_lgd_and_a_short_remaining_term() -> None:
    secured = expected_credit_loss(stage=Stage.UNDERPERFORMING, remaining_months=24,
                                   collateral="real_estate", **LOAN)
    assert secured.lgd == Decimal("0.35")
    assert secured.ecl == Decimal("1663.20")  # (1 − 0.98²) × 0.35 × 120000
    short = expected_credit_loss(stage=Stage.PERFORMING, remaining_months=6, **LOAN)
    assert short.ecl == Decimal("542.73")  # (1 − √0.98) × 0.45 × 120000 = 542.727…
    assert stage_pd(Stage.PERFORMING, "0.02", 6) <= stage_pd(Stage.UNDERPERFORMING, "0.02", 6)


def test_rounding_is_half_up_to_the_fen() -> None:
    result = expected_credit_loss(stage=Stage.PERFORMING, balance="0.02", pd_12m="0.5",
                                  lgd="0.5", remaining_months=12)
    assert result.ecl == Decimal("0.01")  # 0.005 rounds up, not to even


def test_explicit_parameters_and_product_defaults() -> None:
    card = expected_credit_loss(stage=Stage.PERFORMING, balance="1000", undrawn="9000",
                                pd_12m="0.1", remaining_months=12, product="credit_card")
    assert (card.ccf, card.lgd, card.ead, card.ecl) == (
        Decimal("0.10"), Decimal("0.60"), Decimal("1900.00"), Decimal("114.00"))
    given = expected_credit_loss(stage=Stage.PERFORMING, balance="1000", pd_12m="0.1",
                                 lgd="0.2", ccf="1", undrawn="1000", remaining_months=12)
    assert given.ecl == Decimal("40.00")


def test_lifetime_pd_simplification() -> None:
    assert lifetime_pd("0.1", 12) == Decimal("0.1")
    assert lifetime_pd("0.1", 24) == Decimal("0.19")
    assert lifetime_pd("1", 5) == 1
    assert lifetime_pd("0.1", 0) == lifetime_pd("0.1", 1)  # at maturity: one month of risk


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"pd_12m": "1.2"}, ValueError, "pd_12m must be between 0 and 1"),
    ({"pd_12m": 0.02}, TypeError, "not float"),
    ({"lgd": "-0.1"}, ValueError, "lgd must be between 0 and 1"),
    ({"balance": "-5"}, ValueError, "must be ≥ 0"),
    ({"collateral": "gold"}, ValueError, "unknown collateral type 'gold'"),
])
def test_bad_parameters_are_refused(kwargs: dict, error: type, message: str) -> None:
    facts = {**LOAN, "stage": Stage.PERFORMING, "remaining_months": 12, **kwargs}
    with pytest.raises(error, match=message):
        expected_credit_loss(**facts)
