"""Fit a scorecard with chosen settings and bilingual feature names into a model directory.

Why beside the workbench: ``workbench.fit`` fits a scorecard with its defaults; the behaviour
score and the customer models need their own binning settings and feature names for reason
codes, yet must leave a directory the registry and ``xiaowei model score|report|monitor`` read
like any other (``model.json``, ``scorecard.json``, ``development.parquet``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.engine.models.master_scale import MasterScale
from xiaowei.engine.models.metrics import discrimination
from xiaowei.engine.models.scorecard import Scorecard
from xiaowei.modelling.workbench import (
    BIN_PREFIX,
    DEVELOPMENT,
    MANIFEST,
    file_fingerprint,
    read_table,
    target_of,
)


def fit_scorecard_dir(data: Path, out: Path, *, params: Mapping[str, Any],
                      labels: Mapping[str, tuple[str, str]],
                      categorical: Sequence[str] = ()) -> dict[str, Any]:
    """A scorecard on ``data`` (features + a 0/1 ``bad``) written to ``out``; returns the
    training metrics, the features kept and those dropped with why."""
    table = read_table(data)
    y = target_of(table, "bad")
    X = table.drop_columns(["bad"])
    model = Scorecard(**dict(params), labels={f: labels[f] for f in X.column_names
                                              if f in labels})
    cats = [c for c in categorical if c in X.column_names]
    model.fit(X, y, categorical=cats)
    pd = model.predict_proba(X)[:, 1]
    quality = discrimination(y, pd)
    (out / "scorecard.json").write_text(json.dumps(model.to_dict(), ensure_ascii=False), "utf-8")
    development: dict[str, Any] = {"y": y, "pd": pd, "score": model.score(X)}
    development |= {BIN_PREFIX + f: b.astype(str) for f, b in model.assigned_bins(X).items()}
    pq.write_table(pa.table(development), out / DEVELOPMENT)
    metrics = {"auc_train": round(quality.auc, 6), "ks_train": round(quality.ks, 6),
               "gini_train": round(quality.gini, 6), "rows": len(y),
               "bad_rate": round(float(y.mean()), 6)}
    manifest = {
        "kind": "scorecard", "features": list(model.features_), "target": "bad",
        "params": json.loads(json.dumps(model.get_params(), ensure_ascii=False)),
        "metrics": metrics, "data_fingerprint": file_fingerprint(data),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "categorical": [c for c in cats if c in model.features_],
        "dropped": {k: str(v) for k, v in model.dropped_.items()},
        "master_scale": MasterScale().to_dict(), "source_file": data.name,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return {**metrics, "features": list(model.features_), "dropped": manifest["dropped"]}


__all__ = ["fit_scorecard_dir"]
