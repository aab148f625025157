"""Standardisation batch path: rows per second of each rule over 1 million registry-like rows.

The rows are the tiny simulated bank's registry and tax filings (all their dirt) repeated to
the requested count. Each rule's macro or UDF is materialised into a table (so DuckDB cannot
skip the work); the figure is the median of ``--repeat`` runs. Not a test: nothing asserts.

    python benchmarks/bench_standardise.py                  # 1,000,000 rows ×3
    python benchmarks/bench_standardise.py --rows 200000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from xiaowei.data.govern.standardise import register, standardise_table
from xiaowei.sim import generate

RULES = [  # (rule, expression over the table `reg`)
    ("text (macro)", "std_text(address)"),
    ("person_name (macro)", "std_person_name(legal_rep_name)"),
    ("date_text (macro)", "std_date_text(established)"),
    ("amount_text (macro)", "std_amount_text(registered_capital)"),
    ("amount_in_unit (macro)", "std_amount_in_unit(sales, unit)"),
    ("company_name (macro)", "std_company_name(name)"),
    ("company_name_key (macro)", "std_company_name_key(name)"),
    ("uscc (UDF)", "std_uscc(uscc)"),
    ("resident_id (UDF)", "std_resident_id(legal_rep_id)"),
    ("phone (UDF)", "std_phone(phone)"),
    ("address (UDF)", "std_address_region(address)"),
]
SPEC = {"uscc": "uscc", "name": "company_name", "legal_rep_name": "person_name",
        "legal_rep_id": "resident_id", "registered_capital": "amount_text",
        "established": "date_text", "address": "address", "phone": "phone",
        "sales": "amount_in_unit:unit"}


def _table(con: duckdb.DuckDBPyConnection, raw: Path, rows: int) -> None:
    con.execute(
        "CREATE TABLE reg AS SELECT r.*, t.sales, t.unit FROM "
        "(SELECT *, row_number() OVER () AS k FROM read_parquet(?)) r "
        "JOIN (SELECT sales, unit, row_number() OVER () AS k FROM read_parquet(?)) t USING (k)",
        [str(raw / "registry_companies.parquet"), str(raw / "tax_filings.parquet")])
    n = con.execute("SELECT count(*) FROM reg").fetchall()[0][0]
    con.execute("CREATE TABLE big AS SELECT reg.* EXCLUDE (k) FROM reg, "
                f"range({-(-rows // n)}) LIMIT {rows}")


def _seconds(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    con.execute(sql)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate("tiny", 7, Path(tmp))
        con = duckdb.connect()
        _table(con, Path(tmp) / "raw", args.rows)
    register(con)
    print(f"{args.rows:,} rows, median of {args.repeat}")
    for rule, expression in RULES:
        times = [_seconds(con, f"CREATE OR REPLACE TABLE out AS SELECT {expression} AS v "
                          "FROM big") for _ in range(args.repeat)]
        print(f"  {rule:<26} {args.rows / statistics.median(times):>12,.0f} rows/s")
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        standardise_table(con, "big", "big_std", SPEC)
        times.append(time.perf_counter() - started)
    print(f"  {'standardise_table (9 cols)':<26} {args.rows / statistics.median(times):>12,.0f}"
          " rows/s")


if __name__ == "__main__":
    main()
