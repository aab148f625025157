"""The digital operation's plan for the simulator's comparison: month by month, within the
capacity, no offer repeated too soon, each maturing loan acted on once — and point in time:
a bank cut after a month-end plans that month exactly as the whole bank does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.customers.value_support import cut_bank
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.offer_rules import PRODUCTS, RETENTION_ACTIONS
from xiaowei.customers.operation_plan import digital_plan, plan_notes
from xiaowei.store.analytic import AnalyticStore

OCT, NOV = dt.date(2025, 10, 31), dt.date(2025, 11, 30)


@pytest.fixture(scope="module")
def plans(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, Any]:
    whole = copy_bank(pipeline_bank, tmp_path_factory.mktemp("plan-whole"))
    cut = copy_bank(pipeline_bank, tmp_path_factory.mktemp("plan-cut"))
    cut_bank(cut, OCT)
    with AnalyticStore(whole, read_only=True) as analytic:
        full = digital_plan(analytic, dt.date(2025, 10, 1), NOV, offer_capacity=6,
                            model_months=4)
    with AnalyticStore(cut, read_only=True) as analytic:
        early = digital_plan(analytic, dt.date(2025, 10, 1), OCT, offer_capacity=6,
                             model_months=4)
        with pytest.raises(ValueError, match="after the data"):
            digital_plan(analytic, dt.date(2025, 10, 1), NOV, propensity=None, churn=None)
    return {"full": full, "early": early, "cut": cut}


def test_the_plan_is_monthly_within_capacity(plans) -> None:
    offers, retention = plans["full"]
    assert offers.column_names == ["party_id", "product", "offered_on", "score"]
    assert retention.column_names == ["loan_id", "party_id", "action", "acted_on",
                                      "churn_risk"]
    rows = offers.to_pylist()
    for month in (OCT, NOV):
        chosen = [r for r in rows if r["offered_on"] == month]
        assert 0 < len(chosen) <= 6 and len({r["party_id"] for r in chosen}) == len(chosen)
        assert [r["score"] for r in chosen] == sorted((r["score"] for r in chosen),
                                                      reverse=True)
    assert {r["product"] for r in rows} <= set(PRODUCTS)
    pairs = [(r["party_id"], r["product"]) for r in rows]
    assert len(pairs) == len(set(pairs))  # nothing offered twice within six months
    acted = retention.to_pylist()
    assert acted and len({r["loan_id"] for r in acted}) == len(acted)
    assert {r["action"] for r in acted} <= set(RETENTION_ACTIONS)
    assert {r["acted_on"] for r in acted} <= {OCT, NOV}
    notes = plan_notes(offers)
    assert notes["prescreen"] == "admission_only" and notes["propensity"]
    assert notes["churn"] and "window" in notes


def test_a_month_is_planned_only_from_what_was_known_then(plans) -> None:
    offers, retention = plans["full"]
    early_offers, early_retention = plans["early"]
    october = [r for r in offers.to_pylist() if r["offered_on"] == OCT]
    assert early_offers.to_pylist() == october
    assert early_retention.to_pylist() == [r for r in retention.to_pylist()
                                           if r["acted_on"] == OCT]
    for key in ("propensity", "churn", "prescreen"):  # models fitted as of October too
        assert plan_notes(early_offers)[key] == plan_notes(offers)[key]


def test_capacity_arguments_are_checked(plans) -> None:
    with AnalyticStore(Path(plans["cut"]), read_only=True) as analytic:
        with pytest.raises(ValueError, match="offer_capacity"):
            digital_plan(analytic, OCT, OCT, offer_capacity=-1)
        with pytest.raises(ValueError, match="retention_capacity"):
            digital_plan(analytic, OCT, OCT, retention_capacity=1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="propensity"):
            digital_plan(analytic, OCT, OCT, propensity="latest")
        offers, retention = digital_plan(analytic, OCT, OCT, offer_capacity=0,
                                         retention_capacity=2, propensity=None, churn=None)
        assert offers.num_rows == 0 and retention.num_rows <= 2
        assert plan_notes(retention)["churn"].startswith("none")
        borrowers, _ = digital_plan(analytic, OCT, OCT, offer_capacity=50, propensity=None,
                                    churn=None, borrowers_only=True)
        had_loans = {r[0] for r in analytic.connection.execute(
            "SELECT party_id FROM gov.loan WHERE start_date <= ?", [OCT]).fetchall()}
    assert borrowers.num_rows and set(borrowers["party_id"].to_pylist()) <= had_loans


def test_a_running_operation_acts_on_loans_maturing_early_in_the_window(plans) -> None:
    """With a warm-up, loans maturing in the window's first weeks were acted on before it
    (when they entered their 90-day window); offers still start on the window's first day."""
    with AnalyticStore(Path(plans["cut"]), read_only=True) as analytic:
        with pytest.raises(ValueError, match="warm_up_months"):
            digital_plan(analytic, OCT, OCT, warm_up_months=-1)
        cold_o, cold_r = digital_plan(analytic, OCT, OCT, offer_capacity=50, propensity=None,
                                      churn=None)
        warm_o, warm_r = digital_plan(analytic, OCT, OCT, offer_capacity=50, propensity=None,
                                      churn=None, warm_up_months=2)
    assert min(warm_o["offered_on"].to_pylist()) >= dt.date(2025, 10, 1)
    assert warm_o.num_rows == cold_o.num_rows
    before = [d for d in warm_r["acted_on"].to_pylist() if d < dt.date(2025, 10, 1)]
    assert before and warm_r.num_rows > cold_r.num_rows
    assert plan_notes(warm_r)["window"].count('"warm_up_months": 2') == 1


def test_the_contact_policy_floor_drops_offers_rated_below_it() -> None:
    """Each customer's best offer, unless the propensity model rates it below the floor (an
    offer without a propensity is kept: no model, no floor)."""
    from types import SimpleNamespace

    import pyarrow as pa

    from xiaowei.customers.operation_plan import _pick_offers

    book = SimpleNamespace(offers=pa.table({
        "party_id": ["P1", "P1", "P2", "P3"],
        "product": ["payroll_service", "wealth_management", "cash_management", "invoice_credit"],
        "propensity": [0.02, 0.30, 0.01, None], "score": [9.0, 5.0, 8.0, 7.0]}))
    day = dt.date(2025, 6, 30)
    assert {p for p, _, _ in _pick_offers(book, day, {}, 10, 6)} == {"P1", "P2", "P3"}
    kept = _pick_offers(book, day, {}, 10, 6, min_propensity=0.05)
    assert [(p, product) for p, product, _ in kept] == [("P3", "invoice_credit"),
                                                        ("P1", "wealth_management")]
