"""The bank's tags over the governed tables: catalogue, snapshots, batch runs, one party.

Why this module: the engine is generic (any entity, any tables); here it meets the bank's
own catalogue and the governed schema. Both engines read the same Parquet snapshot of
`gov.*`, written next to the analytic store, so DuckDB and Spark see identical inputs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xiaowei.config import get_settings
from xiaowei.data.govern.build import governed_as_of
from xiaowei.engine.tags import Catalogue, OnlineTags, TagHistory, TagResult, load_catalogue
from xiaowei.engine.tags import run_duckdb as _run_duckdb
from xiaowei.engine.tags.serving import ServingTags
from xiaowei.store.analytic import AnalyticStore

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
HISTORY_SCHEMA = "tags"


def bank_catalogue(path: Path | None = None) -> Catalogue:
    return load_catalogue(path or CATALOGUE_DIR)


def snapshot_dir(analytic: AnalyticStore) -> Path:
    """Beside the analytic store's file (or in XIAOWEI_HOME for an in-memory store)."""
    if isinstance(analytic.path, Path):
        return analytic.path.parent / "governed"
    return get_settings().home / "governed"


def run_file(analytic: AnalyticStore, engine: str, as_of: dt.date) -> Path:
    """Where a batch run's rows are kept: a folder per engine and as-of, a file per tag."""
    return snapshot_dir(analytic).parent / "tag-runs" / f"{engine}-{as_of.isoformat()}"


def export_governed(analytic: AnalyticStore, catalogue: Catalogue) -> dict[str, Path]:
    """Write each governed table the catalogue reads to Parquet; the engines' one input."""
    dest = snapshot_dir(analytic)
    dest.mkdir(parents=True, exist_ok=True)
    sources = {}
    for table in catalogue.tables:
        sources[table] = dest / f"{table}.parquet"
        analytic.export_parquet(table, sources[table], schema="gov")
    return sources


def data_as_of(analytic: AnalyticStore) -> dt.date:
    """The latest date of the loaded data: the as-of of the dataset that was governed."""
    day = governed_as_of(analytic.connection)
    if day is None:
        raise LookupError("no governed data: run `xiaowei govern DIR` first")
    return day


@dataclass(frozen=True)
class ComputeSummary:
    as_of: dt.date
    engine: str
    fingerprint: str
    tags: int
    parties: int
    values: int
    seconds: float
    history: str

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "engine": self.engine,
                "fingerprint": self.fingerprint, "tags": self.tags, "parties": self.parties,
                "values": self.values, "seconds": round(self.seconds, 3),
                "history": self.history}


def compute_all(analytic: AnalyticStore, as_of: dt.date, engine: str = "duckdb",
                progress: Callable[[str, int, int], None] | None = None,
                catalogue: Catalogue | None = None) -> tuple[ComputeSummary, TagResult]:
    """All tags for all parties as of a date; the result is stored in the tag history."""
    cat = catalogue or bank_catalogue()
    sources = export_governed(analytic, cat)
    started = time.perf_counter()
    if engine == "duckdb":
        result = _run_duckdb(cat, sources, as_of, progress=progress,
                             output=run_file(analytic, engine, as_of))
    elif engine == "spark":
        from xiaowei.engine.tags.spark import local_session, run_spark

        result = run_spark(cat, sources, as_of, spark=local_session("xiaowei-tags"),
                           progress=progress, output=run_file(analytic, engine, as_of))
    else:
        raise ValueError(f"engine must be duckdb or spark, got {engine!r}")
    seconds = time.perf_counter() - started
    history = TagHistory(analytic.connection, schema=HISTORY_SCHEMA)
    try:
        changed = history.apply(result)
        note = f"{changed} intervals opened or closed; {history.row_count()} stored"
    except ValueError as refused:  # an earlier as-of than the history holds, say
        note = f"not stored: {refused}"
    return ComputeSummary(as_of, engine, result.fingerprint, len(cat.tags), result.entities,
                          result.rows, seconds, note), result


def governed_snapshot(analytic: AnalyticStore, catalogue: Catalogue) -> dict[str, Path]:
    """The Parquet snapshot of the governed tables, written first if any file is missing."""
    sources = {t: snapshot_dir(analytic) / f"{t}.parquet" for t in catalogue.tables}
    if not all(p.is_file() for p in sources.values()):
        sources = export_governed(analytic, catalogue)
    return sources


def online_party_tags(analytic: AnalyticStore) -> OnlineTags:
    """The bank catalogue's online runner over the governed snapshot (close it when done);
    build one per process or batch — building it loads every table."""
    cat = bank_catalogue()
    return OnlineTags(cat, governed_snapshot(analytic, cat), entity="party")


def serving_party_tags(analytic: AnalyticStore) -> ServingTags:
    """Live decisions' runner: the latest batch run in the analytic store's tag history, the
    tags over intraday tables (``intraday: true`` in tables.yaml) online; close it when done.
    Not for backtests: the run may be a day old (see :mod:`xiaowei.engine.tags.serving`)."""
    cat = bank_catalogue()
    # Its own cursor: the serving runner reads the history from request threads, beside
    # whoever else uses the store's connection.
    history = TagHistory(analytic.connection.cursor(), schema=HISTORY_SCHEMA)
    return ServingTags(cat, governed_snapshot(analytic, cat), history, entity="party")


def party_tags(analytic: AnalyticStore, party_id: str, as_of: dt.date) -> dict[str, Any]:
    """One party's tags as of a date, computed online from the governed snapshot."""
    online = online_party_tags(analytic)
    try:
        return online.values(party_id, as_of)
    finally:
        online.close()
