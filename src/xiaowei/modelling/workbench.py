"""Fit, score and validate a model on any table an analyst brings (CSV or Parquet).

Why a workbench beside the engine: the engine's estimators take columns and return scores;
a risk analyst works with files. This module reads the file (DuckDB sniffs CSV types, so a
column with stray text arrives as text and the scorecard's garbage bin takes it), fits the
chosen kind, writes a model directory in the registry's format (``model.json`` + the body +
the development scores the validation report compares against), and scores or validates a
file with it. Every model speaks one scale: PD, points on the PDO scale, a master-scale grade.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.engine.models.frame import ModelInputError
from xiaowei.engine.models.gbdt import GBDTModel
from xiaowei.engine.models.master_scale import MasterScale
from xiaowei.engine.models.metrics import discrimination
from xiaowei.engine.models.monitoring import Period, flagged, monitor_periods
from xiaowei.engine.models.scorecard import Scorecard
from xiaowei.engine.models.validation import build_validation_report
from xiaowei.engine.models.validation_html import render_html

KINDS = ("scorecard", "gbdt")
MANIFEST = "model.json"
DEVELOPMENT = "development.parquet"
BIN_PREFIX = "bin__"
PDO, BASE_POINTS, BASE_ODDS = 20.0, 600.0, 50.0


@dataclass(frozen=True)
class FittedModel:
    """A model as loaded from its directory."""

    directory: Path
    kind: str
    manifest: dict[str, Any]
    model: Scorecard | GBDTModel
    scale: MasterScale

    @property
    def features(self) -> list[str]:
        return list(self.manifest["features"])


def read_table(path: Path) -> pa.Table:
    """A CSV (optionally .gz) or Parquet file as an Arrow table, or a clear error."""
    path = Path(path)
    if not path.is_file():
        raise ModelInputError(f"no such file: {path}")
    suffixes = "".join(path.suffixes).lower()
    con = duckdb.connect()
    try:
        if suffixes.endswith(".parquet"):
            return con.read_parquet(str(path)).to_arrow_table()
        if ".csv" in suffixes or ".txt" in suffixes:
            return con.read_csv(str(path), sample_size=-1).to_arrow_table()
    except duckdb.Error as exc:
        raise ModelInputError(f"cannot read {path.name}: {exc}") from None
    finally:
        con.close()
    raise ModelInputError(f"{path.name}: expected a .csv, .csv.gz or .parquet file")


def file_fingerprint(path: Path) -> str:
    """sha256 of the file's bytes: which data a model was trained on, for the registry."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def target_of(table: pa.Table, target: str) -> np.ndarray:
    """The 0/1 target column (1 = bad), or an error naming what is wrong with it."""
    if target not in table.column_names:
        raise ModelInputError(f"target column {target!r} is not in the data; columns are "
                              f"{table.column_names[:20]}")
    column = table.column(target)
    values = column.to_pylist()
    if any(v is None for v in values):
        raise ModelInputError("has missing values; every row needs a 0/1 outcome", target)
    found = sorted({str(v) for v in values})
    if not set(found) <= {"0", "1", "0.0", "1.0", "True", "False", "true", "false"}:
        raise ModelInputError(f"must hold only 0 and 1 (1 = bad); found {found[:10]}", target)
    y = np.array([1 if str(v) in ("1", "1.0", "True", "true") else 0 for v in values])
    if y.min() == y.max():
        raise ModelInputError(f"is constant ({int(y[0])}): a model needs both outcomes", target)
    return y


def points_from_pd(pd: np.ndarray) -> np.ndarray:
    """Points on the bank's PDO scale (600 at 50:1 good:bad, 20 points to double)."""
    factor = PDO / np.log(2.0)
    clipped = np.clip(pd, 1e-12, 1 - 1e-12)
    return BASE_POINTS - factor * np.log(BASE_ODDS) + factor * np.log((1 - clipped) / clipped)


