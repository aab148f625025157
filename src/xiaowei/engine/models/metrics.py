"""Model performance measures: discrimination, ranking tables, calibration and stability.

Why our own: validators must be able to read every formula (and the bank's model-risk policy
names them — AUC, KS, Gini, PSI, CSI, Hosmer–Lemeshow), and one sort of the scores gives AUC,
KS and the ROC curve together in milliseconds for a whole portfolio. AUC equals
``sklearn.metrics.roc_auc_score`` exactly (ties count one half), without importing sklearn.

Conventions, the same in every function:

- ``y`` is the outcome, 1 = event (bad, default, churn), 0 = non-event; bool or 0/1 numbers.
- ``score`` ranks risk: a *higher* score means an event is *more* likely (a PD, a GBDT
  probability). A scorecard whose points rise with quality is passed as ``-points``; KS and
  the PSI do not depend on the direction, AUC and the gains table do.
- Inputs are 1-D array-likes; bad input raises ``ValueError`` whose message begins with the
  argument's name (length mismatch, non-0/1 target, a single class, NaN or infinite scores).
- Tables are lists of plain dicts (Python ints and floats), so a report can be dumped to JSON.

PSI convention (bank practice): bins are fixed on the *expected* (development/reference)
sample — its score deciles by default, or cut points the caller gives — and both samples are
counted in the same bins; bins are right-closed, ``(c[i-1], c[i]]``, with open ends. A share
below ``epsilon`` (default 1e-4, i.e. an empty bin) is raised to ``epsilon`` so the logarithm
stays finite. ``PSI = Σ (a - e) · ln(a / e)``. Read it as: < 0.10 stable, 0.10–0.25 worth a
look, ≥ 0.25 the population has shifted. The sum is symmetric in the two *shares*, so with
fixed cut points ``psi(a, b) == psi(b, a)``; with quantile bins the bins come from the first
argument, so swapping the samples gives a different (usually close) value.
CSI is the same formula over one feature's bins (bin indices or labels).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import stats

ArrayLike = npt.ArrayLike
PSI_EPSILON = 1e-4


def check_target(y: ArrayLike, name: str = "y") -> np.ndarray:
    """``y`` as an int8 array of 0/1; refuses anything else, naming the argument."""
    array = np.asarray(y)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if array.dtype.kind == "b":
        return array.astype(np.int8)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold 0/1 outcomes, got dtype {array.dtype}")
    bad = ~((array == 0) | (array == 1))
    if bad.any():
        raise ValueError(f"{name} must hold only 0 and 1; found {array[bad][0]!r}")
    return array.astype(np.int8)


def check_scores(score: ArrayLike, name: str = "score") -> np.ndarray:
    """``score`` as a finite float64 array; NaN or infinity is refused, naming the argument."""
    try:
        array = np.asarray(score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values "
                         f"({int((~np.isfinite(array)).sum())} of {array.size})")
    return array


def check_pd(pd: ArrayLike, name: str = "pd") -> np.ndarray:
    """``pd`` as finite probabilities in [0, 1]."""
    array = check_scores(pd, name)
    if array.min() < 0 or array.max() > 1:
        raise ValueError(f"{name} must be probabilities in [0, 1]; "
                         f"found {array.min():.4g}..{array.max():.4g}")
    return array


def _pair(y: ArrayLike, score: ArrayLike, score_name: str = "score",
          both_classes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    target, values = check_target(y), check_scores(score, score_name)
    if target.size != values.size:
        raise ValueError(f"{score_name} has {values.size} rows but y has {target.size}")
    if both_classes and (target.min() == target.max()):
        raise ValueError(f"y holds a single class ({int(target[0])}); "
                         "discrimination needs both events and non-events")
    return target, values


def _check_edges(edges: ArrayLike) -> np.ndarray:
    cuts = check_scores(edges, "edges")
    if cuts.size < 2 or np.any(np.diff(cuts) <= 0):
        raise ValueError("edges must be at least two strictly increasing numbers")
    return cuts


def _bounds(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last position of each group in a sorted array (groups given by their sizes)."""
    last = np.cumsum(counts) - 1
    return np.maximum(last - counts + 1, 0), np.maximum(last, 0)


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class _Ranked(NamedTuple):
    """Distinct scores in *descending* order with event and non-event counts at each."""

    scores: np.ndarray
    events: np.ndarray
    nonevents: np.ndarray


