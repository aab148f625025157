"""The model validation report, as data: one JSON-safe dict that a page, a file or an API shows.

Why data first: the same report is rendered to HTML for the validation committee, archived as
JSON next to the model version in the registry, and compared between versions; so it is built
once here, from arrays only (no store, no domain words), and every number in it is a plain
Python number. ``validation_html.render_html`` turns it into a page.

Traffic lights (``Thresholds``; every bound can be changed by the bank's model-risk policy):
AUC green ≥ 0.70, amber ≥ 0.65; KS green ≥ 0.30, amber ≥ 0.20; PSI and CSI green < 0.10,
amber < 0.25; AUC drop from development to the recent sample green ≤ 0.03, amber ≤ 0.05;
Hosmer–Lemeshow and per-grade binomial p-values green ≥ 0.05, amber ≥ 0.01; red otherwise.
The overall light is the worst of the summary's lights. AUC and KS are judged on both samples;
the Hosmer–Lemeshow test on the recent sample where it has outcomes (the model's present; the
development sample's HL is in the calibration section), else on development.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from xiaowei.engine.models import metrics
from xiaowei.engine.models.metrics import ArrayLike

SCHEMA = "xiaowei.model-validation/1"
LIGHT_ORDER = {"green": 0, "amber": 1, "red": 2}
_HIGHER_IS_BETTER = {"auc", "ks", "hl_p", "binomial_p"}
IV_STRENGTH = ((0.02, "无预测力 unpredictive"), (0.1, "弱 weak"), (0.3, "中 medium"),
               (0.5, "强 strong"), (math.inf, "过强，需核查 suspiciously strong"))


@dataclass(frozen=True)
class Thresholds:
    """Traffic-light bounds per measure as (green bound, amber bound); beyond amber is red."""

    auc: tuple[float, float] = (0.70, 0.65)
    ks: tuple[float, float] = (0.30, 0.20)
    psi: tuple[float, float] = (0.10, 0.25)
    csi: tuple[float, float] = (0.10, 0.25)
    auc_drop: tuple[float, float] = (0.03, 0.05)
    hl_p: tuple[float, float] = (0.05, 0.01)
    binomial_p: tuple[float, float] = (0.05, 0.01)

    def __post_init__(self) -> None:
        for f in fields(self):
            green, amber = getattr(self, f.name)
            ordered = green >= amber if f.name in _HIGHER_IS_BETTER else green <= amber
            if not (math.isfinite(green) and math.isfinite(amber) and ordered):
                raise ValueError(f"thresholds.{f.name} must be (green, amber) with green "
                                 f"{'≥' if f.name in _HIGHER_IS_BETTER else '≤'} amber; "
                                 f"got {(green, amber)!r}")

    def light(self, measure: str, value: float | None) -> str | None:
        """'green', 'amber' or 'red' for a value of ``measure``; None where nothing was measured."""
        if value is None or not math.isfinite(value):
            return None
        green, amber = getattr(self, measure)
        if measure in _HIGHER_IS_BETTER:
            return "green" if value >= green else "amber" if value >= amber else "red"
        return "green" if value < green else "amber" if value < amber else "red"

    def as_dict(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in asdict(self).items()}


def worst(lights: Sequence[str | None]) -> str | None:
    """The worst of several lights (None where none was given)."""
    given = [light for light in lights if light]
    return max(given, key=LIGHT_ORDER.__getitem__) if given else None


def iv_strength(iv: float) -> str:
    """The usual reading of an information value (Siddiqi's rule of thumb)."""
    return next(label for bound, label in IV_STRENGTH if iv < bound)


def _clean(value: Any) -> Any:
    """Plain JSON types only: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _grades(master_scale: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """Grade names and PD edges of a master scale; grades must be contiguous and ascending."""
    if not master_scale:
        raise ValueError("master_scale must list at least one grade")
    names, edges = [], []
    for i, grade in enumerate(master_scale):
        try:
            name, low, high = str(grade["grade"]), float(grade["pd_low"]), float(grade["pd_high"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"master_scale[{i}] needs grade, pd_low and pd_high: {exc}") from None
        if not (0 <= low < high <= 1):
            raise ValueError(f"master_scale[{i}] ({name}): need 0 ≤ pd_low < pd_high ≤ 1, "
                             f"got {low}..{high}")
        if edges and not math.isclose(edges[-1], low, rel_tol=0, abs_tol=1e-12):
            raise ValueError(f"master_scale[{i}] ({name}): pd_low {low} does not continue the "
                             f"previous grade's pd_high {edges[-1]}")
        names.append(name)
        edges[-1:] = [low, high]
    return names, np.array(edges)


def _grade_index(pd: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Grade of each PD on ``[pd_low, pd_high)``; PDs beyond the scale go to the end grades."""
    return np.searchsorted(edges[1:-1], pd, side="right")


def _check_bin_tables(tables: Sequence[Mapping[str, Any]]) -> list[dict]:
    out = []
    for i, table in enumerate(tables):
        where = f"bin_tables[{i}]"
        if not isinstance(table, Mapping) or not isinstance(table.get("feature"), str):
            raise ValueError(f"{where} must be a mapping with a 'feature' name")
        try:
            iv = float(table["iv"])
            rows = [{"bin": str(r["bin"]), "count": int(r["count"]), "share": float(r["share"]),
                     "event_rate": float(r["event_rate"]), "woe": float(r["woe"]),
                     **({"points": float(r["points"])} if r.get("points") is not None else {})}
                    for r in table["rows"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where} ({table['feature']!r}) needs iv and rows of bin, count, "
                             f"share, event_rate, woe: {exc!r}") from None
        out.append({"feature": table["feature"], "iv": iv, "strength": iv_strength(iv),
                    "rows": rows})
    return out


def _sample(y: np.ndarray | None, pd: np.ndarray) -> dict:
    out: dict = {"n": int(pd.size), "mean_pd": float(pd.mean())}
    if y is not None:
        out.update(events=int(y.sum()), event_rate=float(y.mean()))
    return out


def _discrimination(y: np.ndarray, pd: np.ndarray, n_groups: int) -> dict:
    d = metrics.discrimination(y, pd)
    roc = metrics.roc_curve(y, pd, max_points=200)
    return {"auc": d.auc, "gini": d.gini, "ks": d.ks, "ks_cutoff": d.ks_cutoff,
            "roc": {"fpr": roc.fpr.tolist(), "tpr": roc.tpr.tolist()},
            "gains": metrics.gains_table(y, pd, n_groups)}


def _checked(y: ArrayLike | None, pd: ArrayLike | None, score: ArrayLike | None,
             sample: str) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Arrays of one sample, checked together; messages name the argument (``y_dev`` …)."""
    p = None if pd is None else metrics.check_pd(pd, f"pd_{sample}")
    t = None if y is None else metrics.check_target(y, f"y_{sample}")
    s = None if score is None else metrics.check_scores(score, f"score_{sample}")
    if t is not None and p is None:
        raise ValueError(f"pd_{sample} is required when y_{sample} is given")
    for name, array in ((f"y_{sample}", t), (f"score_{sample}", s)):
        if array is not None and p is not None and array.size != p.size:
            raise ValueError(f"{name} has {array.size} rows but pd_{sample} has {p.size}")
    if s is not None and p is None:
        raise ValueError(f"pd_{sample} is required when score_{sample} is given")
    return t, p, s


def build_validation_report(
    *, name: str, version: str, kind: str, y_dev: ArrayLike, pd_dev: ArrayLike,
    y_recent: ArrayLike | None = None, pd_recent: ArrayLike | None = None,
    score_dev: ArrayLike | None = None, score_recent: ArrayLike | None = None,
    bin_tables: Sequence[Mapping[str, Any]] | None = None,
    csi_bins: Mapping[str, tuple[ArrayLike, ArrayLike]] | None = None,
    master_scale: Sequence[Mapping[str, Any]] | None = None,
    thresholds: Thresholds | None = None, n_groups: int = 10, psi_bins: int = 10,
    dev_period: str | None = None, recent_period: str | None = None,
    as_of: str | None = None,
) -> dict:
    """The whole validation report as a JSON-safe dict (schema ``SCHEMA``).

    ``y_*`` are outcomes (1 = event), ``pd_*`` predicted probabilities, ``score_*`` optional
    scores (any direction; used for the distribution and the PSI). The recent sample may come
    without outcomes (too young to have matured): it then has stability but no discrimination.
    """
    rules = thresholds or Thresholds()
    y_d, p_d, s_d = _checked(y_dev, pd_dev, score_dev, "dev")
    y_r, p_r, s_r = _checked(y_recent, pd_recent, score_recent, "recent")
    if y_d is None or p_d is None:
        raise ValueError("y_dev and pd_dev are required")
    if y_d.min() == y_d.max():
        raise ValueError("y_dev holds a single class; validation needs events and non-events")
    if y_r is not None and y_r.min() == y_r.max():
        y_r = None  # an immature recent sample: stability only (said in the summary)
    if s_r is not None and s_d is None:
        raise ValueError("score_recent needs score_dev: scores are compared with development")
    names, edges = _grades(master_scale) if master_scale is not None else ([], None)
    tables = _check_bin_tables(bin_tables or [])

    samples = {"dev": {**_sample(y_d, p_d), "period": dev_period},
               "recent": None if p_r is None else {**_sample(y_r, p_r), "period": recent_period}}
    if p_r is not None and y_recent is not None and y_r is None:
        samples["recent"]["note"] = "single_class"
    disc = {"dev": _discrimination(y_d, p_d, n_groups),
            "recent": None if y_r is None else _discrimination(y_r, p_r, n_groups)}

    def calibrate(y: np.ndarray, p: np.ndarray, ddof: int) -> dict:
        table = (metrics.calibration_table(y, p, edges=edges, labels=names, ddof=ddof)
                 if edges is not None else metrics.calibration_table(y, p, n_groups, ddof=ddof))
        for row in table["rows"]:
            row["light"] = rules.light("binomial_p", row["binomial_p"])
        table["light"] = rules.light("hl_p", table["hl_p_value"])
        return table

    calibration = {"buckets": "master_scale" if edges is not None else "quantile",
                   "dev": calibrate(y_d, p_d, 2),
                   "recent": None if y_r is None else calibrate(y_r, p_r, 0)}

    stability: dict = {"psi": None, "grade_psi": None, "csi": []}
    if p_r is not None:
        basis = "score" if s_d is not None and s_r is not None else "pd"
        expected, actual = (s_d, s_r) if basis == "score" else (p_d, p_r)
        table = metrics.psi_table(expected, actual, psi_bins)
        stability["psi"] = {**table, "basis": basis, "light": rules.light("psi", table["value"])}
        if edges is not None:
            grade = metrics.csi_table(_grade_index(p_d, edges), _grade_index(p_r, edges))
            for row in grade["rows"]:
                row["bin"] = names[row["bin"]]
            stability["grade_psi"] = {**grade, "light": rules.light("psi", grade["value"])}
    labels_of = {t["feature"]: [r["bin"] for r in t["rows"]] for t in tables}
    for feature, pair in (csi_bins or {}).items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"csi_bins[{feature!r}] must be (dev bins, recent bins)")
        table = metrics.csi_table(*pair)
        bins = labels_of.get(str(feature), [])
        for row in table["rows"]:
            b = row["bin"]
            row["label"] = (bins[b] if isinstance(b, int) and 0 <= b < len(bins) else str(b))
        stability["csi"].append({"feature": str(feature), **table,
                                 "light": rules.light("csi", table["value"])})
    stability["csi"].sort(key=lambda t: -t["value"])

    basis = "score" if s_d is not None else "pd"
    dev_values, recent_values = (s_d, s_r) if basis == "score" else (p_d, p_r)
    both = dev_values if recent_values is None else np.r_[dev_values, recent_values]
    cut = np.histogram_bin_edges(both, bins=20)
    distribution = {"basis": basis, "edges": cut.tolist(),
                    "dev": metrics.score_histogram(dev_values, edges=cut, y=y_d),
                    "recent": None if recent_values is None else metrics.score_histogram(
                        recent_values, edges=cut, y=y_r)}

    summary = _summary(rules, disc, calibration, stability)
    report = {
        "schema": SCHEMA, "as_of": as_of,
        "model": {"name": str(name), "version": str(version), "kind": str(kind)},
        "samples": samples, "thresholds": rules.as_dict(), "summary": summary,
        "discrimination": disc, "calibration": calibration, "stability": stability,
        "bins": tables, "score_distribution": distribution,
        "master_scale": [{"grade": g, "pd_low": float(lo), "pd_high": float(hi)}
                         for g, lo, hi in zip(names, edges[:-1], edges[1:], strict=True)]
        if edges is not None else None,
    }
    return _clean(report)


def _summary(rules: Thresholds, disc: dict, calibration: dict, stability: dict) -> dict:
    rows = []

    def add(key: str, sample: str, value: float | None, measure: str | None) -> None:
        rows.append({"measure": key, "sample": sample, "value": value,
                     "light": rules.light(measure, value) if measure else None})

    current = "recent" if disc["recent"] is not None else "dev"
    for sample in ("dev", "recent"):
        if disc[sample] is None:
            continue
        add("auc", sample, disc[sample]["auc"], "auc")
        add("ks", sample, disc[sample]["ks"], "ks")
        add("gini", sample, disc[sample]["gini"], None)
    if disc["recent"] is not None:
        add("auc_drop", "recent", disc["dev"]["auc"] - disc["recent"]["auc"], "auc_drop")
    add("hl_p", current, calibration[current]["hl_p_value"], "hl_p")
    if stability["psi"] is not None:
        add("psi", "recent", stability["psi"]["value"], "psi")
    if stability["csi"]:
        add("csi_max", "recent", stability["csi"][0]["value"], "csi")
    return {"rows": rows, "light": worst([r["light"] for r in rows]), "judged_on": current}
