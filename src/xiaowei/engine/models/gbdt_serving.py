"""Rows in, LightGBM's own numbers out: the encoding and the single-row path of ``GBDTModel``.

Why a separate module: the batch path (``predict_proba``) and the one-applicant path
(``score_one``) must feed LightGBM the *same* float64 row, or an applicant's PD would depend
on which door the request came through. ``Encoding`` is that one translation (numbers as
float64 with NaN for missing; a category as its integer code, an unseen one as missing).

Why LightGBM's C API and not ``Booster.predict``: measured here on a 100-tree model with 10
features, ``Booster.predict`` on a 1×n array costs ~16 µs median and ~90 µs p99 (it rebuilds
its configuration and converts the array each call), while LightGBM's "fast" single-row
functions (``LGBM_BoosterPredictForMatSingleRowFastInit`` once, then
``LGBM_BoosterPredictForMatSingleRowFast`` per call) cost ~2 µs including filling the row.
It is LightGBM's own predictor, so the result is bit-identical to the batch prediction and no
tree evaluator of ours has to copy LightGBM's rules for missing values and categorical
splits. A flattened-tree evaluator in numpy would be slower per row and a second
implementation to keep right.

Threads: a ``FastPredictor`` owns a LightGBM "FastConfig" and two small buffers; it must not
be shared by threads that call it at the same time (the buffers would be overwritten).
LightGBM itself locks each FastConfig and takes the booster's shared lock, so one predictor
*per thread* is both correct and uncontended — ``GBDTModel`` keeps one per thread.
"""

from __future__ import annotations

import array
import ctypes
import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB

from xiaowei.engine.models.frame import Columns, ModelInputError, category_key

_NAN = math.nan
_INF = math.inf

# LightGBM C API constants (include/LightGBM/c_api.h).
_DTYPE_FLOAT64 = 1
PREDICT_NORMAL = 0
PREDICT_CONTRIB = 3


def as_number(value: Any, column: str) -> float:
    """One numeric cell as float64: None → NaN; text must read as a number; ±inf refused."""
    if value is None:
        return _NAN
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a number, got {value!r}", column) from None
    if number == _INF or number == -_INF:
        raise ModelInputError("holds an infinite value; replace it or mark it missing", column)
    return number


@dataclass(frozen=True)
class Encoding:
    """How named values become LightGBM's float64 row, learned at fit and saved with the model.

    ``categories[name][i]`` is the category coded ``i``. A category not in that list (unseen at
    fit, or too rare to keep) is coded NaN, i.e. scored exactly like a missing value: LightGBM
    sends NaN (and any code no split lists) to the "other" side of every categorical split.
    """

    features: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        codes = {name: {c: float(i) for i, c in enumerate(cats)}
                 for name, cats in self.categories.items()}
        plan = tuple((i, name, codes.get(name)) for i, name in enumerate(self.features))
        object.__setattr__(self, "_codes", codes)
        object.__setattr__(self, "_plan", plan)

    def matrix(self, columns: Columns) -> np.ndarray:
        """An (n, features) float64 matrix of ``columns``; refuses a missing or garbled column."""
        absent = [name for name in self.features if name not in columns.values]
        if absent:
            raise ModelInputError(f"the data lacks columns the model needs: {absent}")
        out = np.empty((columns.rows, len(self.features)), dtype=np.float64)
        for i, name, codes in self._plan:  # type: ignore[attr-defined]
            values = columns[name]
            if codes is not None:
                out[:, i] = self._encode_categories(values, codes)
            elif values.dtype.kind == "f":
                out[:, i] = values
            else:  # text (or all-missing) where the model was fitted on numbers
                out[:, i] = [as_number(v, name) for v in values]
        return out

    @staticmethod
    def _encode_categories(values: np.ndarray, codes: Mapping[str, float]) -> np.ndarray:
        if values.dtype.kind == "f":  # codes read as numbers: name them as as_columns would
            keys = [None if math.isnan(v) else category_key(float(v)) for v in values]
        else:
            keys = values.tolist()
        return np.array([_NAN if k is None else codes.get(k, _NAN) for k in keys],
                        dtype=np.float64)

    def fill(self, row: Mapping[str, Any], out: Any) -> None:
        """Write one applicant's values into ``out`` (a float64 buffer), in model order."""
        for i, name, codes in self._plan:  # type: ignore[attr-defined]
            try:
                value = row[name]
            except KeyError:
                raise ModelInputError("is missing from the row", name) from None
            if codes is None:
                if value.__class__ is float:  # the common case, checked cheaply
                    if value == _INF or value == -_INF:
                        raise ModelInputError(
                            "holds an infinite value; replace it or mark it missing", name)
                    out[i] = value
                else:
                    out[i] = as_number(value, name)
            elif value is None:
                out[i] = _NAN
            else:
                code = codes.get(value) if value.__class__ is str else None
                out[i] = code if code is not None else codes.get(category_key(value), _NAN)

    def decode(self, row: Sequence[float]) -> dict[str, Any]:
        """The values a row stands for (category text, None for missing), for reason codes."""
        shown: dict[str, Any] = {}
        for i, name in enumerate(self.features):
            x = row[i]
            if math.isnan(x):
                shown[name] = None
            elif name in self.categories:
                shown[name] = self.categories[name][int(x)]
            else:
                shown[name] = x
        return shown


