"""`xiaowei demo --json` carries both processes' KPIs side by side (the issue's contract), and
the post-loan and customer-operations comparisons (the session's one demo run)."""

from __future__ import annotations

import pytest

SIX = {"approvals_per_day", "auto_decision_share", "customers_per_manager", "approval_rate",
       "bad_rate_12m", "loss"}


def test_demo_json_has_digital_and_traditional_kpis(tiny_demo: dict) -> None:
    doc = tiny_demo["doc"]
    kpis = doc["kpis"]
    for side in ("digital", "traditional"):
        assert set(kpis[side]) >= SIX, side
        assert isinstance(kpis[side]["loss"], int)
        assert 0 <= kpis[side]["approval_rate"] <= 1
        assert 0 <= kpis[side]["auto_decision_share"] <= 1
    assert kpis["traditional"]["auto_decision_share"] == 0.0
    # the same applications on both sides: the evaluation window, out of time
    assert kpis["digital"]["detail"]["applications"] \
        == kpis["traditional"]["detail"]["applications"] > 0
    assert kpis["window"]["since"] <= kpis["window"]["until"]
    assert kpis["model"]["cut"] == kpis["window"]["since"]
    assert kpis["model"]["ref"].startswith("app_score@")  # registered and approved
    assert isinstance(kpis["oracle"], str) and "fraud" in kpis["oracle"]
    assert {t["met"] for t in kpis["targets"].values()} <= {True, False}
    assert set(kpis["targets"]) == {"approvals_per_day", "customers_per_manager",
                                    "bad_rate_12m", "loss_per_yuan_lent"}
    # Post-loan (issue 7 §6): both processes on the same loans, the figures the contract names.
    post = doc["postloan"]
    for side in ("digital", "traditional"):
        assert {"inspection_hours", "warned_30d_share", "median_lead_days", "loss"} \
            <= set(post[side]), side
        assert 0 <= post[side]["warned_30d_share"] <= 1 and post[side]["loss"] >= 0
    assert post["digital"]["defaults"] == post["traditional"]["defaults"]  # the same book
    assert post["traditional"]["onsite_inspections"] == pytest.approx(
        post["loan_months"] * 4 / 12, abs=0.01)  # every loan, every quarter
    assert sum(post["strata_loan_months"].values()) == post["loan_months"]
    # Customer operations (issue 8): the contract's four figures on both sides.
    ops = doc["operations"]
    for side in ("digital", "traditional"):
        assert {"good_churn_at_maturity", "offer_conversion", "random_conversion",
                "balance_per_manager"} <= set(ops[side]), side
        assert 0 <= ops[side]["good_churn_at_maturity"] <= 1
    assert ops["digital"]["random_conversion"] == ops["traditional"]["random_conversion"]
