"""Loan state throughput: the state on one day and month-end snapshots over a whole history.

Runs :func:`xiaowei.postloan.loan_state.loan_state` and ``month_end_snapshots`` (into a TEMP
table, and as Arrow) on a governed analytic store; each figure is the median of ``--repeat``
runs on ``--threads`` DuckDB threads (2 by default: the batch shares a small server) under
the analytic store's memory limit ($XIAOWEI_ANALYTIC_MEMORY, 4GB by default).
``--scale K`` copies the book K times (new loan ids, same dates) into a scratch DuckDB file
first, to measure a bank-sized book from the `small` one: ``--scale 190`` ≈ 1M loans. Not a
test: nothing here asserts a time.

    python benchmarks/bench_loan_state.py                         # the small store
    python benchmarks/bench_loan_state.py --scale 190 --repeat 2  # ≈ 1M loans, ≈ 15M rows
    python benchmarks/bench_loan_state.py --analytics              # + vintage, roll rates
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from xiaowei.postloan.analytics.roll_rates import roll_rates
from xiaowei.postloan.analytics.vintage import vintage_curves
from xiaowei.postloan.loan_state import (
    loan_state,
    month_end_snapshots,
    month_ends,
    write_month_end_snapshots,
)
from xiaowei.store.analytic import memory_limit

DEFAULT_STORE = Path("/work/benchdata/small/analytic.duckdb")
COPIED = {
    "gov.loan": "SELECT * REPLACE (loan_id || '-' || k AS loan_id) "
                "FROM src.gov.loan, range({k}) t(k)",
    "gov.repayment": "SELECT * REPLACE (loan_id || '-' || k AS loan_id) "
                     "FROM src.gov.repayment, range({k}) t(k)",
    "raw.bank_loans": "SELECT * REPLACE (loan_no || '-' || k AS loan_no, application_no || '-' "
                      "|| k AS application_no) FROM src.raw.bank_loans, range({k}) t(k)",
    "raw.bank_applications": "SELECT * REPLACE (application_no || '-' || k AS application_no) "
                             "FROM src.raw.bank_applications, range({k}) t(k)",
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def scaled_copy(store: Path, k: int, folder: Path) -> Path:
    """The four tables the loan state reads, each copied ``k`` times under new ids."""
    path = folder / f"scaled-{k}.duckdb"
    con = duckdb.connect(str(path))
    con.execute("ATTACH ? AS src (READ_ONLY)", [str(store)])
    con.execute("CREATE SCHEMA gov")
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE gov.meta AS SELECT * FROM src.gov.meta")
    for name, sql in COPIED.items():
        started = time.perf_counter()
        con.execute(f"CREATE TABLE {name} AS " + sql.format(k=int(k)))
        rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        say(f"  copied {name}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    con.close()
    return path


def timed(label: str, repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    times, rows = [], 0
    for i in range(repeat):
        started = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - started)
        say(f"  {label} run {i + 1}/{repeat}: {times[-1]:.2f} s, {rows:,} rows")
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale", type=int, default=1, help="copy the book K times first")
    parser.add_argument("--first", type=dt.date.fromisoformat, default=None,
                        help="first month-end (default: the month of the first loan)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                        help="last month-end and the state's day (default: gov.meta as_of)")
    parser.add_argument("--analytics", action="store_true",
                        help="also time vintage curves and roll rates on the snapshots")
    args = parser.parse_args()
    if not args.store.is_file():
        parser.error(f"no analytic store at {args.store}: pass --store PATH")
    with tempfile.TemporaryDirectory(prefix="bench-loan-state-") as tmp:
        store = args.store
        if args.scale > 1:
            say(f"copying the book ×{args.scale} into a scratch store …")
            store = scaled_copy(args.store, args.scale, Path(tmp))
        con = duckdb.connect(str(store), read_only=True)
        con.execute("SET threads = ?", [args.threads])
        con.execute("SET memory_limit = ?", [memory_limit()])  # as the analytic store does
        con.execute("SET temp_directory = ?", [str(Path(tmp) / "spill")])
        as_of = args.as_of or dt.date.fromisoformat(
            con.execute("SELECT value FROM gov.meta WHERE key = 'as_of'").fetchall()[0][0])
        first = args.first or con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
        loans, rows = con.execute("SELECT (SELECT count(*) FROM gov.loan), "
                                  "(SELECT count(*) FROM gov.repayment)").fetchall()[0]
        months = len(month_ends(first, as_of))
        say(f"store {store}: {loans:,} loans, {rows:,} repayment rows; {months} month-ends "
            f"{first} … {as_of}; {args.threads} threads, memory limit {memory_limit()}")
        results = {
            "loan state, one day (Arrow)": timed(
                "state", args.repeat, lambda: loan_state(con, as_of).num_rows),
            "month-end snapshots → TEMP table": timed(
                "snapshots→table", args.repeat, lambda: write_month_end_snapshots(
                    con, first, as_of, "bench_snapshots", temporary=True)),
            "month-end snapshots (Arrow)": timed(
                "snapshots→arrow", args.repeat, lambda: month_end_snapshots(
                    con, first, as_of).num_rows),
        }
        if args.analytics:
            results["vintage curves (on the TEMP table)"] = timed(
                "vintage", args.repeat, lambda: vintage_curves(con, "bench_snapshots").num_rows)
            results["roll rates (on the TEMP table)"] = timed(
                "roll rates", args.repeat,
                lambda: roll_rates(con, "bench_snapshots").transitions.num_rows)
        con.close()
    print(f"\nbook: {loans:,} loans, {rows:,} repayment rows, {months} month-ends, "
          f"{args.threads} threads, median of {args.repeat}")
    for label, (seconds, out_rows) in results.items():
        print(f"{label:36s} {seconds:8.2f} s  {out_rows:>12,} rows  "
              f"{out_rows / seconds:>14,.0f} rows/s  {loans / seconds:>12,.0f} loans/s")


if __name__ == "__main__":
    main()