class FastPredictor:
    """A prepared LightGBM single-row predictor with its own input and output buffers.

    ``predict_type`` is ``PREDICT_NORMAL`` (the probability of 1) or ``PREDICT_CONTRIB``
    (per-feature contributions in log-odds, then the expected value). Not for concurrent use
    by several threads; make one per thread (see the module docstring).
    """

    def __init__(self, booster: lgb.Booster, n_features: int,
                 predict_type: int = PREDICT_NORMAL) -> None:
        init = _LIB["LGBM_BoosterPredictForMatSingleRowFastInit"]  # a private function object
        init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                         ctypes.c_int32, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        init.restype = ctypes.c_int
        handle = ctypes.c_void_p()
        rc = init(booster._handle, predict_type, 0, -1, _DTYPE_FLOAT64, n_features,
                  b"num_threads=1", ctypes.byref(handle))
        if rc != 0:
            raise lgb.basic.LightGBMError(_LIB.LGBM_GetLastError().decode("utf-8"))
        free = _LIB["LGBM_FastConfigFree"]
        free.argtypes = [ctypes.c_void_p]
        # The FastConfig points into the booster: the finalizer holds the booster until the
        # FastConfig is freed. Not at interpreter exit, when the booster may be gone first.
        self._finalizer = weakref.finalize(self, _free, free, handle.value, booster)
        self._finalizer.atexit = False
        n_out = n_features + 1 if predict_type == PREDICT_CONTRIB else 1
        self.row = array.array("d", bytes(8 * n_features))
        self.out = array.array("d", bytes(8 * n_out))
        self._out_len = ctypes.c_int64()
        predict = _LIB["LGBM_BoosterPredictForMatSingleRowFast"]
        predict.restype = ctypes.c_int
        self._call = predict
        self._args = (ctypes.c_void_p(handle.value), ctypes.c_void_p(self.row.buffer_info()[0]),
                      ctypes.byref(self._out_len), ctypes.c_void_p(self.out.buffer_info()[0]))

    def run(self) -> array.array:
        """Predict the row now in ``self.row``; the answer is in (and returned as) ``self.out``."""
        if self._call(*self._args) != 0:
            raise lgb.basic.LightGBMError(_LIB.LGBM_GetLastError().decode("utf-8"))
        return self.out


def _free(free: Any, handle: int, booster: lgb.Booster) -> None:
    """Release a FastConfig; ``booster`` is passed only to outlive it."""
    free(ctypes.c_void_p(handle))
