"""Out-of-time fitting shared by the customer models: split by month-end, count, fit, judge.

Why shared: the offer propensity and the churn-at-maturity model are fitted the house way
(:mod:`xiaowei.postloan.behaviour_score`): rows observed at month-ends, the last month-ends
held out, a WoE scorecard whose manifest carries the out-of-time AUC and KS, registered by a
modeller and approved by a second person. Only the population, the target and the features
differ, so those are the callers'; the procedure is here once.

"Bad" in the scorecard's sense is the event the model predicts (the customer *takes* a product;
the loan *churns*): the scorecard's PD is then that event's probability.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.engine.models.metrics import discrimination, psi
from xiaowei.modelling.scorecard_dir import fit_scorecard_dir
from xiaowei.modelling.workbench import (
    MANIFEST,
    FittedModel,
    load,
)

UNITS = {"loan_id": "loans", "party_id": "customers"}
SCORECARD_PARAMS: dict[str, Any] = {"min_bin_share": 0.02, "max_bins": 6}
"""Departures from the scorecard's defaults: events are common here (tens of percent), so a
2 % bin floor keeps small but telling groups (a customer who applied last month) apart."""


@dataclass(frozen=True)
class LookAlikeSet:
    """Rows observed at month-ends: ``keys``, the features and ``bad`` (the event)."""

    table: pa.Table
    month_ends: tuple[dt.date, ...]
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    unit: str  # the column whose distinct values are counted (party_id, loan_id)
    known_by: dt.date
    seconds: float

    def split(self, oot_months: int) -> tuple[dt.date, pa.Table, pa.Table]:
        """(cut, rows at month-ends ≤ cut, rows after it): the last ``oot_months`` month-ends
        are out of time."""
        if not (isinstance(oot_months, int) and 1 <= oot_months < len(self.month_ends)):
            raise ValueError(f"oot_months must leave at least one training month-end of the "
                             f"{len(self.month_ends)} in the window, got {oot_months!r}")
        cut = self.month_ends[-oot_months - 1]
        after = pc.greater(self.table["as_of"], pa.scalar(cut, pa.date32()))
        return cut, self.table.filter(pc.invert(after)), self.table.filter(after)


def counts(table: pa.Table, unit: str) -> dict[str, int]:
    """Rows, events, and distinct units with an event / in all."""
    bad = np.asarray(table["bad"].to_numpy(zero_copy_only=False)) == 1
    units = np.asarray(table[unit].to_pylist(), dtype=object)
    return {"rows": table.num_rows, "events": int(bad.sum()),
            "event_units": len(set(units[bad].tolist())), "units": len(set(units.tolist()))}


def check_counts(train: pa.Table, oot: pa.Table, unit: str, minimum: int, what: str,
                 cut: dt.date) -> tuple[dict[str, int], dict[str, int]]:
    """Both samples' counts; ``ValueError`` naming them when either has fewer than
    ``minimum`` units with the event or without it."""
    if not (isinstance(minimum, int) and minimum >= 1):
        raise ValueError(f"the minimum must be a whole number ≥ 1, got {minimum!r}")
    a, b = counts(train, unit), counts(oot, unit)
    short = [s for s in (a, b) if s["event_units"] < minimum
             or s["rows"] - s["events"] < minimum]
    if short:
        noun = UNITS.get(unit, unit)
        raise ValueError(
            f"too few outcomes to fit {what}: training (month-ends to {cut}) has "
            f"{a['event_units']} {noun} with the event in {a['rows']} rows ({a['events']} "
            f"events), out of time has {b['event_units']} {noun} with the event in "
            f"{b['rows']} rows ({b['events']} events); need at least {minimum} {noun} with "
            f"the event and {minimum} rows without it in each — widen the window or wait "
            f"for more outcomes")
    return a, b


def fit_scorecard(data: Path, out: Path, categorical: Sequence[str],
                  labels: Mapping[str, tuple[str, str]],
                  params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A scorecard on ``data`` (features + ``bad``) written as the workbench writes a model
    directory, so the registry and ``xiaowei model …`` read it as any other."""
    return fit_scorecard_dir(data, out, params={**SCORECARD_PARAMS, **(params or {})},
                             labels=labels, categorical=categorical)