def _rank(y: np.ndarray, score: np.ndarray) -> _Ranked:
    order = np.argsort(score)[::-1]
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, ordered.size])
    events = np.add.reduceat(y[order].astype(np.int64), starts)
    return _Ranked(ordered[starts], events, sizes - events)


class Discrimination(NamedTuple):
    """How well a score separates events from non-events, from one sort."""

    auc: float
    gini: float
    ks: float
    ks_cutoff: float  # the score at which the two cumulative distributions are furthest apart
    n: int
    events: int


def discrimination(y: ArrayLike, score: ArrayLike) -> Discrimination:
    """AUC, Gini and KS together (one sort; use this when a report needs all three)."""
    target, values = _pair(y, score)
    ranked = _rank(target, values)
    n1, n0 = int(ranked.events.sum()), int(ranked.nonevents.sum())
    # Exact integer Mann–Whitney count: each event beats the non-events scored below it and
    # ties with those scored equal (worth one half).
    below = n0 - np.cumsum(ranked.nonevents)
    twice = int(np.sum(ranked.events * (2 * below + ranked.nonevents)))
    auc = twice / (2.0 * n1 * n0)
    gap = np.abs(np.cumsum(ranked.events) / n1 - np.cumsum(ranked.nonevents) / n0)
    at = int(np.argmax(gap))
    return Discrimination(auc, 2.0 * auc - 1.0, float(gap[at]), float(ranked.scores[at]),
                          n1 + n0, n1)


def roc_auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve (probability an event outranks a non-event; ties = ½)."""
    return discrimination(y, score).auc


def gini(y: ArrayLike, score: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio) = 2·AUC − 1."""
    return discrimination(y, score).gini


def ks_statistic(y: ArrayLike, score: ArrayLike) -> float:
    """Kolmogorov–Smirnov: the largest gap between events' and non-events' score CDFs."""
    return discrimination(y, score).ks


class RocCurve(NamedTuple):
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray  # "score ≥ threshold" is called an event; the first is +inf


def roc_curve(y: ArrayLike, score: ArrayLike, max_points: int | None = None) -> RocCurve:
    """ROC points at every distinct score, from (0, 0) to (1, 1).

    ``max_points`` thins the curve for a chart: points are kept at evenly spaced shares of the
    population (so steep parts are not lost), always with both ends.
    """
    target, values = _pair(y, score)
    ranked = _rank(target, values)
    tp = np.r_[0, np.cumsum(ranked.events)]
    fp = np.r_[0, np.cumsum(ranked.nonevents)]
    thresholds = np.r_[np.inf, ranked.scores]
    if max_points is not None and tp.size > _check_count(max_points, "max_points"):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        seen = tp + fp
        wanted = np.linspace(0, seen[-1], max_points)
        keep = np.unique(np.r_[0, np.searchsorted(seen, wanted), tp.size - 1])
        tp, fp, thresholds = tp[keep], fp[keep], thresholds[keep]
    return RocCurve(fp / fp[-1], tp / tp[-1], thresholds)


