"""Strategies and models: packs with their versions and audit trail, a diff in words between
two versions, backtest results with a chart; the model registry with each version's metrics.

Why reads go through :class:`StrategyStore` and :class:`ModelRegistry`: the pages show the
same states, the same diff sentences and the same maker–checker rules as the CLI; publishing
and approving from the page call the same methods, so the rules cannot differ.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from markupsafe import Markup
from sqlalchemy import Engine

from xiaowei.modelling.errors import InvalidReference, ModelNotFound
from xiaowei.modelling.registry import ModelRegistry
from xiaowei.reports.svg import histogram
from xiaowei.strategies.errors import InvalidReference as StrategyRefError
from xiaowei.strategies.errors import StrategyNotFound
from xiaowei.strategies.store import StrategyStore
from xiaowei.web.i18n import pick

SAFE_FOLDER = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _status(record: Any, lang: str) -> str:
    return pick(lang, record.status.zh, str(record.status).replace("_", " "))


def strategy_list(engine: Engine, home: Path, lang: str) -> dict[str, Any]:
    """Every pack's versions (newest first) and the backtests on disk."""
    packs: dict[str, list[dict[str, Any]]] = {}
    for r in reversed(StrategyStore(engine).versions()):
        packs.setdefault(r.name, []).append(
            {"ref": r.ref, "version": r.version, "status": str(r.status),
             "status_text": _status(r, lang), "label": r.label, "hash": r.short_hash,
             "submitted_by": r.submitted_by, "submitted_at": r.submitted_at,
             "approved_by": r.approved_by})
    return {"packs": sorted(packs.items()), "backtests": backtests(home)}


def strategy_version(engine: Engine, name: str, version: int, against: int | None,
                     lang: str) -> dict[str, Any]:
    """One version: its record, files, history and (optionally) the diff from ``against``."""
    store = StrategyStore(engine)
    ref = f"{name}@{version}"
    try:
        record = store.get(ref)
        history = store.history(ref)
        diff = store.diff(f"{name}@{against}", ref) if against else None
    except (StrategyNotFound, StrategyRefError) as missing:
        raise HTTPException(404, str(missing)) from missing
    others = [r.version for r in store.versions(name) if r.version != version]
    return {"record": record, "status_text": _status(record, lang),
            "files": sorted(record.files.items()), "others": others, "against": against,
            "diff": diff, "history": [e.to_json() for e in history]}


def backtests(home: Path) -> list[dict[str, Any]]:
    """Backtest folders under ``XIAOWEI_HOME/backtests`` (``xiaowei backtest`` writes them),
    each with a chart of outcomes champion vs challenger from its ``cases.parquet``."""
    root = home / "backtests"
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and SAFE_FOLDER.match(p.name)):
        out.append({"name": folder.name, "has_report": (folder / "backtest.html").is_file(),
                    "chart": _outcome_chart(folder / "cases.parquet")})
    return out


def backtest_report(home: Path, name: str) -> str:
    """The stored self-contained report page of one backtest (404 for anything else)."""
    path = home / "backtests" / name / "backtest.html"
    if not SAFE_FOLDER.match(name) or not path.is_file():
        raise HTTPException(404, "no such backtest")
    return path.read_text(encoding="utf-8")


def _outcome_chart(path: Path) -> Markup | None:
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = [c for c in table.column_names if c.endswith("outcome")]
    if not columns:
        return None
    counts = {c: Counter(table.column(c).to_pylist()) for c in columns}
    bins = sorted({str(k) for c in counts.values() for k in c})
    return Markup(histogram(bins, [(c, [counts[c].get(b, 0) for b in bins]) for c in columns],
                            title="outcomes by version", value_format="{:.0f}", width=420,
                            height=240))


def model_list(engine: Engine, home: Path, lang: str) -> list[dict[str, Any]]:
    """Every registered model version, newest first, with its headline metrics."""
    out = []
    for r in reversed(ModelRegistry(engine, home / "models").versions()):
        metrics = {k: v for k, v in (r.metrics or {}).items() if isinstance(v, int | float)}
        out.append({"ref": r.ref, "name": r.name, "version": r.version, "kind": r.kind,
                    "status": str(r.status), "target": r.target,
                    "features": len(r.features), "metrics": dict(list(metrics.items())[:4]),
                    "registered_by": r.registered_by, "registered_at": r.registered_at,
                    "approved_by": r.approved_by})
    return out


def model_version(engine: Engine, home: Path, name: str, version: int) -> dict[str, Any]:
    """One model version: record, features, parameters, metrics, audit trail."""
    registry = ModelRegistry(engine, home / "models")
    try:
        record = registry.get(f"{name}@{version}")
        history = registry.history(f"{name}@{version}")
    except (ModelNotFound, InvalidReference) as missing:
        raise HTTPException(404, str(missing)) from missing
    return {"record": record, "metrics": sorted((record.metrics or {}).items()),
            "params": sorted((record.params or {}).items()),
            "history": [e.to_json() for e in history]}
