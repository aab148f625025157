"""The rating master scale (主标尺) and the calibration of scores to probabilities of default.

Why a master scale: every model of the bank — admission scorecard, behaviour score, GBDT
challenger — ends in a PD, and the bank's policies (limits, pricing, approval authority,
provisioning) are written per *grade*, not per model. One scale of PD bands makes a grade
mean the same risk whichever model produced it ("one risk scale", DESIGN §1).

Default scale: 10 grades A1 (best) … E2 (worst) whose PD upper bounds double from 0.25 %:
0.25, 0.5, 1, 2, 4, 8, 16, 32, 64 %, and E2 above 64 %. Doubling bands are the usual
geometric design: each grade is the same step in log-odds, so a grade move means the same
change in risk at the top and at the bottom of the book. Intervals are ``[low, high)``.

Why calibrate: a scorecard ranks well but its PDs carry the development sample's bad rate
(often a sample with bads oversampled, or a different period). ``Calibrator`` maps a score
or log-odds to PD on a calibration sample:

- ``method="logistic"`` (default): PD = σ(a + b·x), two parameters fitted by maximum
  likelihood (Platt scaling). Stable on small samples, monotone, and it keeps the ranking.
- ``method="isotonic"``: the monotone step function that best fits the observed bad rate
  (pool-adjacent-violators), interpolated between the blocks' centres; needs more data.

``target_rate`` then shifts every PD's log-odds by one constant so the mean PD equals the
portfolio's long-run bad rate (calibration to central tendency), as rating policy asks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import expit, logit

from xiaowei.engine.models.binning import monotone_groups
from xiaowei.engine.models.selection import fit_logit
from xiaowei.engine.models.woe import check_choice, check_real, check_target

DEFAULT_NAMES = ("A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "E1", "E2")
DEFAULT_BOUNDS = (0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)
METHODS = ("logistic", "isotonic")


class MasterScale:
    """Grades defined by PD upper bounds: grade ``i`` holds ``bounds[i-1] <= PD < bounds[i]``.

    A scale is a bank policy, not something learned, so it is checked when it is made.
    """

    def __init__(
        self, bounds: Sequence[float] = DEFAULT_BOUNDS, names: Sequence[str] = DEFAULT_NAMES
    ) -> None:
        bounds = [float(b) for b in bounds]
        increasing = all(a < b for a, b in itertools.pairwise(bounds))
        if not bounds or not increasing or any(not 0.0 < b < 1.0 for b in bounds):
            raise ValueError(
                f"bounds must be increasing PDs strictly between 0 and 1; got {bounds}"
            )
        if len(names) != len(bounds) + 1 or len(set(names)) != len(names):
            raise ValueError(
                f"names must be {len(bounds) + 1} distinct grade names (one more than bounds); "
                f"got {list(names)}"
            )
        self.bounds = tuple(bounds)
        self.names = tuple(str(n) for n in names)

    @classmethod
    def geometric(cls, first: float, ratio: float, grades: int = 10) -> MasterScale:
        """``grades`` grades named 1..N whose upper bounds are ``first × ratio**i``."""
        bounds = [first * ratio**i for i in range(grades - 1)]
        return cls(bounds, [str(i + 1) for i in range(grades)])

    def index(self, pd: Any) -> np.ndarray:
        """Grade position (0 = best) of each PD."""
        values = np.asarray(pd, dtype=np.float64)
        if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
            raise ValueError("PD must be numbers between 0 and 1")
        return np.searchsorted(np.asarray(self.bounds), values, side="right")

    def grade(self, pd: float) -> str:
        """The grade name of one PD."""
        return self.names[int(self.index(pd))]

    def grades(self, pd: Any) -> np.ndarray:
        """The grade name of each PD."""
        return np.asarray(self.names, dtype=object)[self.index(pd)]

    def table(self) -> list[dict[str, Any]]:
        """Rows {grade, pd_low, pd_high, pd_mid}; ``pd_mid`` is the band's geometric centre
        (the end grades use their one finite bound's neighbour step)."""
        edges = [0.0, *self.bounds, 1.0]
        rows = []
        for i, name in enumerate(self.names):
            low, high = edges[i], edges[i + 1]
            mid = math.sqrt(low * high) if low > 0 else high / 2
            rows.append({"grade": name, "pd_low": low, "pd_high": high, "pd_mid": mid})
        return rows

    def summary(self, pd: Any, y: Any) -> list[dict[str, Any]]:
        """Per grade: rows, mean predicted PD and observed bad rate (``None`` when empty)."""
        values = np.asarray(pd, dtype=np.float64)
        target = check_target(y, len(values)) if len(values) else np.zeros(0)
        index = self.index(values)
        rows = []
        for i, band in enumerate(self.table()):
            mask = index == i
            n = int(mask.sum())
            rows.append({
                **band,
                "count": n,
                "mean_pd": float(values[mask].mean()) if n else None,
                "bad_rate": float(target[mask].mean()) if n else None,
            })
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"bounds": list(self.bounds), "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MasterScale:
        return cls(data["bounds"], data["names"])


class Calibrator:
    """Score or log-odds → PD, fitted on a calibration sample (scikit-learn conventions)."""

    def __init__(self, method: str = "logistic", target_rate: float | None = None) -> None:
        self.method = method
        self.target_rate = target_rate

    def fit(self, x: Any, y: Any) -> Calibrator:
        check_choice("method", self.method, METHODS)
        if self.target_rate is not None:
            check_real("target_rate", self.target_rate, 1e-9, 1 - 1e-9)
        values = _finite(x)
        target = check_target(y, len(values))
        if self.method == "logistic":
            fit = fit_logit(values[:, None], target)
            self.intercept_, self.slope_ = fit.intercept, float(fit.coef[0])
        else:
            self._fit_isotonic(values, target)
        self.shift_ = 0.0
        if self.target_rate is not None:
            self.shift_ = _shift_to_mean(logit(self._raw(values)), self.target_rate)
        return self

    def _fit_isotonic(self, x: np.ndarray, y: np.ndarray) -> None:
        inverse = np.unique(x, return_inverse=True)[1]  # groups of equal x, in ascending order
        counts = np.bincount(inverse).astype(np.float64)
        bads = np.bincount(inverse, weights=y)
        sums = np.bincount(inverse, weights=x)
        ascending = np.corrcoef(x, y)[0, 1] >= 0 if x.std() > 0 else True
        ends = monotone_groups(counts, bads, ascending=bool(ascending))
        starts = [0, *ends[:-1]]
        n = np.array([counts[a:b].sum() for a, b in zip(starts, ends, strict=True)])
        e = np.array([bads[a:b].sum() for a, b in zip(starts, ends, strict=True)])
        s = np.array([sums[a:b].sum() for a, b in zip(starts, ends, strict=True)])
        self.knots_ = s / n
        # Clipping to half an applicant of the sample keeps PDs strictly inside (0, 1), so
        # log-odds exist, and (unlike per-block smoothing) cannot break the monotone order.
        floor = 0.5 / (len(x) + 1.0)
        self.rates_ = np.clip(e / n, floor, 1.0 - floor)

    def _raw(self, x: np.ndarray) -> np.ndarray:
        if self.method == "logistic":
            return expit(self.intercept_ + self.slope_ * x)
        return np.interp(x, self.knots_, self.rates_)

    def predict(self, x: Any) -> np.ndarray:
        """Calibrated PD of each score / log-odds."""
        raw = self._raw(_finite(x))
        return raw if self.shift_ == 0.0 else expit(logit(raw) + self.shift_)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "target_rate": self.target_rate,
                                "shift": self.shift_}
        if self.method == "logistic":
            data.update(intercept=self.intercept_, slope=self.slope_)
        else:
            data.update(knots=self.knots_.tolist(), rates=self.rates_.tolist())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        model = cls(data["method"], data["target_rate"])
        model.shift_ = float(data["shift"])
        if model.method == "logistic":
            model.intercept_, model.slope_ = float(data["intercept"]), float(data["slope"])
        else:
            model.knots_ = np.asarray(data["knots"], dtype=np.float64)
            model.rates_ = np.asarray(data["rates"], dtype=np.float64)
        return model


def _finite(x: Any) -> np.ndarray:
    values = np.asarray(x, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        raise ValueError("scores must be finite numbers (no missing or infinite values)")
    return values


def _shift_to_mean(log_odds: np.ndarray, target: float) -> float:
    """The constant added to every log-odds that makes the mean PD equal ``target``."""
    shift = 0.0
    for _ in range(100):
        p = expit(log_odds + shift)
        gap = p.mean() - target
        if abs(gap) < 1e-12:
            break
        shift -= gap / max(float((p * (1 - p)).mean()), 1e-12)
    return shift
