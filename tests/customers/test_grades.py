"""The maintenance-grade pack: value points at their thresholds, the value bands, the risk
level's order of evidence, every cell of the value × risk matrix with its strategy, and a
pack that would store unexplained words is refused."""

from __future__ import annotations

from typing import Any

import pytest
from tests.customers.pack_support import decide

from xiaowei.customers.customer_pack import PACK_FILE, default_pack
from xiaowei.customers.grades import Grade, ManagerTier, check_pack, explain
from xiaowei.engine.strategy import load_pack_text


@pytest.mark.parametrize(("inputs", "component", "points"), [
    ({"rel__balance": 5_000_000.0}, "balance", 25),
    ({"rel__balance": 4_999_999.99}, "balance", 20),
    ({"rel__balance": 1_000_000.0}, "balance", 20),
    ({"rel__balance": 999_999.99}, "balance", 14),
    ({"rel__balance": 0.01}, "balance", 4),
    ({"tag__deposit_balance_avg_6m": 1_000_000.0}, "deposits", 25),
    ({"tag__deposit_balance_avg_6m": 199_999.0}, "deposits", 10),
    ({"tag__deposit_balance_avg_6m": 10_000.0}, "deposits", 5),
    ({"tag__deposit_balance_avg_6m": 9_999.0}, "deposits", 0),
    ({"rel__products_held": 4}, "products", 15),
    ({"rel__products_held": 3}, "products", 11),
    ({"rel__products_held": 1}, "products", 3),
    ({"tag__account_inflow_trend_6m": 1.2}, "growth", 15),
    ({"tag__account_inflow_trend_6m": 1.19}, "growth", 10),
    ({"tag__account_inflow_trend_6m": 0.79}, "growth", 0),
    ({"tag__tax_sales_trend_12m": 1.3}, "growth", 15),  # no settlement trend: tax sales
    ({"tag__account_inflow_trend_6m": 0.9, "tag__tax_sales_trend_12m": 1.3}, "growth", 2),
])
def test_value_points_at_their_thresholds(inputs: dict[str, Any], component: str,
                                          points: int) -> None:
    assert decide(**inputs)[f"points.{component}"] == points


def test_contribution_is_margin_plus_deposit_spread_plus_fees() -> None:
    out = decide(rel__balance=1_000_000.0, rel__loan_rate=0.045,
                 tag__deposit_balance_avg_6m=200_000.0, tag__account_inflow_12m=10_000_000.0)
    # 1M × (4.5% − 2.5%) + 200k × 1.5% + 10M × 0.03%
    assert out["value.contribution"] == pytest.approx(20_000 + 3_000 + 3_000)
    assert out["points.contribution"] == 9
    below_ftp = decide(rel__balance=1_000_000.0, rel__loan_rate=0.02)
    assert below_ftp["value.contribution"] == 0  # a loan priced below FTP earns no margin


@pytest.mark.parametrize(("inputs", "score", "band"), [
    ({"rel__balance": 1_000_000.0, "tag__deposit_balance_avg_6m": 200_000.0,
      "rel__products_held": 3, "tag__account_inflow_trend_6m": 0.8}, 55, "high"),
    ({"rel__balance": 1_000_000.0, "tag__deposit_balance_avg_6m": 200_000.0,
      "rel__products_held": 3}, 53, "mid"),
    ({"rel__balance": 5_000_000.0, "tag__deposit_balance_avg_6m": 10_000.0}, 30, "mid"),
    ({"rel__balance": 300_000.0, "rel__products_held": 4}, 29, "low"),
])
def test_value_bands_at_their_edges(inputs: dict[str, Any], score: int, band: str) -> None:
    out = decide(**inputs)
    assert (out["value.score"], out["value.band"]) == (score, band)


BANDS = {"high": {"rel__balance": 5_000_000.0, "rel__loan_rate": 0.05,
                  "tag__deposit_balance_avg_6m": 1_000_000.0, "rel__products_held": 4},
         "mid": {"rel__balance": 5_000_000.0, "tag__deposit_balance_avg_6m": 10_000.0},
         "low": {}}
RISKS = {"low": {}, "medium": {"tag__bureau_overdue_now": 1},
         "high": {"tag__enforcements_36m": 1}, "critical": {"tag__dishonest_debtor": 1}}
MATRIX = {("high", "low"): "A", ("high", "medium"): "B", ("high", "high"): "C",
          ("high", "critical"): "D", ("mid", "low"): "B", ("mid", "medium"): "B",
          ("mid", "high"): "C", ("mid", "critical"): "D", ("low", "low"): "C",
          ("low", "medium"): "C", ("low", "high"): "D", ("low", "critical"): "D"}
