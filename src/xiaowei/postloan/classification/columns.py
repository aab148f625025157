"""Turn the columns the nightly batch hands over (numpy, pyarrow, lists) into numpy arrays.

Why a module: the vectorised classifier should read like the per-loan rules, not like
null-handling. Here a missing value becomes the same default the per-loan path assumes for an
absent fact (no flag, dpd refused, ratio unknown), so both paths agree on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.classification.floors import UnknownSignal

ArrayLike = Any  # numpy array, pyarrow Array/ChunkedArray, or a Python sequence


def _arrow(values: ArrayLike) -> pa.Array | pa.ChunkedArray | None:
    return values if isinstance(values, pa.Array | pa.ChunkedArray) else None


def flags(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """A bool column; missing (None/null) is False."""
    if values is None:
        return np.zeros(n, dtype=bool)
    arrow = _arrow(values)
    if arrow is not None:
        out = arrow.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    else:
        raw = np.asarray(values)
        out = (np.array([bool(v) if v is not None else False for v in raw], dtype=bool)
               if raw.dtype == object else raw.astype(bool))
    return _sized(out, n, name)


def optional_flags(values: ArrayLike | None, n: int, name: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A nullable bool column as (value, known); absent or null is unknown."""
    if values is None:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    arrow = _arrow(values)
    if arrow is not None:
        known = np.asarray(pc.is_valid(arrow))
        return flags(arrow, n, name), _sized(known, n, name)
    raw = np.asarray(values)
    if raw.dtype != object:
        return flags(raw, n, name), np.ones(n, dtype=bool)
    known = np.array([v is not None for v in raw], dtype=bool)
    return flags(raw, n, name), _sized(known, n, name)


def integers(values: ArrayLike | None, n: int, name: str, missing: int = 0) -> np.ndarray:
    """An int64 column; missing is ``missing``."""
    if values is None:
        return np.full(n, missing, dtype=np.int64)
    arrow = _arrow(values)
    if arrow is not None:
        out = arrow.fill_null(missing).to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        raw = np.asarray(values)
        out = (np.array([missing if v is None else int(v) for v in raw], dtype=np.int64)
               if raw.dtype == object else raw.astype(np.int64))
    return _sized(out, n, name)


def ratios(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """A float64 column; missing is NaN (unknown)."""
    if values is None:
        return np.full(n, np.nan)
    arrow = _arrow(values)
    if arrow is not None:
        out = pc.cast(arrow, pa.float64()).to_numpy(zero_copy_only=False)
        out = np.where(np.asarray(pc.is_null(arrow)), np.nan, out).astype(np.float64)
    else:
        out = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return _sized(out, n, name)


def labels(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """An object column of strings; missing is None."""
    if values is None:
        return np.full(n, None, dtype=object)
    arrow = _arrow(values)
    out = (arrow.to_numpy(zero_copy_only=False).astype(object) if arrow is not None
           else np.asarray(values, dtype=object))
    return _sized(out, n, name)


def class_ranks(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """Class ranks (0 正常 … 4 损失) from ranks or labels; missing is −1."""
    if values is None:
        return np.full(n, -1, dtype=np.int8)
    raw = labels(values, n, name)
    out = np.full(n, -1, dtype=np.int8)
    for value in set(raw.tolist()) - {None}:
        if isinstance(value, LoanClass):
            rank = value.rank
        elif isinstance(value, int | np.integer) and not isinstance(value, bool):
            rank = int(value)
        else:
            rank = LoanClass.parse(str(value)).rank
        if rank != -1 and not 0 <= rank <= 4:
            raise ValueError(f"{name}: class rank must be −1 or 0–4, got {rank}")
        out[raw == value] = rank
    return out


def signal_flags(signals: Mapping[str, ArrayLike] | ArrayLike | None, n: int,
                 known: Mapping[str, object]) -> dict[str, np.ndarray]:
    """One bool column per known signal, from a mapping of columns or a list-of-names column."""
    if signals is None:
        return {name: np.zeros(n, dtype=bool) for name in known}
    if isinstance(signals, Mapping):
        unknown = sorted(set(signals) - set(known))
        if unknown:
            raise UnknownSignal(f"unknown warning signal column(s) {unknown}; "
                                f"known: {', '.join(known)}")
        return {name: flags(signals.get(name), n, f"signals.{name}") for name in known}
    arrow = _arrow(signals)
    lists = arrow if arrow is not None else pa.array(list(signals), type=pa.list_(pa.string()))
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    if len(lists) != n:
        raise ValueError(f"signals: expected {n} rows, got {len(lists)}")
    flat = np.asarray(pc.list_flatten(lists).to_pylist(), dtype=object)
    parents = np.asarray(pc.list_parent_indices(lists))
    unknown = sorted(set(flat.tolist()) - set(known))
    if unknown:
        raise UnknownSignal(f"unknown warning signal(s) {unknown}; known: {', '.join(known)}")
    out = {}
    for name in known:
        column = np.zeros(n, dtype=bool)
        column[parents[flat == name]] = True
        out[name] = column
    return out


def _sized(values: np.ndarray, n: int, name: str) -> np.ndarray:
    if values.shape != (n,):
        raise ValueError(f"{name}: expected {n} rows, got shape {values.shape}")
    return values
