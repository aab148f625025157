"""Workload per manager: the capacity table's figures × the counts of the hand bank."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from tests.staff.test_business_source import AS_OF, build

from xiaowei.origination.capacity import load_capacity
from xiaowei.origination.manager_matching import load_rules
from xiaowei.staff.workload import COLUMNS, manager_risk_tier, manager_workload, risk_tiers

D = dt.date


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    con = duckdb.connect()
    build(con)
    table = manager_workload(con, AS_OF)
    assert table.column_names == list(COLUMNS)
    return {r["manager_id"]: r for r in table.to_pylist()}


def test_counts_of_the_window(rows: dict[str, dict]) -> None:
    m1 = rows["M1"]
    assert m1["applications"] == 4  # A2, A3, A4, A5
    # Loan-days in (2024-06-30, 2025-06-30]: L1 to its settlement 2024-09-10 (72),
    # L2 from 2024-09-05 (298), L3 from 2024-08-10 (324).
    assert m1["loan_years"] == pytest.approx((72 + 298 + 324) / 365)
    # Not paid on the due day: L3's 10-10, 11-10 (paid after D) and 12-10; L3 turned 90
    # days past due on 2025-02-08.
    assert (m1["late_instalments"], m1["defaults"]) == (3, 1)
    # P1 (L2) and P2 (L3) have balances; P4's A5 is still open on D; P3 was rejected.
    assert m1["customers"] == 3
    assert (rows["M2"]["customers"], rows["M3"]["customers"]) == (2, 0)


def test_hours_are_the_capacity_table_times_the_counts(rows: dict[str, dict]) -> None:
    cap = load_capacity()
    practice = cap.traditional
    m1 = rows["M1"]
    dd = 4 * cap.dd_hours.standard.value
    years = (72 + 298 + 324) / 365
    inspection = years * (practice.onsite_inspections_per_year * cap.inspection_hours.onsite.value
                          + practice.offsite_inspections_per_year
                          * cap.inspection_hours.offsite.value)
    actions = (3 * practice.collection_actions_per_late_instalment
               + 1 * practice.collection_actions_per_default)
    collection = actions * cap.collection_action_hours.value
    maintenance = 3 * cap.servicing_hours_per_customer_year.value  # no visits today
    assert practice.maintenance_visits_per_year == 0
    assert m1["dd_hours"] == pytest.approx(dd) == pytest.approx(24.0)
    assert m1["inspection_hours"] == pytest.approx(inspection)
    assert m1["collection_actions"] == pytest.approx(11.0)
    assert m1["collection_hours"] == pytest.approx(collection)
    assert (m1["maintenance_basis"], m1["maintenance_hours"]) == ("traditional", maintenance)
    total = dd + inspection + collection + maintenance
    assert m1["hours"] == pytest.approx(total)
    assert m1["capacity_hours"] == pytest.approx(2000 * 0.8)
    assert m1["utilisation"] == pytest.approx(total / 1600)
    assert rows["M3"]["hours"] == 0.0 and rows["M3"]["utilisation"] == 0.0


def test_customers_against_the_target(rows: dict[str, dict]) -> None:
    target = load_rules().target_customers
    assert target == 200
    assert rows["M1"]["target_customers"] == 200
    assert rows["M1"]["target_share"] == pytest.approx(3 / 200)
    con = duckdb.connect()
    build(con)
    small = {r["manager_id"]: r for r in manager_workload(con, AS_OF,
                                                         target_customers=2).to_pylist()}
    assert small["M1"]["target_share"] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="target_customers"):
        manager_workload(con, AS_OF, target_customers=0)


def test_a_shorter_window_is_scaled_to_a_year() -> None:
    con = duckdb.connect()
    build(con)
    half = {r["manager_id"]: r for r in manager_workload(con, AS_OF,
                                                        window_days=73).to_pylist()}
    # (2025-04-18, 2025-06-30]: one application (A5) → 6 hours × 365 / 73.
    assert half["M1"]["applications"] == 1
    assert half["M1"]["dd_hours"] == pytest.approx(6.0 * 5)


def test_maintenance_follows_the_customer_batch_when_fresh() -> None:
    con = duckdb.connect()
    build(con)
    from xiaowei.customers.customer_tables import DDL

    for statement in DDL:
        con.execute(statement)
    con.execute("INSERT INTO customers.run (as_of, customers, events, pack_name, "
                "pack_version, summary) VALUES (?, 3, 0, 'p', 'v', '{}')", [D(2025, 6, 20)])
    con.executemany("INSERT INTO customers.customer_day (as_of, party_id, grade, "
                    "lifecycle_stage, visit_every_days) VALUES (?, ?, 'B', 'active', ?)",
                    [(D(2025, 6, 20), "P1", 30), (D(2025, 6, 20), "P2", 90)])
    m1 = {r["manager_id"]: r for r in manager_workload(con, AS_OF).to_pylist()}["M1"]
    cap = load_capacity()
    visit, servicing = cap.maintenance_visit_hours.value, \
        cap.servicing_hours_per_customer_year.value
    expected = (365 / 30 * visit + servicing) + (365 / 90 * visit + servicing) + servicing
    assert m1["maintenance_basis"] == "customer_day"
    assert m1["maintenance_hours"] == pytest.approx(expected)


def test_kpi_customers_reuses_the_process_kpis(rows: dict[str, dict]) -> None:
    assert rows["M1"]["kpi_customers"] is not None and rows["M1"]["kpi_customers"] > 0
    assert rows["M3"]["kpi_customers"] is None


def _ratings(tier: int, recommended: int | None) -> pa.Table:
    return pa.table({"manager_id": ["M1"], "risk_tier": [tier], "recommended_tier":
                     pa.array([recommended], pa.int64()), "rating": ["D"]})


def test_the_tier_matching_may_use_is_never_raised() -> None:
    lowered = manager_risk_tier(_ratings(3, 1), "M1")
    assert (lowered.recorded, lowered.recommended, lowered.effective) == (3, 1, 1)
    assert "降为 1" in lowered.zh and "lowered from 3 to 1" in lowered.en
    kept = manager_risk_tier(_ratings(1, 3), "M1")
    assert kept.effective == 1  # a promotion is a person's decision
    assert manager_risk_tier(_ratings(2, None), "M1").effective == 2
    assert risk_tiers(_ratings(3, 2)) == {"M1": 2}
    with pytest.raises(LookupError):
        manager_risk_tier(_ratings(3, 2), "M7")
