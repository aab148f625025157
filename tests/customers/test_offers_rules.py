"""The offers pack's rules at their boundaries, the reasons they give, and the ranking
eligibility × propensity × value on a hand-built customer (no bank needed)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.customers.value_support import firm_inputs

from xiaowei.customers.offer_rules import PRODUCTS, offers_pack, reason_texts
from xiaowei.customers.offers import customer_decision
from xiaowei.engine.strategy import Decider


@pytest.fixture(scope="module")
def decider() -> Decider:
    return Decider(offers_pack())


def decide(decider: Decider, propensity: float = float("nan"), **changes: Any
           ) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], bool]:
    offers, refused, gated = customer_decision(decider, firm_inputs(**changes), propensity)
    return ({o["product"]: o for o in offers}, {r["product"]: r["reasons"] for r in refused},
            gated)


def test_a_good_firm_gets_every_product_ranked_by_value(decider: Decider) -> None:
    offers, refused, gated = decide(decider)
    assert not gated and not refused and set(offers) == set(PRODUCTS)
    # outflows 12M / 12 × 0.95 = 950k a month; idle = 500k − 0.3 × 950k; room 1M
    assert offers["payroll_service"]["value_yuan"] == pytest.approx(950_000 * 0.3 * 12 * 0.003)
    assert offers["wealth_management"]["value_yuan"] == pytest.approx(215_000 * 0.008)
    assert offers["invoice_credit"]["limit_yuan"] == 500_000  # room × 0.5, down to 10k
    assert offers["invoice_credit"]["value_yuan"] == pytest.approx(500_000 * 0.6 * 0.025)
    assert offers["supply_chain_finance"]["limit_yuan"] == 400_000
    assert offers["cash_management"]["value_yuan"] == pytest.approx(12_000_000 * 0.0005)
    order = sorted(offers.values(), key=lambda o: o["rank"])
    assert [o["product"] for o in order] == ["payroll_service", "invoice_credit",
                                             "cash_management", "supply_chain_finance",
                                             "wealth_management"]
    assert all(o["propensity"] is None and o["score"] == o["value_yuan"] for o in order)
    assert "PW01" in offers["payroll_service"]["reasons"]
    assert {"IW01", "IW02"} <= set(offers["invoice_credit"]["reasons"])


def test_propensity_scales_the_score_and_ranks_within_the_eligible(decider: Decider) -> None:
    offers, _, _ = decide(decider, propensity=0.25, tax_credit_grade="C")
    assert "invoice_credit" not in offers  # not eligible: never ranked, whatever its value
    assert all(o["score"] == pytest.approx(0.25 * o["value_yuan"], abs=1e-3)
               for o in offers.values())
    assert [o["rank"] for o in sorted(offers.values(), key=lambda o: -o["score"])] == \
        [1, 2, 3, 4]


@pytest.mark.parametrize(("employees", "eligible"), [(10.0, True), (9.0, False)])
def test_payroll_needs_ten_staff_or_regular_outflows(decider: Decider, employees: float,
                                                     eligible: bool) -> None:
    offers, refused, _ = decide(decider, declared_employees=employees, transactions_12m=100.0)
    assert ("payroll_service" in offers) is eligible
    if not eligible:
        assert refused["payroll_service"] == ["PY02"]


@pytest.mark.parametrize(("deposit", "eligible"), [(225_000.0, True), (224_999.0, False)])
def test_wealth_needs_deposits_of_045_months_of_outflows(decider: Decider, deposit: float,
                                                          eligible: bool) -> None:
    # outflows 12M / 12 × 0.5 = 500k a month: 225k is exactly 0.45 months
    offers, refused, _ = decide(decider, account_passthrough_ratio_6m=0.5,
                                deposit_balance_avg_6m=deposit)
    assert ("wealth_management" in offers) is eligible
    if not eligible:
        assert refused["wealth_management"] == ["WM02"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"invoice_amount_trend_3m": 1.0999}, "IC02"),
    ({"tax_credit_grade": "M"}, "IC01"),
    ({"tax_credit_grade": None}, "IC01"),
    ({"invoice_active_months_12m": 9.0}, "IC03"),
    ({"room": 19_999.0}, "IC04"),
    ({"warn": 1}, "IC05"),
])
def test_invoice_credit_refusals(decider: Decider, changes: dict[str, Any], code: str) -> None:
    offers, refused, gated = decide(decider, **changes)
    assert not gated and "invoice_credit" not in offers
    assert code in refused["invoice_credit"]


def test_invoice_credit_boundaries_accept(decider: Decider) -> None:
    offers, _, _ = decide(decider, invoice_amount_trend_3m=1.1, tax_credit_grade="B",
                          invoice_active_months_12m=10.0, room=20_000.0)
    assert offers["invoice_credit"]["limit_yuan"] == 10_000
    held, _, _ = decide(decider, held=("invoice_credit",))
    assert "IW03" in held["invoice_credit"]["reasons"]  # a limit increase, not refused


@pytest.mark.parametrize(("changes", "code"), [
    ({"supply_chain_role": "none"}, "SF01"), ({"anchor_tax_grade": "C"}, "SF02"),
    ({"held": ("supply_chain_finance",)}, "SF03"), ({"years_in_business": 0.9}, "SF04"),
    ({"room": 24_999.0}, "SF05"), ({"warn": 1}, "SF06"),
])
def test_supply_chain_refusals(decider: Decider, changes: dict[str, Any], code: str) -> None:
    _, refused, _ = decide(decider, **changes)
    assert code in refused["supply_chain_finance"]


def test_cash_management_and_held_products(decider: Decider) -> None:
    _, refused, _ = decide(decider, transactions_12m=499.0, account_inflow_12m=4_999_999.0)
    assert "CM02" in refused["cash_management"]
    _, refused, _ = decide(decider, settlement_share_of_sales_12m=0.49, has_basic_account=False)
    assert refused["cash_management"] == ["CM03"]
    _, refused, _ = decide(decider, held=("payroll_service", "wealth_management",
                                          "cash_management"))
    assert refused["payroll_service"] == ["PY01"] and "WM01" in refused["wealth_management"]
    assert refused["cash_management"] == ["CM01"]
    _, refused, _ = decide(decider, party_type="business_owner")
    assert "PY04" in refused["payroll_service"] and "CM04" in refused["cash_management"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"days_past_due": 1.0}, "RK02"), ({"max_days_late_12m": 31.0}, "RK03"),
    ({"warn": 2}, "RK04"), ({"klass": 1}, "RK05"), ({"dishonest_debtor": True}, "RK06"),
    ({"abnormal_listed_now": True}, "RK06"), ({"party_type": None}, "RK01"),
    ({"account_count": 0.0, "loans_total": 0.0}, "RK00"),
])
def test_the_risk_gate_refuses_every_product(decider: Decider, changes: dict[str, Any],
                                             code: str) -> None:
    offers, refused, gated = decide(decider, **changes)
    assert gated and not offers and set(refused) == set(PRODUCTS)
    assert all(code in codes for codes in refused.values())
    zh, en = reason_texts(offers_pack())[code]
    assert zh and en


@pytest.mark.parametrize("changes", [{"max_days_late_12m": 30.0}, {"warn": 1}, {"klass": None},
                                     {"days_past_due": 0.0}])
def test_the_risk_gate_lets_boundary_cases_through(decider: Decider,
                                                   changes: dict[str, Any]) -> None:
    offers, _, gated = decide(decider, **changes)
    assert not gated and "payroll_service" in offers