def fit_out_of_time(training: LookAlikeSet, out: Path, *, oot_months: int, minimum: int,
                    what: str, labels: Mapping[str, tuple[str, str]],
                    describe: Mapping[str, Any],
                    params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Fit on the month-ends up to the cut, judge on the rest; write ``out`` with the
    out-of-time figures (and ``describe``: population, target) in its manifest."""
    cut, train, oot = training.split(oot_months)
    a, b = check_counts(train, oot, training.unit, minimum, what, cut)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = [*training.features, "bad"]
    data = out.parent / f"{out.name}-train.parquet"
    pq.write_table(train.select(columns), data)
    fitted = fit_scorecard(data, out, training.categorical, labels, params)
    model = load(out)
    pd_train = predict(model, train)
    pd_oot = predict(model, oot)
    y_train = np.asarray(train["bad"].to_numpy(zero_copy_only=False))
    y_oot = np.asarray(oot["bad"].to_numpy(zero_copy_only=False))
    on_train, on_oot = discrimination(y_train, pd_train), discrimination(y_oot, pd_oot)
    figures = {"auc_train": round(on_train.auc, 4), "ks_train": round(on_train.ks, 4),
               "auc_oot": round(on_oot.auc, 4), "ks_oot": round(on_oot.ks, 4),
               "psi_oot": round(psi(pd_train, pd_oot), 4),
               "event_rate_train": round(float(y_train.mean()), 4),
               "event_rate_oot": round(float(y_oot.mean()), 4),
               "mean_p_oot": round(float(pd_oot.mean()), 4)}
    window = {"first": training.month_ends[0].isoformat(), "cut": cut.isoformat(),
              "last": training.month_ends[-1].isoformat(),
              "known_by": training.known_by.isoformat()}
    path = out / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    manifest["metrics"] = {**manifest["metrics"], **figures, "rows_oot": b["rows"],
                           "events_train": a["events"], "events_oot": b["events"]}
    manifest["customer_model"] = {**window, **dict(describe)}
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return {**figures, "kind": "scorecard", "model_dir": str(out),
            "features": fitted["features"], "dropped": fitted["dropped"], "window": window,
            "train": a, "oot": b, "month_ends": len(training.month_ends),
            "seconds": {"training_set": round(training.seconds, 2),
                        "fit": round(time.perf_counter() - started, 2)}}


def predict(fitted: FittedModel, table: pa.Table) -> np.ndarray:
    """The event's probability per row; a table without the model's columns is refused."""
    missing = [f for f in fitted.features if f not in table.column_names]
    if missing:
        raise ValueError(f"the rows lack columns the model reads: {missing}")
    return np.ascontiguousarray(
        fitted.model.predict_proba(table.select(list(fitted.features)))[:, 1], dtype=np.float64)


def register_and_approve(model_dir: Path, name: str, *, maker: str = "demo.modeller",
                         checker: str = "demo.validator", note: str) -> str:
    """Register ``model_dir`` as ``name`` (draft by ``maker``) and approve it by ``checker``
    (maker–checker); its ``name@N``. Registering the same files again returns that version."""
    from xiaowei.origination.app_scorecard import register_and_approve as register

    return register(model_dir, maker=maker, checker=checker, name=name, note=note)


def load_approved(name: str) -> FittedModel | None:
    """``name@approved`` from the registry, or ``None`` when none is approved (or no store)."""
    from xiaowei.modelling.registry import open_registry

    try:
        with open_registry() as registry:
            resolved = registry.resolve(f"{name}@approved")
    except Exception:  # no registry, no such model, not approved: the caller falls back
        return None
    return load(Path(resolved.path))


__all__ = ["SCORECARD_PARAMS", "LookAlikeSet", "check_counts", "counts", "fit_out_of_time",
           "fit_scorecard", "load_approved", "predict", "register_and_approve"]