def fit(
    data: Path,
    target: str,
    out: Path,
    *,
    kind: str = "scorecard",
    categorical: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """Fit ``kind`` on ``data`` and write the model directory ``out``; return its summary."""
    if kind not in KINDS:
        raise ModelInputError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    table = read_table(data)
    y = target_of(table, target)
    unknown = [c for c in [*exclude, *categorical] if c not in table.column_names]
    if unknown:
        raise ModelInputError(f"columns named in --exclude/--categorical are not in the data: "
                              f"{unknown}")
    features = [c for c in table.column_names if c != target and c not in set(exclude)]
    if not features:
        raise ModelInputError("no feature columns left after the target and --exclude")
    X = table.select(features)
    model: Scorecard | GBDTModel = Scorecard() if kind == "scorecard" else GBDTModel()
    model.fit(X, y, categorical=[c for c in categorical if c in features])
    pd = model.predict_proba(X)[:, 1]
    quality = discrimination(y, pd)
    scale = MasterScale()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(model, Scorecard):
        (out / "scorecard.json").write_text(json.dumps(model.to_dict(), ensure_ascii=False))
        used = list(model.features_)
        score = model.score(X)
    else:
        model.save(out / "gbdt")
        used = list(model.features_)
        score = points_from_pd(pd)
    development = {"y": y, "pd": pd, "score": score}
    if isinstance(model, Scorecard):  # each row's bin per feature, for CSI in later reports
        development |= {BIN_PREFIX + f: b.astype(str) for f, b in model.assigned_bins(X).items()}
    pq.write_table(pa.table(development), out / DEVELOPMENT)
    metrics = {"auc_train": round(quality.auc, 6), "ks_train": round(quality.ks, 6),
               "gini_train": round(quality.gini, 6), "rows": len(y),
               "bad_rate": round(float(y.mean()), 6)}
    manifest = {
        "kind": kind, "features": used, "target": target,
        "params": {k: _json_safe(v) for k, v in model.get_params().items()},
        "metrics": metrics, "data_fingerprint": file_fingerprint(data),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "categorical": [c for c in categorical if c in used],
        "dropped": {k: str(v) for k, v in getattr(model, "dropped_", {}).items()},
        "master_scale": scale.to_dict(), "source_file": Path(data).name,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return {**metrics, "features": used, "model_dir": str(out), "kind": kind,
            "dropped": manifest["dropped"]}


def load(directory: Path) -> FittedModel:
    """A model directory written by ``fit`` (or a registry copy of one)."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise ModelInputError(f"{directory} is not a model directory: no {MANIFEST}") from None
    kind = manifest.get("kind")
    if kind == "scorecard":
        body = json.loads((directory / "scorecard.json").read_text("utf-8"))
        model: Scorecard | GBDTModel = Scorecard.from_dict(body)
    elif kind == "gbdt":
        model = GBDTModel.load(directory / "gbdt")
    else:
        raise ModelInputError(f"{directory / MANIFEST}: unknown model kind {kind!r}")
    scale = MasterScale.from_dict(manifest["master_scale"]) if "master_scale" in manifest \
        else MasterScale()
    return FittedModel(directory, kind, manifest, model, scale)


def predict(fitted: FittedModel, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(pd, score) for every row; refuses a table without the model's columns."""
    missing = [f for f in fitted.features if f not in table.column_names]
    if missing:
        raise ModelInputError(f"the data lacks columns the model needs: {missing}")
    X = table.select(fitted.features)
    pd = fitted.model.predict_proba(X)[:, 1]
    if isinstance(fitted.model, Scorecard):
        return pd, fitted.model.score(X)
    return pd, points_from_pd(pd)


def reason_lists(fitted: FittedModel, table: pa.Table, top: int = 3) -> list[list[dict]]:
    """Per row, the features that lowered its score most: feature, zh and en labels."""
    X = table.select(fitted.features)
    if isinstance(fitted.model, Scorecard):
        rows = fitted.model.reasons(X, top)
        return [[{"feature": r["feature"], "zh": r["label_zh"], "en": r["label_en"]}
                 for r in row] for row in rows]
    rows = fitted.model.reasons_table(X, top)
    return [[{"feature": r.feature, "zh": r.label_zh, "en": r.label_en} for r in row]
            for row in rows]


def score(model_dir: Path, data: Path, out: Path, *, top: int = 3) -> dict[str, Any]:
    """Write ``data``'s rows, in their order, with ``score``, ``pd``, ``grade``, ``reasons``
    (feature codes joined by ``|``) and ``reasons_zh``; CSV or Parquet by ``out``'s name."""
    fitted = load(model_dir)
    table = read_table(data)
    pd, points = predict(fitted, table)
    reasons = reason_lists(fitted, table, top)
    scored = (
        table.append_column("score", pa.array(np.round(points, 2)))
        .append_column("pd", pa.array(pd))
        .append_column("grade", pa.array(fitted.scale.grades(pd).tolist(), pa.string()))
        .append_column("reasons", pa.array(["|".join(r["feature"] for r in row)
                                            for row in reasons], pa.string()))
        .append_column("reasons_zh", pa.array(["；".join(r["zh"] for r in row)
                                               for row in reasons], pa.string()))
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    name = out.name.lower()
    con = duckdb.connect()
    try:
        relation = con.from_arrow(scored)
        if name.endswith(".parquet"):
            relation.write_parquet(str(out))
        elif name.endswith(".csv"):
            relation.write_csv(str(out))
        else:
            raise ModelInputError(f"{out.name}: the output must end in .csv or .parquet")
    finally:
        con.close()
    return {"rows": scored.num_rows, "out": str(out), "model_dir": str(model_dir)}


def report(model_dir: Path, data: Path, out: Path, *, name: str | None = None
           ) -> dict[str, Any]:
    """Validation report (HTML + JSON) of the model on ``data`` against its development."""
    fitted = load(model_dir)
    table = read_table(data)
    target = fitted.manifest["target"]
    # A recent sample too young to have outcomes still shows stability (PSI), not AUC.
    y = target_of(table, target) if target in table.column_names else None
    pd, points = predict(fitted, table)
    dev = pq.read_table(Path(model_dir) / DEVELOPMENT)
    bin_tables = csi_bins = None
    if isinstance(fitted.model, Scorecard):
        bin_tables = fitted.model.bin_tables()
        recent_bins = fitted.model.assigned_bins(table.select(fitted.features))
        csi_bins = {f: (dev.column(BIN_PREFIX + f).to_numpy(zero_copy_only=False),
                        recent_bins[f].astype(str))
                    for f in fitted.features if BIN_PREFIX + f in dev.column_names}
    built = build_validation_report(
        name=name or fitted.manifest.get("source_file", Path(model_dir).name),
        version=str(fitted.manifest.get("version", "draft")), kind=fitted.kind,
        y_dev=dev.column("y").to_numpy(), pd_dev=dev.column("pd").to_numpy(),
        y_recent=y, pd_recent=pd,
        score_dev=dev.column("score").to_numpy(), score_recent=np.asarray(points),
        bin_tables=bin_tables, csi_bins=csi_bins, master_scale=fitted.scale.table(),
        dev_period="development 开发样本", recent_period=Path(data).name,
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(built, ensure_ascii=False, indent=1))
    (out / "report.html").write_text(render_html(built), "utf-8")
    summary = built["summary"]
    return {"out": str(out), "html": str(out / "report.html"), "summary": summary}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def monitor(model_dir: Path, data: Path, period: str) -> dict[str, Any]:
    """PSI (and AUC/KS where outcomes exist) of the model's PD per period of ``data``.

    ``period`` names the column that says which month (or any period) a row belongs to; the
    reference is the development sample the model was fitted on. Periods are reported in
    sorted order; rows without a period are refused, not guessed.
    """
    fitted = load(model_dir)
    table = read_table(data)
    if period not in table.column_names:
        raise ModelInputError(f"period column {period!r} is not in the data")
    labels = table.column(period).to_pylist()
    if any(label is None for label in labels):
        raise ModelInputError("has rows without a period", period)
    pd, _ = predict(fitted, table)
    target = fitted.manifest["target"]
    y = target_of(table, target) if target in table.column_names else None
    dev = pq.read_table(Path(model_dir) / DEVELOPMENT)
    text = np.array([str(label) for label in labels], dtype=object)
    periods = []
    for label in sorted(set(text.tolist())):
        rows = text == label
        periods.append(Period(label, pd[rows], None if y is None else y[rows]))
    found = monitor_periods(dev.column("pd").to_numpy(), periods,
                            reference_y=dev.column("y").to_numpy())
    return {"model_dir": str(model_dir), "periods": found, "flagged": flagged(found)}
