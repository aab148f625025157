"""The customer response model (sim/customer_response.py): documented, deterministic, and
shaped as stated — needs follow their latent causes, a need makes an offer convert more, and a
retention action changes only would-be churners, stronger and earlier actions more."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from xiaowei.sim import customer_response as cr
from xiaowei.sim.customer_response import (
    ACCEPT_IF_NEED,
    ACCEPT_WITHOUT_NEED,
    ACTIONS,
    PRODUCTS,
    RETENTION,
    CustomerResponse,
    retention_probability,
)

REPO = Path(__file__).resolve().parents[2]
N = 20_000


def parties(n: int = N, seed: int = 3) -> pa.Table:
    """A synthetic population with the truth table's columns (spread like the simulator's)."""
    rng = np.random.default_rng(seed)
    types = np.array(["enterprise", "individual_business", "business_owner"])
    revenue = np.exp(rng.normal(np.log(300), 1.0, n))
    anchor = np.where(rng.random(n) < 0.12, rng.integers(0, 100, n), -1)
    return pa.table({
        "party_idx": np.arange(n), "party_type": types[rng.integers(0, 3, n)],
        "employees": np.maximum(1, np.round(revenue / 50 * rng.lognormal(0, 0.3, n))).astype(int),
        "revenue_wan": revenue, "quality": rng.normal(0, 1, n),
        "is_anchor": rng.random(n) < 0.005, "anchor_idx": anchor,
        "years": rng.uniform(0.5, 20, n), "default_month": np.where(rng.random(n) < 0.05,
                                                                    rng.integers(0, 48, n), -1),
        "fraud_ring": np.where(rng.random(n) < 0.01, 1, -1)})


@pytest.fixture(scope="module")
def model() -> CustomerResponse:
    return CustomerResponse(parties(), seed=11)


def test_same_seed_same_draws_and_another_seed_other_draws() -> None:
    a, b, c = (CustomerResponse(parties(), seed=s) for s in (11, 11, 12))
    idx = np.arange(N)
    day = np.full(N, 20_000)
    for product in PRODUCTS:
        assert np.array_equal(a.needs(product), b.needs(product))
        assert np.array_equal(a.accepts(product, idx, day), b.accepts(product, idx, day))
        assert not np.array_equal(a.needs(product), c.needs(product))
    maturity = np.full(N, 20_100)
    assert np.array_equal(a.retention_draw(idx, maturity), b.retention_draw(idx, maturity))
    assert not np.array_equal(a.retention_draw(idx, maturity), c.retention_draw(idx, maturity))
    # A draw belongs to (party, product, day), not to the order in which offers are asked.
    rev = idx[::-1]
    assert np.array_equal(a.accepts("payroll_service", rev, day)[::-1],
                          a.accepts("payroll_service", idx, day))


def test_every_figure_is_documented_in_the_module_and_in_docs() -> None:
    doc = cr.__doc__ or ""
    sim_doc = (REPO / "docs" / "simulator.md").read_text()
    for product in PRODUCTS:
        head = f"| {product} | {ACCEPT_IF_NEED[product]:.2f} |"
        line = next(x for x in doc.splitlines() if x.startswith(head))
        assert f"{ACCEPT_WITHOUT_NEED:.2f}" in line
        assert product in sim_doc
    for action, (early, late) in RETENTION.items():
        row = f"| {action} | {early:.2f} | {late:.2f} | 0 |"
        assert row in doc, row
        assert row in sim_doc, row
    assert re.search(r"customer response model", sim_doc, re.IGNORECASE)
    assert "never imports this module" in doc  # the truth rule, stated


def test_needs_follow_their_latent_causes(model: CustomerResponse) -> None:
    t = parties()
    emp = t.column("employees").to_numpy()
    rev = t.column("revenue_wan").to_numpy()
    q = t.column("quality").to_numpy()
    anchor = t.column("anchor_idx").to_numpy()
    p = {k: model.need_probability(k) for k in PRODUCTS}
    many, few = emp >= np.quantile(emp, 0.8), emp <= np.quantile(emp, 0.2)
    assert p["payroll_service"][many].mean() > 2 * p["payroll_service"][few].mean()
    rich = (rev > np.quantile(rev, 0.7)) & (q > 0.5)
    assert p["wealth_management"][rich].mean() > 2 * p["wealth_management"][~rich].mean()
    assert p["supply_chain_finance"][anchor >= 0].mean() > 5 * \
        p["supply_chain_finance"][anchor < 0].mean()
    large = rev > np.quantile(rev, 0.8)
    assert p["cash_management"][large].mean() > 2 * p["cash_management"][~large].mean()
    good = q > 1
    assert p["invoice_credit"][good].mean() > p["invoice_credit"][q < -1].mean()
    # Noise nobody observes: the causes alone do not decide a need.
    for product in PRODUCTS:
        need = model.needs(product)
        z = model.need_logit(product)
        assert 0.01 < need.mean() < 0.6
        low, high = z <= np.median(z), z > np.median(z)
        assert need[low].any() and (~need[high]).any()


def test_a_need_makes_an_offer_convert_more(model: CustomerResponse) -> None:
    idx = np.arange(N)
    day = np.full(N, 20_000)
    for product in PRODUCTS:
        need = model.needs(product)
        p = model.accept_probability(product, idx)
        assert np.all(p[need] == ACCEPT_IF_NEED[product])
        assert np.all(p[~need] == ACCEPT_WITHOUT_NEED)
        took = model.accepts(product, idx, day)
        assert took[need].mean() > 3 * took[~need].mean()
        assert abs(took[need].mean() - ACCEPT_IF_NEED[product]) < 0.05
        again = model.accept_probability(product, idx, repeat=True)
        assert np.allclose(again, p * cr.REPEAT_FACTOR)


def test_conversion_balances_are_positive_capped_and_documented(model: CustomerResponse) -> None:
    idx = np.arange(N)
    for product in PRODUCTS:
        value = model.conversion_balance(product, idx)
        assert np.all(value > 0) and np.all(value <= cr.BALANCE_CAP)
    with pytest.raises(ValueError, match="unknown product"):
        model.conversion_balance("gold_bars", idx)


def test_retention_changes_only_would_be_churners(model: CustomerResponse) -> None:
    n = 5_000
    idx = np.arange(n)
    maturity = np.full(n, 20_200) + idx % 30
    churned = np.arange(n) % 3 == 0
    none = np.zeros(n, bool)
    for action in ACTIONS:
        kept = model.retained(idx, maturity, churned, none, np.full(n, action, object),
                              np.full(n, 45))
        assert not kept[~churned].any()  # customers who renewed anyway: no change
        assert abs(kept[churned].mean() - RETENTION[action][0]) < 0.04
    nothing = model.retained(idx, maturity, churned, none, np.full(n, "", object),
                             np.full(n, 45))
    assert not nothing.any()


def test_stronger_and_earlier_actions_retain_more(model: CustomerResponse) -> None:
    n = 5_000
    idx = np.arange(n)
    maturity = np.full(n, 20_200)
    churned = np.ones(n, bool)
    none = np.zeros(n, bool)

    def kept(action: str, lead: int) -> np.ndarray:
        return model.retained(idx, maturity, churned, none, np.full(n, action, object),
                              np.full(n, lead))

    for lead in (60, 10):
        pre, visit, call = (kept(a, lead) for a in ACTIONS)
        # One draw per loan: whoever a weaker action keeps, a stronger one keeps too.
        assert np.all(call <= visit) and np.all(visit <= pre)
        assert pre.sum() > visit.sum() > call.sum()
    for action in ACTIONS:
        early, late, after = kept(action, 30), kept(action, 29), kept(action, -1)
        assert np.all(late <= early) and early.sum() > late.sum()
        assert not after.any()
        assert retention_probability(action, 30) > retention_probability(action, 29) > 0
    with pytest.raises(ValueError, match="unknown retention action"):
        retention_probability("free_lunch", 60)


def test_a_rejected_renewal_yields_only_to_a_preapproval(model: CustomerResponse) -> None:
    n = 3_000
    idx = np.arange(n)
    maturity = np.full(n, 20_200)
    churned = rejected = np.ones(n, bool)
    for action in ("manager_visit", "reminder_call"):
        assert not model.retained(idx, maturity, churned, rejected, np.full(n, action, object),
                                  np.full(n, 60)).any()
    pre = model.retained(idx, maturity, churned, rejected,
                         np.full(n, "preapproved_renewal", object), np.full(n, 60))
    assert abs(pre.mean() - RETENTION["preapproved_renewal"][0]) < 0.04


def test_good_customers_exclude_defaults_and_fraud(model: CustomerResponse) -> None:
    t = parties()
    good = model.is_good(np.arange(N))
    assert np.array_equal(good, (t.column("default_month").to_numpy() < 0)
                          & (t.column("fraud_ring").to_numpy() < 0))
