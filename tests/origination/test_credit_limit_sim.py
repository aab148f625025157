"""The limit policy on a simulated bank (`tiny`): sized to need, within caps, point in time.

The evaluation code is the benchmark's (benchmarks/bench_credit_limit.py), loaded by path so
the test and the published figures measure the same thing. Every loan gets grade B1 here so
that the comparison isolates *sizing*: at the same total granted, limits set from verified
revenue and debt capacity must be used more than one flat limit for everybody.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np
import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.origination.credit_limit import LimitPolicy, application_inputs, inputs_from_row

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_credit_limit.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_credit_limit", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("credit-limit") / "tiny"
    simulate_and_load(root, "tiny", 7, transactional=False)
    return root


def test_limits_are_used_more_than_a_flat_limit_at_equal_total(tiny_bank: Path) -> None:
    bench = _bench()
    frame = bench.load_frame(tiny_bank / "analytic.duckdb", tiny_bank / "ds" / "truth")
    n = len(frame["need"])
    assert n >= 30
    frame["grade"] = np.full(n, "B1", dtype=object)
    pols = bench.evaluate(frame)["policies"]
    ours = bench.summary(pols["ours"])
    flat = bench.summary(next(o for k, o in pols.items() if k.startswith("flat")))
    assert abs(ours["granted"] - flat["granted"]) <= 5_000 * n  # flat rounded to 10,000
    assert ours["util"] > flat["util"] + 0.05
    for o in pols.values():
        assert np.all(o["drawn"] <= o["granted"]) and np.all(o["drawn"] >= 0)
    frame["grade"] = np.full(n, "E1", dtype=object)
    assert bench.summary(bench.evaluate(frame)["policies"]["ours"])["granted"] == 0


def test_every_application_gets_a_capped_rounded_limit(tiny_bank: Path) -> None:
    con = duckdb.connect(str(tiny_bank / "analytic.duckdb"), read_only=True)
    try:
        rows = application_inputs(con)
    finally:
        con.close()
    policy = LimitPolicy()
    limits = [policy.limit(inputs_from_row(r, "A1")) for r in rows]
    values = np.array([x.limit_yuan for x in limits])
    assert len(rows) > 100 and (values > 0).sum() > len(rows) // 3
    assert values.max() <= 8_000_000 and np.all(values % 10_000 == 0)
    none = [x for r, x in zip(rows, limits, strict=True) if r["tax_sales_12m"] is None
            and r["invoice_amount_12m"] is None and r["account_inflow_12m"] is None]
    assert none and all(x.limit_yuan == 0 and x.reasons[-1].code == "NO_VERIFIED_REVENUE"
                        for x in none)


TABLES = ("application", "tax_filing", "invoice", "account_flow", "bureau_report", "loan",
          "repayment", "party_profile")


def test_inputs_ignore_what_the_bank_learned_after_the_application(tiny_bank: Path) -> None:
    """Blow up every figure known after a cut-off day: inputs of earlier applications hold."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{tiny_bank / 'analytic.duckdb'}' as src (read_only)")
        con.execute("create schema g")
        for t in TABLES:
            con.execute(f"create table g.{t} as select * from src.gov.{t}")
        before = {r["application_id"]: r for r in application_inputs(con, schema="g")}
        cut = "2025-01-01"
        con.execute(f"update g.tax_filing set sales_yuan = sales_yuan * 1000 "
                    f"where cast(known_at as date) > date '{cut}'")
        con.execute(f"update g.invoice set amount_yuan = amount_yuan * 1000 "
                    f"where cast(known_at as date) > date '{cut}'")
        con.execute(f"update g.account_flow set inflow_yuan = inflow_yuan * 1000 "
                    f"where cast(known_at as date) > date '{cut}'")
        con.execute(f"update g.bureau_report set other_bank_balance_yuan = 1e9 "
                    f"where query_date > date '{cut}'")
        after = application_inputs(con, schema="g")
    finally:
        con.close()
    early = [r for r in after if str(r["as_of"]) <= cut]
    late = [r for r in after if str(r["as_of"]) > "2025-03-01"]
    assert len(early) > 30 and late
    assert all(r == before[r["application_id"]] for r in early)
    assert any(r != before[r["application_id"]] for r in late)  # the change was seen later
