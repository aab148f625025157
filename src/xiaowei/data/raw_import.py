"""Raw sources into the analytic store through their contracts, streamed batch by batch.

Why here and not a plain Parquet import: every raw row must pass its source's contract;
rows that fail go to `raw_quarantine.<source>` with row number, column and reason, and the
load report says, per source, in = accepted + quarantined. Files without a contract (the
bank's own tables, which dataset.py checks) are imported as they are. One DuckDB
transaction for everything: a failure leaves the previous tables in place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from xiaowei.data.sources import (
    ParquetConnector,
    SourceContract,
    SourceLoadReport,
    packaged_contracts,
)
from xiaowei.store.analytic import quote_identifier

QUARANTINE_SCHEMA = "raw_quarantine"


def import_sources(con: duckdb.DuckDBPyConnection, files: dict[str, Path], schema: str,
                   progress: Callable[[int, int], None]
                   ) -> tuple[dict[str, int], dict[str, SourceLoadReport]]:
    contracts = packaged_contracts()
    counts: dict[str, int] = {}
    reports: dict[str, SourceLoadReport] = {}
    target_schema = quote_identifier(schema, "schema")
    con.begin()
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {target_schema}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {QUARANTINE_SCHEMA}")
        for i, (name, path) in enumerate(sorted(files.items()), start=1):
            target = f"{target_schema}.{quote_identifier(name, 'table')}"
            if name in contracts:
                reports[name] = _through_contract(con, name, path, contracts[name], target)
                counts[name] = reports[name].accepted
            else:
                con.execute(f"CREATE OR REPLACE TABLE {target} AS "
                            "SELECT * FROM read_parquet(?)", [str(path)])
                counts[name] = int(con.execute(f"SELECT COUNT(*) FROM {target}")
                                   .fetchall()[0][0])
            progress(i, len(files))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return counts, reports


def _through_contract(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                      contract: SourceContract, target: str) -> SourceLoadReport:
    connector = ParquetConnector(name, contract, path)
    report = SourceLoadReport(source=name, mode="bulk")
    quarantine = f"{QUARANTINE_SCHEMA}.{quote_identifier(name, 'table')}"
    first = True
    for batch in connector.bulk():
        report.add(batch)
        _append(con, target, batch.accepted, replace=first)
        _append(con, quarantine, batch.quarantined, replace=first)
        first = False
    if first:  # an empty file still replaces the table, with the contract's columns
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet(?) "
                    "LIMIT 0", [str(path)])
    report.check()
    return report


def _append(con: duckdb.DuckDBPyConnection, target: str, rows: pa.Table, replace: bool) -> None:
    con.register("incoming_rows", rows)
    try:
        if replace:
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM incoming_rows")
        else:
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")
