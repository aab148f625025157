"""The customer-operations comparison on the tiny bank: one book for both sides, seeded random
targeting, plans scored by the response model, the machine-readable keys other tools rely on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xiaowei.cli import demo_operations
from xiaowei.cli.demo_operations import render_operations, run_operations, stand_in_plan
from xiaowei.cli.output import out
from xiaowei.customers.operations_comparison import (
    OFFER_SCHEMA,
    RETENTION_SCHEMA,
    compare_operations,
    empty_plan,
    load_book,
    operations_window,
    random_offers,
)
from xiaowei.sim.customer_response import (
    CHURN_GAP_DAYS,
    PRODUCTS,
    CustomerResponse,
    governed_parties,
    maturities,
)
from xiaowei.store.analytic import AnalyticStore

FOUR = {"good_churn_at_maturity", "offer_conversion", "random_conversion", "balance_per_manager"}


@pytest.fixture(scope="module")
def bank(pipeline_bank: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with AnalyticStore(pipeline_bank["analytic"], read_only=True) as analytic:
        dataset = Path(pipeline_bank["root"]) / "ds"
        first, last = operations_window(analytic)
        yield {"analytic": analytic, "dataset": dataset, "first": first, "last": last,
               "response": CustomerResponse.from_dataset(dataset),
               "index": governed_parties(analytic.connection, dataset),
               "book": load_book(analytic.connection, first, last)}


def oracle_offers(bank: dict[str, Any]) -> pa.Table:
    """A perfect-need plan: every customer, every product it truly needs, on the first day."""
    rows: dict[str, list[Any]] = {k: [] for k in OFFER_SCHEMA.names}
    response: CustomerResponse = bank["response"]
    for party in bank["book"].customers:
        idx = bank["index"].get(party)
        if idx is None:
            continue
        for product in PRODUCTS:
            if response.needs(product, [idx])[0]:
                rows["party_id"].append(party)
                rows["product"].append(product)
                rows["offered_on"].append(bank["first"])
    return pa.table(rows, schema=OFFER_SCHEMA)


def retain_everyone(bank: dict[str, Any], action: str, lead: int) -> pa.Table:
    m = maturities(bank["analytic"].connection, bank["response"], bank["index"], bank["first"],
                   bank["last"])
    days = [dt.date.fromisoformat(str(d)) - dt.timedelta(days=lead) for d in m.maturity]
    return pa.table({"loan_id": list(m.loan_id), "party_id": list(m.party_id),
                     "action": [action] * len(m), "acted_on": days}, schema=RETENTION_SCHEMA)


@pytest.fixture(scope="module")
def empty(bank: dict[str, Any]) -> Any:
    return compare_operations(bank["analytic"], bank["dataset"], *empty_plan())


@pytest.fixture(scope="module")
def oracle(bank: dict[str, Any]) -> Any:
    return compare_operations(bank["analytic"], bank["dataset"], oracle_offers(bank),
                              retain_everyone(bank, "preapproved_renewal", 60))


def test_the_window_is_the_last_year_with_maturities_to_judge(bank: dict[str, Any]) -> None:
    assert bank["last"] == dt.date(2025, 12, 31)
    assert bank["first"] == dt.date(2025, 1, 1)
    m = maturities(bank["analytic"].connection, bank["response"], bank["index"], bank["first"],
                   bank["last"])
    assert len(m) > 10 and m.good.sum() > 5 and m.churned.any()
    assert all(bank["first"] <= dt.date.fromisoformat(str(d))
               <= bank["last"] - dt.timedelta(days=CHURN_GAP_DAYS) for d in m.maturity)
    assert not (m.rejected & ~m.churned).any()


def test_both_sides_share_one_book(empty: Any, oracle: Any) -> None:
    for result in (empty, oracle):
        d, t = result.digital.detail, result.traditional.detail
        assert d["good_matured"] == t["good_matured"] > 0
        assert d["matured_loans"] == t["matured_loans"]
        assert t["customers"] == result.book["customers_at_end"]
        assert 0 <= d["customers"] - t["customers"] <= d["retained"]
        assert t["balance"] - t["offers"]["balance_added"] == result.book["balance_at_end"]
    assert empty.book == oracle.book
    # Without retention the digital churn is the records' churn.
    assert empty.digital.good_churn_at_maturity == empty.traditional.good_churn_at_maturity
    assert oracle.traditional.good_churn_at_maturity == \
        empty.traditional.good_churn_at_maturity
    # The traditional side visits everybody alike (today's ~120 customers per manager).
    assert empty.traditional.detail["visits_per_customer_year"] == 4
    assert 90 < empty.traditional.detail["customers_per_manager"] < 150


def test_a_plan_offering_to_nobody_converts_nothing(empty: Any) -> None:
    for side in (empty.digital, empty.traditional):
        assert side.detail["offers"]["offers_made"] == 0
        assert side.detail["offers"]["conversions"] == 0
        assert side.detail["offers"]["balance_added"] == 0
        assert side.offer_conversion is None and side.random_conversion is None
    assert empty.digital.detail["retained"] == 0


def test_random_targeting_is_seeded(bank: dict[str, Any]) -> None:
    customers = bank["book"].customers
    days = [bank["first"] + dt.timedelta(days=i % 200) for i in range(300)]
    a, b, c = (random_offers(customers, days, s) for s in (5, 5, 6))
    assert a == b and a != c
    assert {p for p, _, _ in a} <= set(customers)
    assert {k for _, k, _ in a} == set(PRODUCTS)
    assert sorted(d for _, _, d in a) == sorted(days)
    offers = oracle_offers(bank)
    one = compare_operations(bank["analytic"], bank["dataset"], offers,
                             RETENTION_SCHEMA.empty_table(), seed=5)
    two = compare_operations(bank["analytic"], bank["dataset"], offers,
                             RETENTION_SCHEMA.empty_table(), seed=5)
    assert one.to_json() == two.to_json()
    assert one.book["random_seed"] == 5


def test_a_perfect_need_plan_converts_more_than_random(oracle: Any) -> None:
    d, t = oracle.digital, oracle.traditional
    assert d.detail["offers"]["offers_made"] == t.detail["offers"]["offers_made"] > 20
    assert d.detail["offers"]["offers_to_a_need"] == 1.0
    assert d.offer_conversion > 2 * d.random_conversion
    assert d.random_conversion == t.random_conversion == t.offer_conversion
    assert d.detail["offers"]["balance_added"] > 0


def test_retention_lowers_churn_only_through_would_be_churners(empty: Any, oracle: Any
                                                               ) -> None:
    d = oracle.digital.detail
    assert oracle.digital.good_churn_at_maturity < oracle.traditional.good_churn_at_maturity
    assert d["retained"] > 0
    assert d["retained"] <= sum(d["retention_actions_on_would_be_churners"].values())
    assert d["retained_by_action"]["preapproved_renewal"] == d["retained"]
    assert d["good_churned"] == oracle.traditional.detail["good_churned"] - d["retained_good"]
    # A retained customer is a customer more, with the renewed loan's balance.
    assert d["customers"] > empty.digital.detail["customers"]
    assert d["retained_balance"] > 0


def test_weaker_later_actions_retain_fewer(bank: dict[str, Any], oracle: Any) -> None:
    call = compare_operations(bank["analytic"], bank["dataset"], *[
        empty_plan()[0], retain_everyone(bank, "reminder_call", 10)])
    assert call.digital.detail["retained"] <= oracle.digital.detail["retained"]
    assert call.digital.good_churn_at_maturity >= oracle.digital.good_churn_at_maturity


def test_bad_plan_rows_are_refused_and_never_convert(bank: dict[str, Any]) -> None:
    customer = bank["book"].customers[0]
    offers = pa.table({"party_id": ["P-NOBODY", customer, customer],
                       "product": ["payroll_service", "gold_bars", "payroll_service"],
                       "offered_on": [bank["first"], bank["first"], dt.date(2019, 1, 1)]},
                      schema=OFFER_SCHEMA)
    retention = pa.table({"loan_id": ["LN-NONE"], "party_id": [customer],
                          "action": ["free_lunch"], "acted_on": [bank["first"]]},
                         schema=RETENTION_SCHEMA)
    result = compare_operations(bank["analytic"], bank["dataset"], offers, retention)
    offered = result.digital.detail["offers"]
    assert offered["offers_made"] == 0 and offered["conversions"] == 0
    assert offered["offers_refused"] == {"unknown_customer": 1, "unknown_product": 1,
                                         "outside_window": 1}
    assert result.digital.detail["retention_refused"]["unknown_action"] == 1


def test_json_keys_are_exactly_the_issues(oracle: Any) -> None:
    doc = oracle.to_json()
    for side in ("digital", "traditional"):
        assert set(doc[side]) == FOUR | {"detail"}
        assert all(isinstance(doc[side][k], int | float) for k in FOUR)
        assert doc[side]["detail"]["process"] == side
    assert set(doc["targets"]) == {"good_churn_at_maturity", "offer_conversion",
                                   "balance_per_manager"}
    assert all(isinstance(t["met"], bool) for t in doc["targets"].values())


def test_the_demo_runs_with_the_stand_in_plan_without_the_truth(
        bank: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parquet(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the stand-in plan must not read files (the truth is Parquet)")

    with monkeypatch.context() as mp:
        mp.setattr(pq, "read_table", no_parquet)
        mp.setattr(pq, "ParquetFile", no_parquet)
        offers, retention = stand_in_plan(bank["analytic"], bank["first"], bank["last"])
    assert offers.schema == OFFER_SCHEMA and retention.schema == RETENTION_SCHEMA
    assert offers.num_rows > 0 and retention.num_rows > 0
    assert set(offers.column("product").to_pylist()) <= set(PRODUCTS)
    doc = run_operations(bank["analytic"], bank["dataset"])
    assert doc["plan"] == demo_operations.STAND_IN
    assert set(doc["digital"]) == FOUR | {"detail"}
    again = run_operations(bank["analytic"], bank["dataset"], plan=(offers, retention))
    assert again["digital"] == doc["digital"]
    with out.capture() as captured:
        render_operations(doc)
    text = captured.get()
    assert "客户运营" in text and "balance per manager" in text


def test_the_whole_operation_basis_counts_the_digital_lending_work(bank: dict[str, Any]
                                                                   ) -> None:
    """Given the digital lending process's hours, the digital side's managers are counted from
    them (and grade visits at the maintenance-visit hours); the operations-only figure stays
    beside it, and less lending work means more balance per manager."""
    from xiaowei.customers.operations_comparison import FULL_PROCESS, LENDING_WORK

    ops = compare_operations(bank["analytic"], bank["dataset"], *empty_plan()).to_json()
    light = dict.fromkeys(LENDING_WORK, 0.5)
    heavy = dict.fromkeys(LENDING_WORK, 5.0)
    one = compare_operations(bank["analytic"], bank["dataset"], *empty_plan(),
                             digital_lending_hours=light).to_json()
    two = compare_operations(bank["analytic"], bank["dataset"], *empty_plan(),
                             digital_lending_hours=heavy).to_json()
    d1, d2 = one["digital"], two["digital"]
    assert d1["detail"]["balance_per_manager_basis"] == FULL_PROCESS
    assert ops["digital"]["detail"]["balance_per_manager_basis"] != FULL_PROCESS
    assert d1["balance_per_manager"] > d2["balance_per_manager"]
    assert d1["detail"]["balance_per_manager_operations_only"] == \
        ops["digital"]["balance_per_manager"]
    assert one["traditional"] == ops["traditional"]  # the baseline never moves
    with pytest.raises(ValueError, match="lacks"):
        compare_operations(bank["analytic"], bank["dataset"], *empty_plan(),
                           digital_lending_hours={"due_diligence": 1.0})
    with pytest.raises(ValueError, match="≥ 0"):
        compare_operations(bank["analytic"], bank["dataset"], *empty_plan(),
                           digital_lending_hours={**light, "collection": -1.0})
