"""`govern`: loaded raw sources → the governed schema `gov` that tags read.

Steps, and why in this order: standardisation macros first (every later SQL uses them);
entity resolution next (every governed row needs its party); then the party tables, the
source facts (some read others: flows need accounts, loans need applications), and last
the relationship metrics, which need parties and court facts. One DuckDB transaction: a
failure leaves the previous `gov` schema as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xiaowei.data.dataset import Dataset
from xiaowei.data.govern.build.facts import GOVERNED_SQL, RAW_SOURCE
from xiaowei.data.govern.build.parties import (
    ANCHOR_MIN_SELLERS,
    PROFILE_SQL,
    section_case,
    write_party_tables,
)
from xiaowei.data.govern.build.relation_metrics import write_relation_metrics
from xiaowei.data.govern.resolve import build_identity_records, resolve_parties
from xiaowei.data.govern.standardise import register
from xiaowei.sim.calendar import START_MONTH
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]


@dataclass
class GovernReport:
    as_of: str
    parties: int = 0
    records_resolved: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    unlinked: dict[str, int] = field(default_factory=dict)  # raw rows whose party was not found
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"as_of": self.as_of, "parties": self.parties,
                "records_resolved": self.records_resolved, "tables": self.tables,
                "unlinked": self.unlinked, "seconds": self.seconds}


def govern(folder: Path | str, analytic: AnalyticStore, progress: Progress | None = None
           ) -> GovernReport:
    """Build `gov.*` from the dataset at `folder`, already loaded into `raw.*`."""
    ds = Dataset.open(folder)
    step = progress or (lambda _s, _i, _n: None)
    as_of = dt.date.fromisoformat(ds.as_of)
    report = GovernReport(as_of=as_of.isoformat())
    con = analytic.connection
    clock = time.perf_counter()
    logging.getLogger("splink").setLevel(logging.ERROR)
    previous = _previous_links(con)
    records = build_identity_records(ds.root)
    resolution = resolve_parties(records, previous_map=previous)
    report.records_resolved = records.num_rows
    report.seconds["resolve"] = round(time.perf_counter() - clock, 2)
    total = len(GOVERNED_SQL) + 3
    con.begin()
    try:
        register(con)
        con.execute("CREATE SCHEMA IF NOT EXISTS gov")
        write_party_tables(con, records, resolution)
        con.execute(PROFILE_SQL.format(min_sellers=ANCHOR_MIN_SELLERS,
                                       section=section_case("COALESCE(reg.industry_code, "
                                                            "f.industry_code)"),
                                       history_start=str(START_MONTH.astype("datetime64[D]"))))
        step("govern", 2, total)
        clock = time.perf_counter()
        for i, (table, sql) in enumerate(GOVERNED_SQL.items(), start=3):
            con.execute(f"CREATE OR REPLACE TABLE gov.{table} AS {sql}")
            step("govern", i, total)
        report.seconds["facts"] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()
        write_relation_metrics(con, ds.root, as_of)
        con.execute("CREATE OR REPLACE TABLE gov.meta AS SELECT 'as_of' AS key, "
                    "CAST(? AS VARCHAR) AS value", [as_of.isoformat()])
        report.seconds["relations"] = round(time.perf_counter() - clock, 2)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    step("govern", total, total)
    for table in ("party_profile", *GOVERNED_SQL, "relation_metric"):
        report.tables[table] = _count(con, f"gov.{table}")
    for table, raw in RAW_SOURCE.items():
        report.unlinked[table] = _count(con, f"raw.{raw}") - report.tables[table]
    report.parties = report.tables["party_profile"]
    return report


def governed_as_of(con) -> dt.date | None:
    """The as-of date of the dataset the governed tables were built from (None: not built)."""
    exists = con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE schema_name = 'gov' "
                         "AND table_name = 'meta'").fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute("SELECT value FROM gov.meta WHERE key = 'as_of'").fetchall()
    return dt.date.fromisoformat(rows[0][0]) if rows else None


def _count(con, table: str) -> int:
    return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchall()[0][0])


def _previous_links(con) -> dict[str, str] | None:
    """Last run's record → party map, so that party ids stay stable across runs."""
    exists = con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE schema_name = 'gov' "
                         "AND table_name = 'party_link'").fetchall()[0][0]
    if not exists:
        return None
    return dict(con.execute("SELECT record_id, party_id FROM gov.party_link").fetchall())
