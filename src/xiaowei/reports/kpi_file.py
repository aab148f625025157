"""The latest KPI comparison (digital vs traditional process) kept as JSON under
``XIAOWEI_HOME/reports/kpis.json``.

Why a file: the comparison takes minutes (fit, replay, score) and is made by ``xiaowei demo``
or a run, not per request; the API and pages read the last one. It is written whole to a
temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

KPI_FILE = Path("reports") / "kpis.json"


def save_kpis(home: Path | str, doc: dict[str, Any]) -> dict[str, Any]:
    """Keep ``doc`` (the ``kpis`` block of ``xiaowei demo``) as the latest; returns it."""
    path = Path(home) / KPI_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {**doc, "stored_at": dt.datetime.now(dt.UTC).isoformat()}
    partial = path.with_suffix(".json.part")
    partial.write_text(json.dumps(stored, ensure_ascii=False, default=str, indent=1), "utf-8")
    os.replace(partial, path)
    return doc


def load_kpis(home: Path | str) -> dict[str, Any] | None:
    """The latest stored comparison, or None when none was stored (or it is unreadable)."""
    path = Path(home) / KPI_FILE
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


__all__ = ["KPI_FILE", "load_kpis", "save_kpis"]
