"""Ongoing model monitoring: stability (and, where outcomes exist, power) period by period.

Why a job of its own: a model in use is checked every month — has the population drifted from
the one it was built on (PSI), and for the older months whose loans have matured, does it still
rank risk (AUC, KS)? The bins are fixed once on the reference sample so every month is
measured with the same ruler, and a month is flagged when a measure crosses the bank's
thresholds (``validation.Thresholds``). Pure computation on arrays; the CLI and the scheduler
read the scores from the store and write the rows back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from xiaowei.engine.models import metrics
from xiaowei.engine.models.metrics import ArrayLike
from xiaowei.engine.models.validation import Thresholds, worst


@dataclass(frozen=True)
class Period:
    """One period's scores (same kind and direction as the reference) and, if matured, outcomes."""

    label: str
    scores: ArrayLike
    y: ArrayLike | None = None


def monitor_periods(
    reference: ArrayLike, periods: Iterable[Period | tuple], *,
    reference_y: ArrayLike | None = None, n_bins: int = 10, cuts: ArrayLike | None = None,
    thresholds: Thresholds | None = None, epsilon: float = metrics.PSI_EPSILON,
) -> list[dict]:
    """One row per period: PSI against ``reference``, AUC/KS/Gini where ``y`` is given.

    ``periods`` holds ``Period`` objects or ``(label, scores[, y])`` tuples, in order. Bins
    are the reference's ``n_bins`` quantiles, or the inner ``cuts`` given (see ``metrics``).
    ``reference_y`` adds the reference AUC and each period's drop from it. A period with no
    rows is reported (flag ``empty``), not refused — a month without applications happens;
    a period whose outcomes hold one class has no AUC (flag ``single_class``).

    Each row: ``period, n, psi, psi_light, events, event_rate, auc, ks, gini, auc_light,
    ks_light, auc_drop, auc_drop_light, light, flags`` (flags name every measure that is amber
    or red, e.g. ``psi_red``) — plain Python values, ready for JSON or a table.
    """
    rules = thresholds or Thresholds()
    ref = metrics.check_scores(reference, "reference")
    inner = (metrics.quantile_cuts(ref, n_bins) if cuts is None
             else np.asarray(cuts, dtype=np.float64).ravel())
    if not np.isfinite(inner).all() or np.any(np.diff(inner) <= 0):
        raise ValueError("cuts must be finite and strictly increasing")
    ref_auc = None
    if reference_y is not None:
        ref_y = metrics.check_target(reference_y, "reference_y")
        if ref_y.size != ref.size:
            raise ValueError(f"reference_y has {ref_y.size} rows but reference has {ref.size}")
        ref_auc = metrics.roc_auc(ref_y, ref)
    rows, seen = [], set()
    for i, item in enumerate(periods):
        period = _period(item, i)
        if period.label in seen:
            raise ValueError(f"periods[{i}]: label {period.label!r} appears twice")
        seen.add(period.label)
        rows.append(_row(period, i, ref, inner, ref_auc, rules, epsilon))
    return rows


def _period(item: Period | tuple, i: int) -> Period:
    if isinstance(item, Period):
        return item
    if isinstance(item, tuple) and len(item) in (2, 3):
        return Period(str(item[0]), item[1], item[2] if len(item) == 3 else None)
    raise ValueError(f"periods[{i}] must be a Period or (label, scores[, y]), got {item!r:.80}")


def _row(period: Period, i: int, ref: np.ndarray, inner: np.ndarray, ref_auc: float | None,
         rules: Thresholds, epsilon: float) -> dict:
    row: dict = {"period": period.label, "n": 0, "psi": None, "psi_light": None,
                 "events": None, "event_rate": None, "auc": None, "ks": None, "gini": None,
                 "auc_light": None, "ks_light": None, "auc_drop": None,
                 "auc_drop_light": None, "light": None, "flags": []}
    raw = np.asarray(period.scores)
    if raw.size == 0:
        row["flags"].append("empty")
        return row
    scores = metrics.check_scores(raw, f"periods[{i}].scores")
    row["n"] = int(scores.size)
    row["psi"] = metrics.psi(ref, scores, cuts=inner, epsilon=epsilon)
    row["psi_light"] = rules.light("psi", row["psi"])
    if period.y is not None:
        y = metrics.check_target(period.y, f"periods[{i}].y")
        if y.size != scores.size:
            raise ValueError(f"periods[{i}].y has {y.size} rows but scores has {scores.size}")
        row["events"], row["event_rate"] = int(y.sum()), float(y.mean())
        if y.min() == y.max():
            row["flags"].append("single_class")
        else:
            d = metrics.discrimination(y, scores)
            row.update(auc=d.auc, ks=d.ks, gini=d.gini, auc_light=rules.light("auc", d.auc),
                       ks_light=rules.light("ks", d.ks))
            if ref_auc is not None:
                row["auc_drop"] = ref_auc - d.auc
                row["auc_drop_light"] = rules.light("auc_drop", row["auc_drop"])
    for measure in ("psi", "auc", "ks", "auc_drop"):
        if row[f"{measure}_light"] in ("amber", "red"):
            row["flags"].append(f"{measure}_{row[f'{measure}_light']}")
    row["light"] = worst([row[f"{m}_light"] for m in ("psi", "auc", "ks", "auc_drop")])
    return row


def flagged(rows: Iterable[dict]) -> list[dict]:
    """Only the periods that need a look: any measure amber or red, or no data at all."""
    return [r for r in rows if r["light"] in ("amber", "red") or "empty" in r["flags"]]
