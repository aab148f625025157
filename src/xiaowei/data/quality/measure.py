"""`quality_report`: measure every loaded raw source against its contract, in DuckDB.

Why the report reads the stores and not the files: it must describe what governance and the
tags actually read — the rows that passed the load — plus what the load refused
(``raw_quarantine.<source>``) and what governance could not link to a party (raw rows in
minus governed rows out, per ``RAW_SOURCE``).

Quarantine hook: the loader records refused rows in ``raw_quarantine``; a caller holding
``SourceLoadReport``s of other loads (an online pull, a load in another process) passes them
as ``loads`` and they are used for their sources instead.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable

import duckdb

from xiaowei.data.govern.build.facts import RAW_SOURCE
from xiaowei.data.govern.standardise import register
from xiaowei.data.quality.model import (
    ColumnQuality,
    Freshness,
    QualityReport,
    Quarantine,
    SourceQuality,
)
from xiaowei.data.quality.rules import REASON_MISSING_COLUMN, THRESHOLDS, Thresholds
from xiaowei.data.quality.sql import source_sql
from xiaowei.data.sources.contract import SourceContract, packaged_contracts
from xiaowei.data.sources.report import SourceLoadReport
from xiaowei.store.analytic import AnalyticStore, quote_identifier

QUARANTINE_SCHEMA = "raw_quarantine"
GOVERNED_FOR = {raw: governed for governed, raw in RAW_SOURCE.items()}


class NothingLoaded(LookupError):
    """No raw source with a contract is in the analytic store: nothing to report on."""


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?",
                       [schema]).fetchall()
    return {r[0] for r in rows}


def report_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The dataset's as-of as governance recorded it, else the last day a governed party
    became known, else today."""
    from xiaowei.data.govern.build import governed_as_of

    recorded = governed_as_of(con)
    if recorded is not None:
        return recorded
    if "party_profile" in _tables(con, "gov"):
        latest = con.execute("SELECT max(known_at) FROM gov.party_profile").fetchall()[0][0]
        if latest is not None:
            return latest if type(latest) is dt.date else latest.date()
    return dt.date.today()


def _raw_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                       "WHERE schema_name = 'raw' AND table_name = ?", [table]).fetchall()
    return {name: kind for name, kind in rows}


