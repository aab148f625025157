"""Raw sources into the analytic store through their contracts, with bounded memory.

Why here and not a plain Parquet import: every raw row must pass its source's contract;
rows that fail go to `raw_quarantine.<source>` with row number, column and reason, and the
load report says, per source, in = accepted + quarantined. Files without a contract (the
bank's own tables, which dataset.py checks) are imported as they are.

Why through staging files: inserting validated Arrow batches into DuckDB inside one
transaction holds them in memory (20 GB at the `bank` size); so each source is validated
batch by batch into a staged Parquet file (bounded memory), and then one DuckDB
transaction imports every staged file with DuckDB's streaming Parquet reader. A failure
anywhere leaves the previous tables in place.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from xiaowei.data.sources import (
    ParquetConnector,
    SourceContract,
    SourceLoadReport,
    packaged_contracts,
)
from xiaowei.store.analytic import quote_identifier

QUARANTINE_SCHEMA = "raw_quarantine"


def import_sources(con: duckdb.DuckDBPyConnection, files: dict[str, Path], schema: str,
                   progress: Callable[[int, int], None], staging: Path | None = None
                   ) -> tuple[dict[str, int], dict[str, SourceLoadReport]]:
    contracts = packaged_contracts()
    reports: dict[str, SourceLoadReport] = {}
    root = Path(tempfile.mkdtemp(prefix="xiaowei-staging-", dir=staging))
    try:
        staged: dict[str, tuple[Path, Path | None]] = {}
        steps = 2 * len(files)
        for i, (name, path) in enumerate(sorted(files.items()), start=1):
            if name in contracts:
                reports[name], staged[name] = _stage(name, path, contracts[name], root)
            else:
                staged[name] = (path, None)
            progress(i, steps)
        counts = _import(con, staged, schema, lambda i: progress(len(files) + i, steps))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return counts, reports


def _stage(name: str, path: Path, contract: SourceContract, root: Path
           ) -> tuple[SourceLoadReport, tuple[Path, Path]]:
    """Validate one source batch by batch into accepted and quarantined Parquet files."""
    report = SourceLoadReport(source=name, mode="bulk")
    accepted_path, quarantined_path = root / f"{name}.parquet", root / f"{name}.quarantine.parquet"
    writers: dict[Path, pq.ParquetWriter] = {}
    try:
        for batch in ParquetConnector(name, contract, path).bulk():
            report.add(batch)
            for target, rows in ((accepted_path, batch.accepted),
                                 (quarantined_path, batch.quarantined)):
                if target not in writers:
                    writers[target] = pq.ParquetWriter(target, rows.schema, compression="zstd")
                writers[target].write_table(rows)
    finally:
        for writer in writers.values():
            writer.close()
    if accepted_path not in writers:  # an empty source still replaces its table
        pq.write_table(pq.read_table(path).slice(0, 0), accepted_path)
    report.check()
    return report, (accepted_path, quarantined_path if quarantined_path in writers else None)


def _import(con: duckdb.DuckDBPyConnection, staged: dict[str, tuple[Path, Path | None]],
            schema: str, progress: Callable[[int], None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    target_schema = quote_identifier(schema, "schema")
    con.begin()
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {target_schema}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {QUARANTINE_SCHEMA}")
        for i, (name, (accepted, quarantined)) in enumerate(sorted(staged.items()), start=1):
            target = f"{target_schema}.{quote_identifier(name, 'table')}"
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet(?)",
                        [str(accepted)])
            counts[name] = int(con.execute(f"SELECT COUNT(*) FROM {target}").fetchall()[0][0])
            if quarantined is not None:
                con.execute(f"CREATE OR REPLACE TABLE {QUARANTINE_SCHEMA}."
                            f"{quote_identifier(name, 'table')} AS SELECT * FROM read_parquet(?)",
                            [str(quarantined)])
            progress(i)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return counts