def _equal_count_groups(ordered: np.ndarray, n_groups: int) -> np.ndarray:
    """Group number (0-based) of each value of a *sorted* array; ties stay in one group.

    A tie run belongs to the group in which it starts, so groups are equal-sized where the
    scores allow and the result never depends on the order of tied rows.
    """
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, ordered.size]))
    return np.minimum(first * n_groups // ordered.size, n_groups - 1)


def gains_table(y: ArrayLike, score: ArrayLike, n_groups: int = 10) -> list[dict]:
    """Gains and lift by score group, riskiest group first (deciles by default).

    ``capture`` is the cumulative share of all events found by reviewing down to that group;
    it ends at 1.0. ``lift`` compares a group's event rate with the whole sample's, ``ks`` is
    the cumulative event share minus the cumulative non-event share.
    """
    target, values = _pair(y, score, both_classes=False)
    n_groups = _check_count(n_groups, "n_groups")
    order = np.argsort(values)[::-1]
    ordered, hits = values[order], target[order].astype(np.int64)
    group = _equal_count_groups(ordered, n_groups)
    counts = np.bincount(group, minlength=n_groups)
    events = np.bincount(group, weights=hits, minlength=n_groups).astype(np.int64)
    n, total = ordered.size, int(hits.sum())
    overall = total / n
    first, last = _bounds(counts)
    rows, cum_n, cum_e = [], 0, 0
    for g in np.flatnonzero(counts):
        cum_n, cum_e = cum_n + int(counts[g]), cum_e + int(events[g])
        rate = events[g] / counts[g]
        capture = cum_e / total if total else 0.0
        non_capture = (cum_n - cum_e) / (n - total) if n > total else 0.0
        rows.append({
            "group": len(rows) + 1, "score_max": float(ordered[first[g]]),
            "score_min": float(ordered[last[g]]), "count": int(counts[g]),
            "events": int(events[g]), "event_rate": float(rate),
            "cum_count": cum_n, "cum_share": cum_n / n, "cum_events": cum_e,
            "cum_event_rate": cum_e / cum_n, "capture": capture,
            "lift": float(rate / overall) if overall else 0.0,
            "cum_lift": (cum_e / cum_n) / overall if overall else 0.0,
            "ks": capture - non_capture,
        })
    return rows


def hosmer_lemeshow(observed: ArrayLike, expected: ArrayLike, counts: ArrayLike,
                    ddof: int = 2) -> tuple[float, int, float | None]:
    """Hosmer–Lemeshow χ² over buckets: (statistic, degrees of freedom, p-value).

    ``Σ (O − E)² / (E · (1 − E/n))`` with ``groups − ddof`` degrees of freedom: ddof=2 on the
    sample the model was fitted on, 0 on an independent sample. With very large samples it
    rejects even small miscalibration, so read it with the per-bucket table beside it.
    """
    o, e, n = (np.asarray(a, dtype=np.float64) for a in (observed, expected, counts))
    keep = n > 0
    o, e, n = o[keep], e[keep], n[keep]
    variance = e * (1.0 - e / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(variance > 0, (o - e) ** 2 / variance,
                         np.where(np.isclose(o, e), 0.0, np.inf))
    statistic, dof = float(terms.sum()), int(o.size - ddof)
    p_value = float(stats.chi2.sf(statistic, dof)) if dof > 0 else None
    return statistic, dof, p_value


def calibration_table(y: ArrayLike, pd: ArrayLike, n_groups: int = 10,
                      edges: ArrayLike | None = None, labels: list[str] | None = None,
                      ddof: int = 2) -> dict:
    """Predicted PD against the observed event rate per bucket, with HL and binomial tests.

    Buckets are equal-count PD groups (``n_groups``), or the intervals ``[edges[i],
    edges[i+1])`` of a master scale (the last one closed; PDs beyond the ends are counted in
    the end buckets). ``binomial_p`` per bucket is one-sided — the chance of at least this
    many events if the true PD were the bucket's mean predicted PD — because a validator's
    question is whether the model *under*-states risk.
    """
    target, probs = _pair(y, pd, "pd", both_classes=False)
    probs = check_pd(probs)
    if edges is None:
        n_groups = _check_count(n_groups, "n_groups")
        order = np.argsort(probs)
        target, probs = target[order], probs[order]
        bucket = _equal_count_groups(probs, n_groups)
        size = n_groups
    else:
        cuts = _check_edges(edges)
        bucket = np.searchsorted(cuts[1:-1], probs, side="right")
        size = cuts.size - 1
    if labels is not None and len(labels) != size:
        raise ValueError(f"labels has {len(labels)} names for {size} buckets")
    counts = np.bincount(bucket, minlength=size)
    if edges is None:  # a quantile bucket's range is the PDs it holds
        first, last = _bounds(counts)
        low, high = probs[first], probs[last]
    else:
        low, high = cuts[:-1], cuts[1:]
    events = np.bincount(bucket, weights=target, minlength=size)
    expected = np.bincount(bucket, weights=probs, minlength=size)
    rows = []
    for b in range(size):
        if counts[b] == 0 and edges is None:
            continue
        n, o, e = int(counts[b]), int(events[b]), float(expected[b])
        mean_pd = e / n if n else None
        p_value = float(stats.binom.sf(o - 1, n, mean_pd)) if n else None
        rows.append({
            "bucket": labels[b] if labels is not None else f"{len(rows) + 1}",
            "pd_low": float(low[b]), "pd_high": float(high[b]), "count": n, "events": o,
            "expected_events": e, "mean_pd": mean_pd, "event_rate": o / n if n else None,
            "binomial_p": p_value,
        })
    statistic, dof, p_value = hosmer_lemeshow(events, expected, counts, ddof)
    return {"rows": rows, "n": int(target.size), "events": int(target.sum()),
            "mean_pd": float(probs.mean()), "event_rate": float(target.mean()),
            "hl_statistic": statistic, "hl_dof": dof, "hl_p_value": p_value}


def score_histogram(score: ArrayLike, bins: int = 20, edges: ArrayLike | None = None,
                    y: ArrayLike | None = None) -> dict:
    """Counts and shares of scores in equal-width bins (or given ``edges``).

    Scores beyond the given edges are counted in the end bins, so shares always sum to one;
    with ``y`` the event rate per bin is added (None for an empty bin).
    """
    values = check_scores(score)
    if edges is None:
        cuts = np.histogram_bin_edges(values, bins=_check_count(bins, "bins"))
    else:
        cuts = _check_edges(edges)
    index = np.clip(np.searchsorted(cuts, values, side="right") - 1, 0, cuts.size - 2)
    counts = np.bincount(index, minlength=cuts.size - 1)
    out: dict = {"edges": cuts.tolist(), "counts": counts.tolist(),
                 "shares": (counts / values.size).tolist()}
    if y is not None:
        target = check_target(y)
        if target.size != values.size:
            raise ValueError(f"y has {target.size} rows but score has {values.size}")
        events = np.bincount(index, weights=target, minlength=cuts.size - 1)
        out["event_rates"] = [float(e / c) if c else None for e, c in zip(events, counts,
                                                                          strict=True)]
    return out


def quantile_cuts(expected: ArrayLike, n_bins: int = 10) -> np.ndarray:
    """Inner cut points at the quantiles of the expected sample (duplicates dropped)."""
    values = check_scores(expected, "expected")
    n_bins = _check_count(n_bins, "n_bins")
    q = np.arange(1, n_bins) / n_bins
    cuts = np.unique(np.quantile(values, q, method="inverted_cdf"))
    return cuts[cuts < values.max()]  # a cut at the maximum would leave the top bin empty


def _check_epsilon(epsilon: float) -> float:
    if not 0 < epsilon < 0.01:
        raise ValueError(f"epsilon must be in (0, 0.01), got {epsilon!r}")
    return float(epsilon)


def _stability(labels: list, e_counts: np.ndarray, a_counts: np.ndarray,
               epsilon: float) -> dict:
    e_share = e_counts / e_counts.sum()
    a_share = a_counts / a_counts.sum()
    e_safe, a_safe = np.maximum(e_share, epsilon), np.maximum(a_share, epsilon)
    parts = (a_safe - e_safe) * np.log(a_safe / e_safe)
    rows = [{"bin": label, "expected_count": int(ec), "actual_count": int(ac),
             "expected_share": float(es), "actual_share": float(as_), "psi": float(p)}
            for label, ec, ac, es, as_, p in zip(labels, e_counts, a_counts, e_share,
                                                 a_share, parts, strict=True)]
    return {"value": float(parts.sum()), "rows": rows, "epsilon": epsilon}


def psi_table(expected: ArrayLike, actual: ArrayLike, n_bins: int = 10,
              cuts: ArrayLike | None = None, epsilon: float = PSI_EPSILON) -> dict:
    """PSI with its per-bin table: bins fixed on ``expected`` (see the module docstring).

    ``cuts`` are inner cut points (bins ``(-inf, c0], (c0, c1], …, (c_last, inf)``); without
    them the expected sample's ``n_bins`` quantiles are used.
    """
    e_values, a_values = check_scores(expected, "expected"), check_scores(actual, "actual")
    epsilon = _check_epsilon(epsilon)
    if cuts is None:
        inner = quantile_cuts(e_values, n_bins)
    else:
        inner = np.asarray(cuts, dtype=np.float64).ravel()
        if not np.isfinite(inner).all() or np.any(np.diff(inner) <= 0):
            raise ValueError("cuts must be finite and strictly increasing")
    k = inner.size + 1
    e_counts = np.bincount(np.searchsorted(inner, e_values, side="left"), minlength=k)
    a_counts = np.bincount(np.searchsorted(inner, a_values, side="left"), minlength=k)
    bounds = [None, *inner.tolist(), None]
    table = _stability([f"{i + 1}" for i in range(k)], e_counts, a_counts, epsilon)
    for row, low, high in zip(table["rows"], bounds[:-1], bounds[1:], strict=True):
        row["lower"], row["upper"] = low, high
    table["cuts"] = inner.tolist()
    return table


def psi(expected: ArrayLike, actual: ArrayLike, n_bins: int = 10,
        cuts: ArrayLike | None = None, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of ``actual`` against ``expected`` (one number)."""
    return psi_table(expected, actual, n_bins, cuts, epsilon)["value"]


def _bin_labels(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of bin labels")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError(f"{name} holds NaN; give missing values a bin of their own")
    if array.dtype.kind == "O" and any(v is None for v in array):
        raise ValueError(f"{name} holds None; give missing values a bin of their own")
    return array


def csi_table(expected_bins: ArrayLike, actual_bins: ArrayLike,
              epsilon: float = PSI_EPSILON) -> dict:
    """Characteristic stability index of one feature from each row's bin (index or label).

    Bins are the union of the labels seen in either sample; a bin only the recent sample
    has gets the ``epsilon`` share on the expected side — that is how a new category shows.
    """
    e_bins = _bin_labels(expected_bins, "expected_bins")
    a_bins = _bin_labels(actual_bins, "actual_bins")
    epsilon = _check_epsilon(epsilon)
    try:
        labels, index = np.unique(np.concatenate([e_bins, a_bins]), return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"expected_bins and actual_bins must hold one kind of label: {exc}"
                         ) from None
    e_counts = np.bincount(index[:e_bins.size], minlength=labels.size)
    a_counts = np.bincount(index[e_bins.size:], minlength=labels.size)
    return _stability([v.item() if hasattr(v, "item") else v for v in labels],
                      e_counts, a_counts, epsilon)


def csi(expected_bins: ArrayLike, actual_bins: ArrayLike,
        epsilon: float = PSI_EPSILON) -> float:
    """CSI of one feature (one number); same reading as the PSI."""
    return csi_table(expected_bins, actual_bins, epsilon)["value"]
