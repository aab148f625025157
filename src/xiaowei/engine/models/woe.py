"""Weight of evidence (WOE) and information value (IV), vectorised over the bins of a feature.

Sign convention (the one SAS, Siddiqi and optbinning use, and the one every xiaowei table
shows): ``WOE = ln(share of goods in the bin / share of bads in the bin)``. A positive WOE
means the bin holds relatively more goods than the book — safer than average; a negative one
means riskier. The scorecard turns WOE into points with the same sign, so *points go up as
risk goes down* and the riskiest bin of a feature is the one with the lowest WOE.

Why smoothing: a bin with no bads (common in a 5 % bin of a small sample) would have an
infinite WOE, which no model and no points table can use. Each bin gets ``smoothing``
pseudo-goods and pseudo-bads (Laplace, default 0.5), which keeps every WOE finite and pulls
small bins towards zero evidence, while changing large bins by a negligible amount.

Also here, because every WOE model (binning, selection, scorecard) reads its input the same
way: text that should be numbers (``parse_numbers``), the columns a fitted model needs
(``read_for``), the 0/1 target (``check_target``) and the one-line parameter checks whose
messages name the parameter and the value received.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from xiaowei.engine.models.frame import Columns, ModelInputError, as_columns

DEFAULT_SMOOTHING = 0.5


def woe_iv(
    counts: np.ndarray, events: np.ndarray, smoothing: float = DEFAULT_SMOOTHING
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin WOE and IV contributions of bins with ``counts`` rows of which ``events`` bad.

    Bins with no rows get WOE 0 and IV 0 (no evidence either way). The feature's IV is the
    sum of the contributions.
    """
    counts = np.asarray(counts, dtype=np.float64)
    events = np.asarray(events, dtype=np.float64)
    goods = counts - events
    filled = counts > 0
    k = max(int(filled.sum()), 1)
    bad_total = events.sum() + smoothing * k
    good_total = goods.sum() + smoothing * k
    bad_share = np.where(filled, (events + smoothing) / bad_total, 1.0)
    good_share = np.where(filled, (goods + smoothing) / good_total, 1.0)
    woe = np.log(good_share / bad_share)
    iv = np.where(filled, (good_share - bad_share) * woe, 0.0)
    return np.where(filled, woe, 0.0), iv


def information_value(
    counts: np.ndarray, events: np.ndarray, smoothing: float = DEFAULT_SMOOTHING
) -> float:
    """The IV of a feature binned as ``counts`` / ``events`` (0 for one bin or no rows)."""
    return float(woe_iv(counts, events, smoothing)[1].sum())


def iv_strength(iv: float) -> str:
    """The rule-of-thumb reading of an IV that credit analysts quote (Siddiqi)."""
    if iv < 0.02:
        return "useless"
    if iv < 0.1:
        return "weak"
    if iv < 0.3:
        return "medium"
    if iv < 0.5:
        return "strong"
    return "suspicious"


MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--"})
"""Text that means "no value" in the files banks export; read as missing, never as garbage."""


