"""What ``GBDTModel.fit`` checks and decides before it trains: parameters, the target, the
usable columns and the rows held out for early stopping.

Why here and why so explicit: a bank analyst who passes ``learning_rate=0`` or a target coded
1/2 must learn it from one message naming the parameter (or the values) — not from a
LightGBM traceback, and not from a model that quietly learned nonsense (optbinning's rule:
one check per parameter, every message names the parameter and the value received).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from xiaowei.engine.models.frame import Columns, ModelInputError

MONOTONE_METHODS = ("basic", "intermediate", "advanced")


def _whole(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}; got {value!r}")


def _real(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
          high_open: bool = False) -> None:
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in {left}{low:g}, {high:g}{right}; "
                         f"got {value!r}")


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse the first parameter that LightGBM or the bank could not use, naming it."""
    _whole("n_estimators", params["n_estimators"], 1)
    _real("learning_rate", params["learning_rate"], 0.0, np.inf, low_open=True, high_open=True)
    _whole("num_leaves", params["num_leaves"], 2)
    depth = params["max_depth"]
    if isinstance(depth, bool) or not isinstance(depth, Integral) or depth == 0 or depth < -1:
        raise ValueError(f"max_depth must be -1 (no limit) or at least 1; got {depth!r}")
    _whole("min_child_samples", params["min_child_samples"], 1)
    _real("subsample", params["subsample"], 0.0, 1.0, low_open=True)
    _real("colsample_bytree", params["colsample_bytree"], 0.0, 1.0, low_open=True)
    _real("reg_lambda", params["reg_lambda"], 0.0, np.inf, high_open=True)
    _real("cat_smooth", params["cat_smooth"], 0.0, np.inf, high_open=True)
    _whole("min_category_count", params["min_category_count"], 1)
    if params["early_stopping_rounds"] is not None:
        _whole("early_stopping_rounds", params["early_stopping_rounds"], 1)
    _real("validation_fraction", params["validation_fraction"], 0.0, 1.0,
          low_open=True, high_open=True)
    seed = params["random_state"]
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise ValueError(f"random_state must be a whole number; got {seed!r}")
    _whole("n_jobs", params["n_jobs"], 1)
    if params["monotone_method"] not in MONOTONE_METHODS:
        raise ValueError(f"monotone_method must be one of {MONOTONE_METHODS}; "
                         f"got {params['monotone_method']!r}")
    _check_monotone(params["monotone"])
    _check_labels(params["labels"])


def _check_monotone(monotone: Any) -> None:
    if monotone is None:
        return
    if not isinstance(monotone, Mapping):
        raise ValueError(f"monotone must map column names to +1, -1 or 0; got {monotone!r}")
    for name, sign in monotone.items():
        if not isinstance(name, str):
            raise ValueError(f"monotone keys must be column names; got {name!r}")
        if isinstance(sign, bool) or sign not in (-1, 0, 1):
            raise ValueError(f"monotone[{name!r}] must be +1 (risk rises with the column), "
                             f"-1 (falls) or 0 (free); got {sign!r}")


def _check_labels(labels: Any) -> None:
    if labels is None:
        return
    if not isinstance(labels, Mapping):
        raise ValueError(f"labels must map column names to (zh, en) pairs; got {labels!r}")
    for name, pair in labels.items():
        if (isinstance(pair, str) or not isinstance(pair, tuple | list) or len(pair) != 2
                or not all(isinstance(text, str) and text for text in pair)):
            raise ValueError(f"labels[{name!r}] must be a (Chinese, English) pair of texts; "
                             f"got {pair!r}")


def as_target(y: Any, rows: int) -> np.ndarray:
    """``y`` as float64 0/1, refusing missing values, other codes and a single class."""
    if hasattr(y, "to_numpy") and not isinstance(y, np.ndarray):
        try:
            values = y.to_numpy(zero_copy_only=False)  # pyarrow
        except TypeError:
            values = y.to_numpy()  # pandas, polars
    else:
        values = np.asarray(y)
    if values.ndim != 1:
        raise ValueError(f"y must be one column of 0/1; got an array of shape {values.shape}")
    if len(values) != rows:
        raise ValueError(f"y has {len(values)} values but X has {rows} rows")
    missing = np.array([v is None or (isinstance(v, float) and v != v) for v in values.tolist()])
    if missing.any():
        raise ValueError(f"y has {int(missing.sum())} missing values; every row needs 0 (good) "
                         "or 1 (bad)")
    found = sorted(set(values.tolist()), key=repr)
    other = [v for v in found if isinstance(v, str | bytes) or v not in (0, 1)]
    if other:
        raise ValueError(f"y must hold only 0 (good) and 1 (bad); found {other[:5]!r}")
    target = values.astype(np.float64)
    if target.min() == target.max():
        only = "1 (bad)" if target[0] == 1 else "0 (good)"
        raise ValueError(f"y is {only} in every one of its {rows} rows; a model needs both "
                         "goods and bads")
    return target


def split_for_validation(target: np.ndarray, fraction: float, seed: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, held out), stratified by target and seeded: same rows every run."""
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    valid: list[np.ndarray] = []
    for label in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(target == label))
        n_valid = round(len(rows) * fraction)
        if n_valid < 1 or n_valid >= len(rows):
            kind = "bad" if label else "good"
            raise ValueError(f"validation_fraction={fraction!r} leaves no {kind} rows on one "
                             f"side of the early-stopping split ({len(rows)} {kind} rows)")
        valid.append(rows[:n_valid])
        train.append(rows[n_valid:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


def choose_features(columns: Columns, min_category_count: int
                     ) -> tuple[list[str], dict[str, tuple[str, ...]], dict[str, str]]:
    """Columns worth a split, their categories (kept if seen often enough), and the dropped."""
    features: list[str] = []
    categories: dict[str, tuple[str, ...]] = {}
    dropped: dict[str, str] = {}
    for name in columns.names:
        values = columns[name]
        if values.dtype.kind == "f":
            present = values[~np.isnan(values)]
            if present.size == 0:
                dropped[name] = "every value is missing"
            elif present.size == values.size and np.all(present == present[0]):
                dropped[name] = f"the same value ({present[0]:g}) in every row"
            else:
                features.append(name)
            continue
        seen = [v for v in values.tolist() if v is not None]
        if not seen:
            dropped[name] = "every value is missing"
            continue
        kinds, counts = np.unique(np.array(seen, dtype=object), return_counts=True)
        if len(kinds) == 1 and len(seen) == values.size:
            dropped[name] = f"the same category ({kinds[0]!r}) in every row"
            continue
        kept = tuple(str(k) for k, c in zip(kinds, counts, strict=True)
                     if c >= min_category_count)
        if not kept:
            dropped[name] = f"no category seen at least {min_category_count} times"
            continue
        features.append(name)
        categories[name] = kept
    if not features:
        raise ModelInputError(f"no column is usable for a model: {dropped}")
    return features, categories, dropped