STRATEGY = {"A": (30, "senior", "premium", 50), "B": (90, "intermediate", "standard_plus", 30),
            "C": (365, "junior", "standard", 10), "D": (0, "senior", "risk_control", 0)}


@pytest.mark.parametrize(("band", "risk"), sorted(MATRIX))
def test_every_cell_of_the_matrix_and_its_strategy(band: str, risk: str) -> None:
    out = decide(**BANDS[band], **RISKS[risk])
    assert (out["value.band"], out["risk.level"]) == (band, risk)
    grade = MATRIX[(band, risk)]
    assert out["outcome"] == out["grade"] == grade
    assert out["reasons"] == [f"CG_{grade}"]
    assert (out["maintain.visit_every_days"], out["maintain.manager_tier"],
            out["maintain.service_package"], out["maintain.pricing_latitude_bp"]) == \
        STRATEGY[grade]


@pytest.mark.parametrize(("inputs", "level", "basis"), [
    # a monitored borrower: the post-loan stratum outranks the bureau and court tags
    ({"risk__stratum": "low", "tag__bureau_overdue_now": 2, "tag__court_cases_defendant_12m": 1},
     "low", "RK_PL_LOW"),
    ({"risk__stratum": "critical"}, "critical", "RK_PL_CRITICAL"),
    # …but not arrears or a warning worse than its stratum says
    ({"risk__stratum": "low", "rel__dpd": 91}, "critical", "RK_DPD90"),
    ({"risk__stratum": "medium", "risk__warning_level": 2}, "high", "RK_ORANGE"),
    ({"rel__dpd": 31}, "high", "RK_DPD30"),
    ({"rel__dpd": 30}, "medium", "RK_DPD"),
    ({"risk__warning_level": 3}, "critical", "RK_RED"),
    ({"tag__max_days_late_12m": 31}, "medium", "RK_LATE"),
    ({"tag__max_days_late_12m": 30}, "low", "RK_NONE"),
    ({"tag__abnormal_listed_now": 1}, "medium", "RK_ABNORMAL"),
])
def test_the_risk_level_and_its_basis(inputs: dict[str, Any], level: str, basis: str) -> None:
    out = decide(**inputs)
    assert (out["risk.level"], out["risk.basis"]) == (level, basis)


def test_explain_names_the_cell_the_points_and_the_strategy() -> None:
    row = {"grade": "B", "value_score": 40.0, "value_band": "mid", "points_balance": 20,
           "points_deposits": 10, "points_contribution": 4, "points_products": 3,
           "points_growth": 3, "risk_level": "medium", "risk_source": "tags",
           "reasons": ["CG_B", "RK_BUREAU"], "visit_every_days": 90,
           "manager_tier": "intermediate", "service_package": "standard_plus",
           "pricing_latitude_bp": 30}
    doc = explain(row, default_pack())
    assert doc["grade_zh"] == Grade.B.zh and doc["points"]["balance"] == 20
    assert [r["code"] for r in doc["reasons"]] == ["CG_B", "RK_BUREAU"]
    assert doc["reasons"][1]["zh"] == "征信当前逾期"
    assert ManagerTier(doc["strategy"]["manager_tier"]).risk_tier == 2


def test_a_pack_with_an_undeclared_risk_basis_is_refused() -> None:
    text = PACK_FILE.read_text("utf-8").replace("risk.basis: \"'RK_NONE'\"",
                                                "risk.basis: \"'RK_MYSTERY'\"")
    with pytest.raises(ValueError, match="RK_MYSTERY"):
        check_pack(load_pack_text(text, "edited.yaml"))
    renamed = PACK_FILE.read_text("utf-8").replace("order: [D, C, B, A]",
                                                   "order: [D, C, B, AAA]").replace(
        "default: A", "default: AAA").replace("action: A,", "action: AAA,")
    with pytest.raises(ValueError, match="outcomes must be the grades"):
        check_pack(load_pack_text(renamed, "renamed.yaml"))


def test_a_pack_writing_an_unknown_word_is_refused() -> None:
    text = PACK_FILE.read_text("utf-8").replace("maintain.manager_tier: \"'junior'\"",
                                                "maintain.manager_tier: \"'apprentice'\"")
    with pytest.raises(ValueError, match="apprentice"):
        check_pack(load_pack_text(text, "edited.yaml"))
    text = PACK_FILE.read_text("utf-8").replace("lifecycle.stage: \"'dormant'\"",
                                                "lifecycle.stage: \"'sleepy'\"")
    with pytest.raises(ValueError, match="sleepy"):
        check_pack(load_pack_text(text, "edited.yaml"))
    check_pack(load_pack_text(PACK_FILE.read_text("utf-8"), "as-shipped.yaml"))