def parse_number(text: str) -> float | None:
    """One text cell as a number: NaN when it means missing, ``None`` when it is garbage.

    Thousands separators (``1,234``) and surrounding blanks are accepted, because that is how
    spreadsheets export amounts; infinities are garbage (no bin can hold them meaningfully).
    """
    cleaned = text.strip().replace(",", "").replace("，", "")
    if cleaned.lower() in MISSING_TOKENS:
        return math.nan
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text cells (``str``/``None``) as floats (NaN = missing or garbage) and a garbage mask.

    Parses each distinct text once, so a column of a few thousand distinct amounts over a
    million rows costs a few thousand ``float`` calls.
    """
    cache: dict[object, float | None] = {None: math.nan}
    out = np.empty(len(values), dtype=np.float64)
    garbage = np.zeros(len(values), dtype=bool)
    for i, text in enumerate(values):
        try:
            parsed = cache[text]
        except KeyError:
            parsed = cache[text] = parse_number(str(text))
        if parsed is None:
            garbage[i] = True
            out[i] = math.nan
        else:
            out[i] = parsed
    return out, garbage


def format_value(value: float) -> str:
    """A split point or special value as people read it: 6 significant digits, no '.0'."""
    return f"{value:.6g}"


@dataclass(frozen=True)
class FeatureBins:
    """The fitted bins of one feature and their evidence: how a value finds its bin, and WOE.

    Codes (positions in ``labels``/``counts``/``events``/``woe``) are laid out the same for
    every feature, so the scorecard, the points table and the one-row scorer agree:
    ``0 .. regular-1`` the ordinary bins (intervals of the split points, or groups of
    categories), then one bin per special value, then *missing*, then (numeric only)
    *garbage* — text that should have been a number — and last *unseen*. A special, missing
    or garbage bin that held no training rows, and the unseen bin, carry the WOE chosen by
    the ``unseen`` policy: 0 (neutral) or the feature's riskiest WOE.

    Numeric bin ``i`` holds ``splits[i-1] <= x < splits[i]``. ``categories`` maps each
    training category (rare ones included, pooled into their bin) and each special text to
    its code.
    """

    name: str
    kind: str  # "numeric" | "categorical"
    regular: int
    splits: tuple[float, ...]
    categories: Mapping[str, int]
    specials: tuple[float | str, ...]
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    woe: tuple[float, ...]
    trend: str  # "ascending" | "descending" | "none" | "categorical": event rate along bins

    @property
    def missing_code(self) -> int:
        return self.regular + len(self.specials)

    @property
    def garbage_code(self) -> int | None:
        return self.missing_code + 1 if self.kind == "numeric" else None

    @property
    def unseen_code(self) -> int:
        return len(self.labels) - 1

    @property
    def iv(self) -> float:
        return information_value(np.asarray(self.counts), np.asarray(self.events))

    def codes(self, values: np.ndarray, garbage: np.ndarray | None = None) -> np.ndarray:
        """The bin code of each value: floats (NaN missing) or text (``None`` missing).

        A numeric feature that arrives as text is parsed (``parse_numbers``): what does not
        parse lands in the garbage bin (``garbage`` marks such rows of already-parsed
        floats). A categorical value never seen in training lands in the unseen bin.
        """
        if self.kind == "categorical":
            lookup = self.categories.get
            unseen, missing = self.unseen_code, self.missing_code
            return np.fromiter(
                (missing if v is None else lookup(v, unseen) for v in values),
                dtype=np.intp,
                count=len(values),
            )
        if values.dtype.kind != "f":
            values, garbage = parse_numbers(values)
        codes = np.searchsorted(np.asarray(self.splits, dtype=np.float64), values, side="right")
        codes[np.isnan(values)] = self.missing_code
        for offset, special in enumerate(self.specials):
            codes[values == special] = self.regular + offset
        if garbage is not None and self.garbage_code is not None:
            codes[garbage] = self.garbage_code
        return codes

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The WOE of each value."""
        return np.asarray(self.woe, dtype=np.float64)[self.codes(values)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: plain lists, strings and finite floats."""
        return {
            "name": self.name,
            "kind": self.kind,
            "regular": self.regular,
            "splits": list(self.splits),
            "categories": dict(self.categories),
            "specials": list(self.specials),
            "labels": list(self.labels),
            "counts": list(self.counts),
            "events": list(self.events),
            "woe": list(self.woe),
            "trend": self.trend,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureBins:
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            regular=int(data["regular"]),
            splits=tuple(float(s) for s in data["splits"]),
            categories={str(k): int(v) for k, v in data["categories"].items()},
            specials=tuple(data["specials"]),
            labels=tuple(data["labels"]),
            counts=tuple(int(c) for c in data["counts"]),
            events=tuple(int(e) for e in data["events"]),
            woe=tuple(float(w) for w in data["woe"]),
            trend=str(data["trend"]),
        )


def read_for(X: Any, bins: Sequence[FeatureBins]) -> Columns:
    """The columns ``bins`` need, refusing a table that lacks any of them (all named).

    A categorical feature whose column arrives as numbers (a code column read by DuckDB as
    integers) is turned into text exactly as at fit, through Arrow's cast (5211.0 → "5211").
    """
    columns = as_columns(_narrow(X, [b.name for b in bins]))
    missing = [b.name for b in bins if b.name not in columns.values]
    if missing:
        raise ModelInputError(f"the data lacks columns the model needs: {missing}")
    values = dict(columns.values)
    for b in bins:
        if b.kind == "categorical" and values[b.name].dtype.kind == "f":
            values[b.name] = _float_text(values[b.name])
    return Columns(tuple(b.name for b in bins), values, columns.rows)


def _narrow(X: Any, names: Sequence[str]) -> Any:
    """Only the wanted columns of a wide table, so the rest are never converted."""
    if isinstance(X, pa.Table):
        return X.select([n for n in names if n in X.column_names])
    if isinstance(X, Mapping):
        return {n: X[n] for n in names if n in X}
    if type(X).__module__.startswith("pandas"):
        return X[[n for n in names if n in X.columns]]
    return X


def _float_text(values: np.ndarray) -> np.ndarray:
    text = pa.array(values, mask=np.isnan(values)).cast(pa.string())
    return np.array(text.to_pylist(), dtype=object)


def unusable(values: np.ndarray, garbage: np.ndarray | None) -> str | None:
    """Why a column cannot be binned (``None`` when it can)."""
    if values.dtype.kind == "f":
        present = values[~np.isnan(values)]
        n_garbage = 0 if garbage is None else int(garbage.sum())
        if not len(present) and not n_garbage:
            return "all values missing"
        kinds = len(np.unique(present)) + (len(present) < len(values) - n_garbage)
        kinds += n_garbage > 0
    else:
        present = [v for v in values if v is not None]
        if not present:
            return "all values missing"
        kinds = len(set(present)) + (len(present) < len(values))
    return "constant: a single value in every row" if kinds <= 1 else None


def check_target(y: Any, rows: int) -> np.ndarray:
    """The target as float 0/1, refusing missing values, other codes and a single class."""
    target = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if target.ndim != 1 or len(target) != rows:
        raise ValueError(f"target must be one value per row ({rows}); got shape {target.shape}")
    if target.dtype.kind == "f" and np.isnan(target).any():
        raise ValueError(f"target has {int(np.isnan(target).sum())} missing values")
    if target.dtype.kind == "O" and any(v is None for v in target):
        raise ValueError(f"target has {sum(v is None for v in target)} missing values")
    if target.dtype.kind not in "biuf":
        found = sorted({str(v) for v in target})[:5]
        raise ValueError(f"target must be 0 (good) or 1 (bad) numbers; found values {found}")
    other = np.unique(target[(target != 0) & (target != 1)])
    if len(other):
        shown = [v.item() for v in other[:5]]
        raise ValueError(f"target must be 0 (good) or 1 (bad); found other values {shown}")
    bads = int(target.sum())
    if bads in (0, rows):
        only = "1 (bad)" if bads else "0 (good)"
        raise ValueError(
            f"target is constant (every row is {only}); a scorecard needs both goods and bads"
        )
    return target.astype(np.float64)


def check_whole(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}; got {value!r}")


def check_real(name: str, value: Any, low: float, high: float) -> None:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}]; got {value!r}")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")
