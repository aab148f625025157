"""The traditional process at `tiny`, measured from the bank's own records, lands in the bands
that the seed describes for today's bank (docs/capacity.md §3):

* approvals a day with today's approvers: 100–200 (seed: 100–200, peaks of 200+);
* customers per manager at full workload: 100–140 (seed: about 120);
* approval rate 0.60–0.85 (docs/simulator.md: ≈ 72% at `small`);
* 12-month bad rate 0–10% on the few observable loans of `tiny` (≈ 4% at `small`);
* no automatic decisions; every case takes the expert's full minutes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.origination.capacity import load_capacity
from xiaowei.origination.kpis import records_as_of, traditional_decisions, traditional_kpis


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("capacity") / "tiny"
    simulate_and_load(root, "tiny", 7, governed=False, transactional=False)
    return root / "analytic.duckdb"


def test_traditional_at_tiny_is_todays_bank(tiny_store: Path) -> None:
    con = duckdb.connect(str(tiny_store), read_only=True)
    try:
        k = traditional_kpis(con)
        assert records_as_of(con) == dt.date(2025, 12, 31)
        rows = traditional_decisions(con, load_capacity())
    finally:
        con.close()
    assert k.process == "traditional" and k.approvers == 20
    assert k.approvals_per_day is not None and 100 <= k.approvals_per_day <= 200
    assert k.customers_per_manager is not None and 100 <= k.customers_per_manager <= 140
    assert 0.60 <= k.approval_rate <= 0.85
    assert k.bad_rate_12m is not None and 0.0 <= k.bad_rate_12m <= 0.10
    assert k.auto_decision_share == 0.0 and k.reviewer_minutes_per_application == 40.0
    assert k.observed_loans_12m >= 20
    assert (k.loss > 0) == (k.defaults_12m > 0)
    assert {d.dd_level for d in rows} == {"standard"} and {d.mode for d in rows} == {"human"}
    assert all(d.onsite_per_year == 4 for d in rows)
    assert k.applications == len(rows) >= 100


def test_more_approvers_more_approvals(tiny_store: Path) -> None:
    con = duckdb.connect(str(tiny_store), read_only=True)
    try:
        base = traditional_kpis(con)
        double = traditional_kpis(con, approvers=40)
    finally:
        con.close()
    assert double.approvals_per_day == pytest.approx(2 * (base.approvals_per_day or 0))
    assert double.customers_per_manager == base.customers_per_manager
