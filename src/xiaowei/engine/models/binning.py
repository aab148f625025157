"""Optimal monotone binning of numeric and categorical features, in numpy.

Why our own and not optbinning: optbinning solves each feature with a constraint-programming
solver; it is sound but its fit time is the reference the issue asks us to beat, and a bank
wants no solver binary in its scoring image. The algorithm here gives the same optimum for
the monotone case without a solver:

1. **Pre-bins.** Regular values (not missing, not special, not garbage) are cut at up to
   ``max_prebins`` quantiles; a value that alone fills a quantile keeps a pre-bin of its own.
   ``prebinning="tree"`` cuts instead where a CART-style Gini split finds the bad rate
   changing (optbinning's way). Measured on the five public datasets, quantile pre-bins give
   the steadier test AUC (tree: +0.001 to +0.004 on four, −0.015 on polish1 with its 190
   bads), so quantiles are the default.
2. **Monotone trend by pool-adjacent-violators (PAVA).** For a fixed direction, the
   partition of the pre-bins into contiguous groups with strictly monotone event rates that
   maximises IV is the isotonic regression of the pre-bin event rates: IV is a sum of a
   convex function of each bin's event rate weighted by its size, and isotonic regression
   maximises every such sum at once (it minimises every Bregman divergence). PAVA finds it
   in linear time. ``monotonic="auto"`` tries both directions and keeps the higher IV.
3. **Constraints.** Bins smaller than ``min_bin_share`` of the rows or with fewer than
   ``min_bin_events`` bads or goods, and bins beyond ``max_bins``, are merged with the
   neighbour that loses the least IV (merging neighbours keeps the trend monotone). A last
   pass merges any pair whose *smoothed* WOE breaks the trend, so the WOE the model uses is
   monotone too, not just the raw rates.

Categorical features: categories with fewer than ``min_category_share`` of the rows (too
few to trust their own bad rate) are pooled into one "other" group; the groups are ordered
by event rate and merged as in step 3, so bins still hold ``min_bin_share`` of the rows.
Missing values and each special value get bins of their own; a category, special value or
missing value never seen in training is scored by the ``unseen`` policy (see ``woe``).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xiaowei.engine.models.frame import as_columns
from xiaowei.engine.models.woe import (
    DEFAULT_SMOOTHING,
    FeatureBins,
    check_choice,
    check_real,
    check_target,
    check_whole,
    format_value,
    parse_numbers,
    read_for,
    unusable,
    woe_iv,
)

MONOTONIC = ("auto", "ascending", "descending", "none")
PREBINNING = ("quantile", "tree")
UNSEEN = ("neutral", "riskiest")
SpecialValues = Mapping[str, Sequence[float | str]] | Sequence[float | str] | None
Groups = list[tuple[float, float]]  # (rows, bads) of each group, in order


def monotone_groups(counts: Sequence[float], events: Sequence[float], ascending: bool) -> list[int]:
    """PAVA: end positions (exclusive) of the groups of pre-bins with strictly monotone rates."""
    stack: list[list[float]] = []  # [rows, bads, end]
    for i, (n, e) in enumerate(zip(counts, events, strict=True)):
        n, e = float(n), float(e)
        while stack:
            pn, pe = stack[-1][0], stack[-1][1]
            # rate(new) <= rate(prev) breaks an ascending trend (ties pool: no IV is lost)
            if not (e * pn <= pe * n if ascending else e * pn >= pe * n):
                break
            n, e = n + pn, e + pe
            stack.pop()
        stack.append([n, e, i + 1])
    return [int(block[2]) for block in stack]


class _Merger:
    """Greedy merging of neighbouring groups, each time losing the least IV."""

    def __init__(self, total_rows: float, total_bads: float, smoothing: float) -> None:
        self.bads = max(total_bads, 1.0)
        self.goods = max(total_rows - total_bads, 1.0)
        self.smoothing = smoothing

    def iv(self, n: float, e: float) -> float:
        g_share = (n - e + self.smoothing) / self.goods
        b_share = (e + self.smoothing) / self.bads
        return (g_share - b_share) * math.log(g_share / b_share)

    def loss(self, groups: Groups, i: int) -> float:
        (n1, e1), (n2, e2) = groups[i], groups[i + 1]
        return self.iv(n1, e1) + self.iv(n2, e2) - self.iv(n1 + n2, e1 + e2)

    def merge(self, groups: Groups, ends: list[int], i: int) -> None:
        """Merge group ``i`` with group ``i + 1``."""
        (n1, e1), (n2, e2) = groups[i], groups[i + 1]
        groups[i : i + 2] = [(n1 + n2, e1 + e2)]
        del ends[i]

    def cheapest_neighbour(self, groups: Groups, i: int) -> int:
        """The left index of the pair (i-1, i) or (i, i+1) that loses less IV."""
        if i == 0 or i == len(groups) - 1:
            return max(i - 1, 0)
        return i - 1 if self.loss(groups, i - 1) <= self.loss(groups, i) else i


def constrain(groups: Groups, ends: list[int], merger: _Merger, trend: str,
              options: Mapping[str, Any], total: int) -> None:
    """Merge groups in place until every constraint holds (see the module docstring)."""
    min_rows, min_events = options["min_bin_share"] * total, options["min_bin_events"]
    while len(groups) > 1:
        small = [i for i, (n, e) in enumerate(groups)
                 if n < min_rows or e < min_events or n - e < min_events]
        if small:
            worst = min(small, key=lambda i: groups[i][0])
            merger.merge(groups, ends, merger.cheapest_neighbour(groups, worst))
        elif len(groups) > options["max_bins"]:
            losses = [merger.loss(groups, i) for i in range(len(groups) - 1)]
            merger.merge(groups, ends, int(np.argmin(losses)))
        else:
            broken = _smoothed_break(groups, merger.smoothing, trend)
            if broken is None:
                return
            merger.merge(groups, ends, broken)


def _smoothed_break(groups: Groups, smoothing: float, trend: str) -> int | None:
    """The first neighbour pair whose smoothed bad odds break the trend (``None``: none)."""
    if trend not in ("ascending", "descending"):
        return None
    odds = [(e + smoothing) / (n - e + smoothing) for n, e in groups]
    for i in range(len(odds) - 1):
        if (odds[i + 1] <= odds[i]) if trend == "ascending" else (odds[i + 1] >= odds[i]):
            return i
    return None


def prebin(values: np.ndarray, y: np.ndarray, max_prebins: int, min_rows: float,
           method: str = "quantile") -> tuple[np.ndarray, ...]:
    """Pre-bins of regular values: (distinct values, rows, bads, pre-bin ends).

    ``quantile``: equal-frequency cuts. ``tree``: best-first binary splits that most reduce
    Gini impurity, each side keeping at least ``min_rows`` (CART with ``max_leaf_nodes``, as
    optbinning pre-bins), so cuts land where the bad rate changes.
    """
    distinct, inverse = np.unique(values, return_inverse=True)
    rows = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
    bads = np.bincount(inverse, weights=y, minlength=len(distinct))
    if method == "quantile":
        before = np.cumsum(rows) - rows
        quantile = np.floor(before * max_prebins / len(values)).astype(np.intp)
        starts = np.flatnonzero(np.diff(quantile)) + 1
        return distinct, rows, bads, np.append(starts, len(distinct))
    cum_rows = np.concatenate([[0.0], np.cumsum(rows)])
    cum_bads = np.concatenate([[0.0], np.cumsum(bads)])
    heap: list[tuple[float, int, int, int]] = []

    def push(a: int, b: int) -> None:
        found = _best_split(cum_rows, cum_bads, a, b, min_rows)
        if found is not None:
            heapq.heappush(heap, (-found[0], found[1], a, b))

    push(0, len(distinct))
    cuts: list[int] = []
    while heap and len(cuts) + 1 < max_prebins:
        _, cut, a, b = heapq.heappop(heap)
        cuts.append(cut)
        push(a, cut)
        push(cut, b)
    return distinct, rows, bads, np.array([*sorted(cuts), len(distinct)], dtype=np.intp)


def _best_split(cum_rows: np.ndarray, cum_bads: np.ndarray, a: int, b: int,
                min_rows: float) -> tuple[float, int] | None:
    """(Gini decrease, cut) of the best split of distinct values ``a..b``, or ``None``."""
    cut = np.arange(a + 1, b)
    n_left, n_right = cum_rows[cut] - cum_rows[a], cum_rows[b] - cum_rows[cut]
    ok = (n_left >= min_rows) & (n_right >= min_rows)
    if not ok.any():
        return None
    e_left, e_right = cum_bads[cut] - cum_bads[a], cum_bads[b] - cum_bads[cut]
    n, e = cum_rows[b] - cum_rows[a], cum_bads[b] - cum_bads[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = e * (n - e) / n - e_left * (n_left - e_left) / n_left
        gain -= e_right * (n_right - e_right) / n_right
    gain = np.where(ok, gain, -np.inf)
    best = int(np.argmax(gain))
    return (float(gain[best]), int(cut[best])) if gain[best] > 1e-12 else None


def best_partition(rows: np.ndarray, bads: np.ndarray, merger: _Merger, monotonic: str,
                   options: Mapping[str, Any], total: int) -> tuple[list[int], str]:
    """Group ends over the pre-bins and the trend kept, for the ``monotonic`` option."""
    best: tuple[float, list[int], str] | None = None
    for trend in {"auto": ("ascending", "descending")}.get(monotonic, (monotonic,)):
        if trend == "none":
            ends = list(range(1, len(rows) + 1))
        else:
            ends = monotone_groups(rows, bads, ascending=trend == "ascending")
        groups = _sums(rows, bads, ends)
        constrain(groups, ends, merger, trend, options, total)
        iv = sum(merger.iv(n, e) for n, e in groups)
        if best is None or iv > best[0] + 1e-12:
            best = (iv, ends, trend)
    assert best is not None
    return best[1], best[2] if len(best[1]) > 1 else "none"  # one bin has no direction


def _sums(rows: np.ndarray, bads: np.ndarray, ends: Sequence[int]) -> Groups:
    cum_rows = np.concatenate([[0.0], np.cumsum(rows)])
    cum_bads = np.concatenate([[0.0], np.cumsum(bads)])
    return [(float(cum_rows[b] - cum_rows[a]), float(cum_bads[b] - cum_bads[a]))
            for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _midpoint(low: float, high: float) -> float:
    mid = (low + high) / 2.0
    return high if mid <= low else mid


def _own_bins(masks: Sequence[np.ndarray], y: np.ndarray) -> Groups:
    return [(float(mask.sum()), float(y[mask].sum())) for mask in masks]


def bin_numeric(name: str, x: np.ndarray, garbage: np.ndarray | None, y: np.ndarray,
                specials: Sequence[float], options: Mapping[str, Any]) -> FeatureBins:
    """Fit the bins of one numeric feature (``x`` float64, NaN missing; ``y`` 0/1 floats)."""
    try:
        specials = tuple(float(s) for s in specials)
    except (TypeError, ValueError):
        raise ValueError(f"special_values for numeric column {name!r} must be numbers; "
                         f"got {list(specials)}") from None
    garbage = np.zeros(len(x), dtype=bool) if garbage is None else garbage
    missing = np.isnan(x) & ~garbage
    special_masks = [x == s for s in specials]
    regular = ~(missing | garbage | np.any(special_masks, axis=0))
    merger = _Merger(len(y), float(y.sum()), options["smoothing"])
    splits: list[float] = []
    groups: Groups = []
    trend = "none"
    if regular.any():
        distinct, rows, bads, pre_ends = prebin(
            x[regular], y[regular], options["max_prebins"], options["min_bin_share"] * len(y),
            options["prebinning"])
        pre_rows = np.add.reduceat(rows, np.r_[0, pre_ends[:-1]])
        pre_bads = np.add.reduceat(bads, np.r_[0, pre_ends[:-1]])
        ends, trend = best_partition(pre_rows, pre_bads, merger, options["monotonic"], options,
                                     len(y))
        cut = [int(pre_ends[e - 1]) for e in ends[:-1]]  # index of the first distinct value
        splits = [_midpoint(float(distinct[c - 1]), float(distinct[c])) for c in cut]
        groups = _sums(pre_rows, pre_bads, ends)
    regular_count = len(groups)
    edges = ["-inf", *(format_value(s) for s in splits), "inf"]
    labels = [f"[{a}, {b})" for a, b in itertools.pairwise(edges)] if groups else []
    labels += [f"special {format_value(s)}" for s in specials]
    labels += ["missing", "garbage (not a number)"]
    groups += _own_bins([*special_masks, missing, garbage], y)
    return _finish(name, "numeric", regular_count, splits, {}, specials, labels,
                   groups, trend, options)


def bin_categorical(name: str, x: np.ndarray, y: np.ndarray, specials: Sequence[str],
                    options: Mapping[str, Any]) -> FeatureBins:
    """Fit the bins of one categorical feature (``x`` object array of str, None missing)."""
    specials = tuple(str(s) for s in specials)
    missing = np.array([v is None for v in x], dtype=bool)
    special_masks = [x == s for s in specials]
    regular = ~(missing | np.any(special_masks, axis=0))
    merger = _Merger(len(y), float(y.sum()), options["smoothing"])
    members: list[list[str]] = []
    groups: Groups = []
    pooled: set[str] = set()
    if regular.any():
        names, inverse = np.unique(x[regular].astype(str), return_inverse=True)
        rows = np.bincount(inverse, minlength=len(names)).astype(np.float64)
        bads = np.bincount(inverse, weights=y[regular], minlength=len(names))
        rare = rows < options["min_category_share"] * len(y)
        items = [([str(c)], float(r), float(b))
                 for c, r, b, is_rare in zip(names, rows, bads, rare, strict=True) if not is_rare]
        if rare.any():
            pooled = {str(c) for c in names[rare]}
            items.append((sorted(pooled), float(rows[rare].sum()), float(bads[rare].sum())))
        s = options["smoothing"]
        items.sort(key=lambda item: (item[2] + s) / (item[1] + 2 * s))
        item_rows = np.array([item[1] for item in items])
        item_bads = np.array([item[2] for item in items])
        ends, _ = best_partition(item_rows, item_bads, merger, "ascending", options, len(y))
        members = [[c for item in items[a:b] for c in item[0]]
                   for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        groups = _sums(item_rows, item_bads, ends)
    categories = {c: code for code, group in enumerate(members) for c in group}
    labels = []
    for group in members:
        shown = [c for c in group if c not in pooled]
        text = ", ".join(shown[:8]) + (", …" if len(shown) > 8 else "")
        if len(shown) < len(group):
            rare_label = f"other ({len(pooled)} rare)"
            text = f"{text}, {rare_label}" if text else rare_label
        labels.append(text)
    categories.update({special: len(members) + i for i, special in enumerate(specials)})
    labels += [f"special {special}" for special in specials] + ["missing"]
    groups += _own_bins([*special_masks, missing], y)
    return _finish(name, "categorical", len(members), [], categories, specials,
                   labels, groups, "categorical", options)


def _finish(name: str, kind: str, regular: int,
            splits: Sequence[float], categories: Mapping[str, int],
            specials: Sequence[float | str], labels: list[str], groups: Groups, trend: str,
            options: Mapping[str, Any]) -> FeatureBins:
    """Attach WOE; bins without training rows and the unseen bin get the unseen policy's WOE."""
    counts = np.array([g[0] for g in groups] + [0.0])
    events = np.array([g[1] for g in groups] + [0.0])
    woe, _ = woe_iv(counts, events, options["smoothing"])
    seen = counts > 0
    fallback = 0.0 if options["unseen"] == "neutral" else float(woe[seen].min())
    woe = np.where(seen, woe, fallback)
    return FeatureBins(name, kind, regular, tuple(float(s) for s in splits), dict(categories),
               tuple(specials), (*labels, "unseen"), tuple(int(c) for c in counts),
               tuple(round(e) for e in events), tuple(float(w) for w in woe), trend)