def _top(counts: Counter[str], n: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def measure_source(con: duckdb.DuckDBPyConnection, contract: SourceContract, as_of: dt.date,
                   thresholds: Thresholds = THRESHOLDS) -> SourceQuality:
    """Measure one source's raw table: one aggregate scan, plus one pass over the distinct
    values of its identifier columns."""
    types = _raw_types(con, contract.source)
    queries = source_sql(contract, types, as_of, thresholds)
    values = dict(zip(queries.outputs, con.execute(queries.main).fetchall()[0], strict=True))
    reasons: dict[str, Counter[str]] = {}
    if queries.identifiers is not None:
        for column, reason, rows in con.execute(queries.identifiers).fetchall():
            if reason is not None:
                reasons.setdefault(column, Counter())[reason] += int(rows)
    rows = int(values["rows"])
    columns = []
    for spec in contract.columns:
        if spec.name not in types:
            columns.append(ColumnQuality(spec.name, spec.required, rows, 0, checked=True,
                                         reasons=[(REASON_MISSING_COLUMN, rows)] if rows
                                         else [], missing_from_source=True))
            continue
        histogram = values.get(f"reasons:{spec.name}")
        found = reasons.get(spec.name, Counter()) + Counter(dict(histogram or {}))
        columns.append(ColumnQuality(spec.name, spec.required, rows,
                                     int(values[f"present:{spec.name}"]),
                                     spec.name in queries.checked,
                                     sum(found.values()), _top(found, thresholds.top_reasons)))
    distinct_keys = values.get("distinct_keys")
    return SourceQuality(
        source=contract.source, title=contract.title, contract_version=contract.version,
        rows=rows, columns=columns, unique_key=list(contract.unique),
        duplicate_keys=None if distinct_keys is None else rows - int(distinct_keys),
        duplicate_rows=rows - int(values["distinct_rows"]),
        freshness=_freshness(values, as_of, contract, thresholds),
        quarantine=Quarantine(), thresholds=thresholds)


def _freshness(values: dict[str, object], as_of: dt.date, contract: SourceContract,
               thresholds: Thresholds) -> Freshness:
    business = values.get("latest_business_date")
    known = values.get("latest_known_at")
    # A delivery day says when the source last spoke; a derived known_at only echoes the
    # period, so the period is the better measure of how current the source is.
    latest = known if contract.known_at.column is not None else business
    # A period still running on the as-of is current: its age is 0, not negative.
    age = max((as_of - latest).days, 0) if isinstance(latest, dt.date) else None
    return Freshness(
        latest_business_date=business if isinstance(business, dt.date) else None,
        latest_known_at=known if isinstance(known, dt.date) else None,
        age_days=age, stale=age is not None and age > thresholds.stale_after_days,
        dated_rows=int(values.get("dated_rows") or 0),
        late_rows=int(values.get("late_rows") or 0),
        known_after_as_of=int(values.get("known_after_as_of") or 0))


def _quarantine(con: duckdb.DuckDBPyConnection, source: SourceQuality,
                quarantined_tables: set[str]) -> Quarantine:
    if source.source not in quarantined_tables:
        return Quarantine(recorded=False, rows_in=source.rows)
    table = f"{QUARANTINE_SCHEMA}.{quote_identifier(source.source, 'table')}"
    rows = con.execute(f'SELECT coalesce("column", \'row\') || \': \' || reason, count(*) '
                       f"FROM {table} GROUP BY ALL").fetchall()
    reasons = {str(reason): int(n) for reason, n in rows}
    quarantined = sum(reasons.values())
    return Quarantine(True, source.rows + quarantined, quarantined, reasons)


def _from_loads(loads: Iterable[SourceLoadReport]) -> dict[str, Quarantine]:
    """Load reports of one source added together (several batches or pulls)."""
    out: dict[str, Quarantine] = {}
    for load in loads:
        q = out.setdefault(load.source, Quarantine(recorded=True))
        q.rows_in += load.rows_in
        q.quarantined += load.quarantined
        for reason, n in load.reasons.items():
            q.reasons[reason] = q.reasons.get(reason, 0) + n
    return out


def quality_report(analytic: AnalyticStore, as_of: dt.date | None = None, *,
                   loads: Iterable[SourceLoadReport] = (),
                   contracts: dict[str, SourceContract] | None = None,
                   thresholds: Thresholds = THRESHOLDS) -> QualityReport:
    """The data-quality report of every raw table that has a source contract.

    Raises ``NothingLoaded`` when no such table is in the store.
    """
    began = time.perf_counter()
    con = analytic.connection
    known = contracts if contracts is not None else packaged_contracts()
    present = sorted(name for name in _tables(con, "raw") if name in known)
    if not present:
        raise NothingLoaded("no raw source is loaded: run `xiaowei load DIR` first")
    register(con)
    day = as_of or report_as_of(con)
    governed = _tables(con, "gov")
    quarantined_tables = _tables(con, QUARANTINE_SCHEMA)
    fed = _from_loads(loads)
    sources: dict[str, SourceQuality] = {}
    for name in present:
        source = measure_source(con, known[name], day, thresholds)
        source.quarantine = fed.get(name) or _quarantine(con, source, quarantined_tables)
        table = GOVERNED_FOR.get(name)
        if table is not None and table in governed:
            out = con.execute(f"SELECT count(*) FROM gov.{quote_identifier(table)}")
            source.governed_table = table
            source.unlinked = source.rows - int(out.fetchall()[0][0])
        sources[name] = source
    return QualityReport(day, sources, thresholds, time.perf_counter() - began)
