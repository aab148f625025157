"""KPI formulas on small hand-made decision tables, with exact numbers.

The packaged capacity table is used as it is (390 approver minutes a day; 40 / 15 / 0 reviewer
minutes for human / human_assisted / automatic; DD hours 0 / 1.5 / 6 / 12; inspections 0.25
off-site, 1.5 on-site; visits 1.0; collection actions 0.75; servicing 1.0 a customer-year;
1,600 customer hours a manager-year). A change to the table must show up here.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from xiaowei.origination.capacity import Capacity, capacity_from_text, load_capacity
from xiaowei.origination.kpis import Decision, process_kpis

CAP = load_capacity()


def _traditional() -> list[Decision]:
    std = {"process": "traditional", "mode": "human", "dd_level": "standard",
           "onsite_per_year": 4.0}
    return [
        Decision(outcome="approve", term_months=12, booked=True, defaulted_12m=False, **std),
        Decision(outcome="approve", term_months=24, booked=True, defaulted_12m=True,
                 collection_actions=8, loss=Decimal("100000.50"), **std),
        Decision(outcome="reject", **std),
        Decision(outcome="approve", term_months=12, booked=True, defaulted_12m=None, **std),
    ]


def _digital() -> list[Decision]:
    d = "digital"
    return [
        Decision(d, "approve", "automatic", "none", offsite_per_year=4, booked=True,
                 defaulted_12m=False),
        Decision(d, "approve", "human_assisted", "light", offsite_per_year=2,
                 onsite_per_year=1, maintenance_per_year=1),
        Decision(d, "reject", "automatic", "none"),
        Decision(d, "review", "human_assisted", "light"),
    ]


def test_traditional_table_exact() -> None:
    k = process_kpis(_traditional(), CAP, 20)
    # 20 approvers × 390 min × 3 approvals ÷ (4 cases × 40 min)
    assert k.approvals_per_day == pytest.approx(146.25)
    assert k.auto_decision_share == 0.0
    assert k.approval_rate == 0.75
    # 4 customer-years: DD 4×6 h, on-site 16×1.5 h, collection 8×0.75 h → 6 + 6 + 1.5 + 1
    assert k.hours_breakdown == pytest.approx({
        "due_diligence": 6.0, "onsite_inspections": 6.0, "offsite_inspections": 0.0,
        "maintenance_visits": 0.0, "collection": 1.5, "servicing": 1.0})
    assert k.hours_per_customer_year == pytest.approx(14.5)
    assert k.customers_per_manager == pytest.approx(1600 / 14.5)
    assert (k.observed_loans_12m, k.defaults_12m, k.bad_rate_12m) == (2, 1, 0.5)
    assert k.loss == Decimal("100000.50")
    assert k.reviewer_minutes_per_application == 40.0


def test_digital_table_exact() -> None:
    k = process_kpis(_digital(), CAP, 20)
    # 20 × 390 × 2 approvals ÷ (0 + 15 + 0 + 15 minutes); the review counts as not approved
    assert k.approvals_per_day == pytest.approx(520.0)
    assert k.auto_decision_share == 0.5
    assert k.approval_rate == 0.5
    # 2 customer-years: DD 3 h, off-site 6×0.25, on-site 1×1.5, one visit 1.0, servicing 1
    assert k.hours_per_customer_year == pytest.approx(1.5 + 0.75 + 0.75 + 0.5 + 1.0)
    assert k.customers_per_manager == pytest.approx(1600 / 4.5)
    assert (k.observed_loans_12m, k.bad_rate_12m, k.loss) == (1, 0.0, Decimal(0))


def test_json_shape_is_the_issues() -> None:
    doc = process_kpis(_traditional(), CAP, 20).to_json()
    assert list(doc)[:6] == ["approvals_per_day", "auto_decision_share",
                             "customers_per_manager", "approval_rate", "bad_rate_12m", "loss"]
    assert doc["loss"] == 100001 and isinstance(doc["loss"], int)  # whole CNY, half up
    assert doc["customers_per_manager"] == 110.3
    json.dumps(doc)


def test_unbounded_and_empty_cases() -> None:
    auto = [Decision("digital", "approve", "automatic", "none")]
    k = process_kpis(auto, CAP, 20)
    assert k.approvals_per_day is None  # no person decides: approvers do not bound it
    assert k.customers_per_manager == pytest.approx(1600 / 1.0)
    none = process_kpis([Decision("digital", "reject", "human", "standard")], CAP, 20)
    assert none.approvals_per_day == 0.0
    assert none.customers_per_manager is None and none.bad_rate_12m is None


def test_headcount_scales_approvals_only() -> None:
    k10, k20 = (process_kpis(_traditional(), CAP, n) for n in (10, 20))
    assert k20.approvals_per_day == pytest.approx(2 * (k10.approvals_per_day or 0))
    assert k20.customers_per_manager == k10.customers_per_manager


def test_one_capacity_table_for_both_processes() -> None:
    """Decisions move a process's KPIs; the table is shared and knows no process."""
    trad = process_kpis(_traditional(), CAP, 20)
    relabelled = [Decision(**{**d.__dict__, "process": "digital"}) for d in _traditional()]
    same = process_kpis(relabelled, CAP, 20)
    assert same.to_json()["detail"] | {"process": "x"} == trad.to_json()["detail"] | {
        "process": "x"}
    assert {k: v for k, v in same.to_json().items() if k != "detail"} == {
        k: v for k, v in trad.to_json().items() if k != "detail"}
    # Changing the decisions (two cases now go with machine support) changes the KPIs …
    changed = [Decision(**{**d.__dict__, "mode": "human_assisted"}) if i < 2 else d
               for i, d in enumerate(_traditional())]
    moved = process_kpis(changed, CAP, 20)
    assert moved.approvals_per_day == pytest.approx(20 * 390 * 3 / (15 + 15 + 40 + 40))
    assert moved.approvals_per_day != trad.approvals_per_day
    # … and changing the one table moves both processes alike.
    text = _packaged().replace("    value: 40\n", "    value: 60\n", 1)
    slower: Capacity = capacity_from_text(text)
    assert process_kpis(_traditional(), slower, 20).approvals_per_day == pytest.approx(
        20 * 390 * 3 / 240)
    assert process_kpis(changed, slower, 20).approvals_per_day == pytest.approx(
        20 * 390 * 3 / (15 + 15 + 60 + 60))
    assert process_kpis(_digital(), slower, 20).approvals_per_day == pytest.approx(520.0)


def _packaged() -> str:
    from importlib import resources

    return resources.files("xiaowei.origination").joinpath("capacity.yaml").read_text("utf-8")


@pytest.mark.parametrize(("rows", "message"), [
    ([], "no decisions"),
    (_traditional() + _digital(), "one process per call"),
    ([Decision("digital", "review", "automatic", "none")], "decided by a person"),
    ([Decision("digital", "reject", "human", "standard", booked=True)], "only an approved"),
    ([Decision("digital", "approve", "robot", "none")], "mode 'robot'"),
    ([Decision("digital", "approve", "human", "thorough")], "dd_level 'thorough'"),
    ([Decision("digital", "maybe", "human", "none")], "outcome 'maybe'"),  # type: ignore[arg-type]
    ([Decision("digital", "approve", "human", "none", defaulted_12m=True)], "booked loans"),
    ([Decision("digital", "approve", "human", "none", term_months=0)], "term_months"),
])
def test_bad_tables_are_refused(rows: list[Decision], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        process_kpis(rows, CAP, 20)


def test_approvers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="approvers"):
        process_kpis(_traditional(), CAP, 0)