_OPTIONS = ("max_bins", "max_prebins", "prebinning", "min_bin_share", "min_category_share",
            "min_bin_events", "monotonic", "unseen", "smoothing")


class Binner:
    """Bins every feature of a table and turns values into WOE (scikit-learn conventions).

    ``fit(X, y, categorical=...)`` learns ``bins_`` (feature → ``FeatureBins``) and
    ``dropped_`` (feature → why it was not binned: all missing, or constant). Text columns
    not named categorical are read as numbers when at least ``numeric_share`` of their
    non-missing cells parse (``'1,234'`` included); the cells that do not parse go to the
    feature's *garbage* bin. Below that share the column is categorical.

    ``special_values`` is one list for every feature (e.g. ``[-999]``) or a mapping feature →
    list; each special value found in training gets a bin of its own (compared as numbers
    for numeric columns, as text for categorical ones).
    """

    def __init__(self, *, max_bins: int = 8, max_prebins: int = 20,
                 prebinning: str = "quantile", min_bin_share: float = 0.05,
                 min_category_share: float = 0.01, min_bin_events: int = 1,
                 monotonic: str = "auto", special_values: SpecialValues = None,
                 unseen: str = "neutral", numeric_share: float = 0.95,
                 smoothing: float = DEFAULT_SMOOTHING) -> None:
        self.max_bins = max_bins
        self.max_prebins = max_prebins
        self.prebinning = prebinning
        self.min_bin_share = min_bin_share
        self.min_category_share = min_category_share
        self.min_bin_events = min_bin_events
        self.monotonic = monotonic
        self.special_values = special_values
        self.unseen = unseen
        self.numeric_share = numeric_share
        self.smoothing = smoothing

    def _check_params(self) -> None:
        check_whole("max_bins", self.max_bins, 2)
        check_whole("max_prebins", self.max_prebins, 2)
        check_choice("prebinning", self.prebinning, PREBINNING)
        check_real("min_bin_share", self.min_bin_share, 0.0, 0.5)
        check_real("min_category_share", self.min_category_share, 0.0, 0.5)
        check_whole("min_bin_events", self.min_bin_events, 0)
        check_choice("monotonic", self.monotonic, MONOTONIC)
        check_choice("unseen", self.unseen, UNSEEN)
        check_real("numeric_share", self.numeric_share, 0.0, 1.0)
        check_real("smoothing", self.smoothing, 1e-9, 100.0)
        specials = self.special_values
        if isinstance(specials, str | bytes) or not (
                specials is None or isinstance(specials, Mapping | Sequence)):
            raise ValueError("special_values must be a list of values or a mapping feature → "
                             f"list; got {specials!r}")

    def fit(self, X: Any, y: Any, categorical: Sequence[str] = ()) -> Binner:
        self.fit_codes(X, y, categorical)
        return self

    def fit_codes(self, X: Any, y: Any, categorical: Sequence[str] = ()
                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Fit, and return each binned feature's training bin codes and the 0/1 target.

        The scorecard needs both right after binning; returning them spares it reading and
        parsing the table a second time.
        """
        self._check_params()
        columns = as_columns(X, categorical)
        target = check_target(y, columns.rows)
        options = {name: getattr(self, name) for name in _OPTIONS}
        self.feature_names_in_ = list(columns.names)
        self.bins_: dict[str, FeatureBins] = {}
        self.dropped_: dict[str, str] = {}
        codes: dict[str, np.ndarray] = {}
        for name in columns.names:
            values, garbage = columns[name], None
            if values.dtype.kind != "f" and name not in set(categorical):
                values, garbage = self._maybe_numbers(values)
            reason = unusable(values, garbage)
            if reason:
                self.dropped_[name] = reason
                continue
            if values.dtype.kind == "f":
                bins = bin_numeric(name, values, garbage, target, self._specials(name), options)
            else:
                bins = bin_categorical(name, values, target, self._specials(name), options)
            self.bins_[name] = bins
            codes[name] = bins.codes(values, garbage)
        return codes, target

    def _maybe_numbers(self, text: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        numbers, garbage = parse_numbers(text)
        present = int((~np.isnan(numbers)).sum()) + int(garbage.sum())
        if present and (present - garbage.sum()) / present >= self.numeric_share:
            return numbers, garbage
        return text, None

    def _specials(self, name: str) -> Sequence[float | str]:
        specials = self.special_values
        if specials is None:
            return ()
        return tuple(specials.get(name, ()) if isinstance(specials, Mapping) else specials)

    def codes(self, X: Any, features: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """The bin code of every row for each of ``features`` (default: all binned)."""
        names = list(self.bins_) if features is None else list(features)
        columns = read_for(X, [self.bins_[n] for n in names])
        return {n: self.bins_[n].codes(columns[n]) for n in names}

    def transform(self, X: Any, features: Sequence[str] | None = None) -> np.ndarray:
        """The WOE matrix (rows × features) for ``features`` (default: all binned)."""
        names = list(self.bins_) if features is None else list(features)
        columns = read_for(X, [self.bins_[n] for n in names])
        out = np.empty((columns.rows, len(names)), dtype=np.float64)
        for j, name in enumerate(names):
            out[:, j] = self.bins_[name].transform(columns[name])
        return out
