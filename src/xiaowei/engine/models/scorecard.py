"""The scorecard (评分卡): monotone bins → WOE → selected features → logistic regression → points.

Why a scorecard next to gradient boosting: a bank's rating and admission models must be
read, challenged and signed off by people; a points table per bin is what a credit
committee and a regulator read, and it scores one applicant in microseconds.

Points (PDO scaling): ``score = offset + factor × ln(good:bad odds)`` with
``factor = pdo / ln 2`` and ``offset = base_points − factor × ln(base_odds)``, so by default
odds of 50:1 score 600 and every 20 points double the odds. Each feature's bin gets
``−factor × coef × WOE`` plus an equal share of ``offset − factor × intercept``; the
applicant's score is the sum of their bins' points, and the score rises as the modelled
risk falls (each feature's points do too when its coefficient keeps the WOE's sign).

Input handling (all documented in ``Binner``/``FeatureBins``): all-missing and constant
columns are dropped with a reason in ``dropped_``; text in a numeric column is parsed when
≥ ``numeric_share`` of it parses and the rest lands in a *garbage* bin; categories, special
values and missing values not seen in training get WOE 0 (``unseen="neutral"``) or the
feature's riskiest WOE (``unseen="riskiest"``); a table without the model's columns is
refused naming them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
from scipy.special import expit

from xiaowei.engine.models import selection
from xiaowei.engine.models.binning import Binner, SpecialValues
from xiaowei.engine.models.reasons import RowScorer
from xiaowei.engine.models.woe import (
    FeatureBins,
    check_choice,
    check_real,
    check_whole,
    read_for,
    woe_iv,
)

FORMAT = "xiaowei.scorecard/1"
_BINNING = ("max_bins", "max_prebins", "prebinning", "min_bin_share", "min_category_share",
            "min_bin_events", "monotonic", "special_values", "unseen", "numeric_share")


class Scorecard:
    """A points scorecard in scikit-learn style: ``fit`` / ``transform`` / ``predict_proba``.

    Binning: ``max_bins``, ``max_prebins``, ``prebinning`` ('quantile', 'tree'),
    ``min_bin_share``, ``min_category_share``, ``min_bin_events``, ``monotonic`` ('auto',
    'ascending', 'descending', 'none'), ``special_values``, ``unseen`` ('neutral',
    'riskiest'), ``numeric_share`` — see ``binning.Binner``. Selection: ``min_iv``,
    ``max_corr`` and ``max_vif`` (``None`` skips the filter), ``stepwise`` ('forward',
    'bidirectional', 'none'), ``criterion`` ('aic', 'bic'), ``max_features``,
    ``require_sign`` — see ``selection``. ``C``: inverse L2 strength of the logistic
    regression (scikit-learn's meaning; ``None`` for plain maximum likelihood). Points:
    ``pdo``, ``base_points``, ``base_odds`` (good:bad), ``round_points`` (whole points per
    bin; the score then carries the rounding, ``predict_proba`` stays exact). ``labels`` maps
    a feature to its (Chinese, English) name for reason codes.

    Defaults were chosen on the five public datasets of shared/data (see
    benchmarks/bench_scorecard_real.py): no IV floor, correlation above 0.9 and VIF above
    10 filtered, forward AIC, and no sign rule — a feature whose coefficient turns against
    its own WOE given the others (SBA's guaranteed portion, given the term) still ranks
    risk, and refusing it cost 0.01–0.02 AUC there. Set ``require_sign=True`` for a card
    whose every feature must read "better bin, more points".
    """

    def __init__(
        self,
        *,
        max_bins: int = 8,
        max_prebins: int = 20,
        prebinning: str = "quantile",
        min_bin_share: float = 0.05,
        min_category_share: float = 0.01,
        min_bin_events: int = 1,
        monotonic: str = "auto",
        special_values: SpecialValues = None,
        unseen: str = "neutral",
        numeric_share: float = 0.95,
        min_iv: float = 0.0,
        max_corr: float | None = 0.9,
        max_vif: float | None = 10.0,
        stepwise: str = "forward",
        criterion: str = "aic",
        max_features: int | None = None,
        require_sign: bool = False,
        C: float | None = 1.0,
        pdo: float = 20.0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        round_points: bool = False,
        labels: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
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
        self.min_iv = min_iv
        self.max_corr = max_corr
        self.max_vif = max_vif
        self.stepwise = stepwise
        self.criterion = criterion
        self.max_features = max_features
        self.require_sign = require_sign
        self.C = C
        self.pdo = pdo
        self.base_points = base_points
        self.base_odds = base_odds
        self.round_points = round_points
        self.labels = labels

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters (scikit-learn's ``clone`` and searches use this)."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params: Any) -> Scorecard:
        unknown = set(params) - set(_PARAMS)
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _check_params(self) -> None:
        check_real("min_iv", self.min_iv, 0.0, math.inf)
        if self.max_corr is not None:
            check_real("max_corr", self.max_corr, 1e-9, 1.0)
        if self.max_vif is not None:
            check_real("max_vif", self.max_vif, 1.0, math.inf)
        check_choice("stepwise", self.stepwise, selection.STEPWISE)
        check_choice("criterion", self.criterion, selection.CRITERIA)
        if self.max_features is not None:
            check_whole("max_features", self.max_features, 1)
        check_choice("require_sign", self.require_sign, (True, False))
        if self.C is not None:
            check_real("C", self.C, 1e-12, math.inf)
        check_real("pdo", self.pdo, 1e-9, math.inf)
        check_real("base_points", self.base_points, -math.inf, math.inf)
        check_real("base_odds", self.base_odds, 1e-12, math.inf)
        check_choice("round_points", self.round_points, (True, False))
        labels = self.labels
        if labels is not None and not (
            isinstance(labels, Mapping)
            and all(
                isinstance(v, tuple | list) and len(v) == 2 and all(isinstance(t, str) for t in v)
                for v in labels.values()
            )
        ):
            raise ValueError(
                f"labels must map a feature to a (Chinese, English) pair of names; got {labels!r}"
            )

    def fit(self, X: Any, y: Any, categorical: Sequence[str] = ()) -> Scorecard:
        """Bin, select and fit on ``X`` (any table ``frame.as_columns`` reads), y 0/1 (1 bad)."""
        self._check_params()
        binner = Binner(**{name: getattr(self, name) for name in _BINNING})
        with _one_thread():
            codes, target = binner.fit_codes(X, y, categorical)
            self.feature_names_in_ = binner.feature_names_in_
            self.n_features_in_ = len(self.feature_names_in_)
            self.dropped_ = dict(binner.dropped_)
            self.iv_ = {name: b.iv for name, b in binner.bins_.items()}
            names, W = self._select(binner.bins_, codes, target)
            grouped, trials, bads = selection.compress(W, target)
            fit = selection.fit_logit(grouped, bads, self.C, trials=trials)
        self._set_model(names, [binner.bins_[n] for n in names], fit.intercept, fit.coef)
        self.n_train_ = len(target)
        self.bad_rate_ = float(target.mean())
        return self

    def _select(
        self, bins: Mapping[str, FeatureBins], codes: Mapping[str, np.ndarray], y: np.ndarray
    ) -> tuple[list[str], np.ndarray]:
        names, dropped = selection.information_filter(
            list(bins), [bins[n].iv for n in bins], self.min_iv
        )
        self.dropped_.update(dropped)
        flat = [n for n in names if sum(c > 0 for c in bins[n].counts) < 2]
        self.dropped_.update({n: "a single bin in training: no evidence either way" for n in flat})
        names = [n for n in names if n not in flat]
        W = np.empty((len(y), len(names)))
        for j, n in enumerate(names):
            W[:, j] = np.asarray(bins[n].woe)[codes[n]]
        for step, limit in ((selection.correlation_filter, self.max_corr),
                            (selection.vif_filter, self.max_vif)):
            if limit is not None and len(names) > 1:
                kept, dropped = step(W, names, [self.iv_[n] for n in names], limit)
                self.dropped_.update(dropped)
                names, W = [names[j] for j in kept], W[:, kept]
        chosen, dropped = selection.stepwise(
            W, y, names, direction=self.stepwise, criterion=self.criterion, C=self.C,
            max_features=self.max_features, require_sign=self.require_sign,
        )
        self.dropped_.update(dropped)
        if not chosen:
            raise ValueError(
                "no feature is informative enough to build a scorecard; reasons: "
                f"{self.dropped_}"
            )
        return [names[j] for j in chosen], W[:, chosen]

    def _set_model(
        self, names: list[str], bins: list[FeatureBins], intercept: float, coef: np.ndarray
    ) -> None:
        self.features_ = list(names)
        self.bins_ = {b.name: b for b in bins}
        self.intercept_ = float(intercept)
        self.coef_ = np.asarray(coef, dtype=np.float64)
        # features whose coefficient turned against their own WOE (see require_sign)
        self.sign_reversed_ = [n for n, c in zip(names, self.coef_, strict=True) if c >= 0]
        self.factor_ = self.pdo / math.log(2.0)
        self.offset_ = self.base_points - self.factor_ * math.log(self.base_odds)
        share = (self.offset_ - self.factor_ * self.intercept_) / len(bins)
        self.points_ = [
            [float(share - self.factor_ * beta * w) for w in b.woe]
            for b, beta in zip(bins, self.coef_.tolist(), strict=True)
        ]
        if self.round_points:
            self.points_ = [[float(round(p)) for p in pts] for pts in self.points_]
        self._row = RowScorer(bins, self.points_, self.labels)

    def _codes(self, X: Any) -> np.ndarray:
        bins = [self.bins_[n] for n in self.features_]
        columns = read_for(X, bins)
        return np.column_stack([b.codes(columns[b.name]) for b in bins])

    def transform(self, X: Any) -> np.ndarray:
        """The WOE matrix (rows × ``features_``)."""
        codes = self._codes(X)
        return np.column_stack([
            np.asarray(self.bins_[n].woe)[codes[:, j]] for j, n in enumerate(self.features_)
        ])

    def assigned_bins(self, X: Any) -> dict[str, np.ndarray]:
        """Each feature's bin label per row — what CSI compares between two samples."""
        codes = self._codes(X)
        return {n: np.asarray(self.bins_[n].labels, dtype=object)[codes[:, j]]
                for j, n in enumerate(self.features_)}

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of bad."""
        return self.intercept_ + self.transform(X) @ self.coef_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns (P(good), P(bad)), as scikit-learn classifiers return them."""
        bad = expit(self.decision_function(X))
        return np.column_stack([1.0 - bad, bad])

    def score(self, X: Any) -> np.ndarray:
        """Points of every row (higher = safer)."""
        codes = self._codes(X)
        total = np.zeros(len(codes))
        for j, pts in enumerate(self.points_):
            total += np.asarray(pts)[codes[:, j]]
        return total

    def points_table(self) -> list[dict[str, Any]]:
        """One row per feature and bin: label, count, share, event rate, WOE, IV, points."""
        rows = []
        for j, name in enumerate(self.features_):
            b = self.bins_[name]
            total = sum(b.counts)
            _, ivs = _bin_iv(b)
            zh, en = (self.labels or {}).get(name, (name, name))
            for code, label in enumerate(b.labels):
                count = b.counts[code]
                rows.append({
                    "feature": name, "label_zh": zh, "label_en": en, "bin": label,
                    "count": count, "share": count / total if total else 0.0,
                    "event_rate": b.events[code] / count if count else None,
                    "woe": b.woe[code], "iv": float(ivs[code]), "points": self.points_[j][code],
                })
        return rows

    def bin_tables(self) -> list[dict[str, Any]]:
        """Per feature {feature, iv, rows}: the shape ``validation`` reports take (bins that
        held training rows only)."""
        tables: dict[str, dict[str, Any]] = {}
        for row in self.points_table():
            table = tables.setdefault(row["feature"], {
                "feature": row["feature"], "iv": self.iv_[row["feature"]], "rows": []})
            if row["count"]:
                table["rows"].append({k: row[k] for k in (
                    "bin", "count", "share", "event_rate", "woe", "points")})
        return list(tables.values())

    def reasons(self, data: Any, top: int = 3) -> list[Any]:
        """Reasons for one applicant (a mapping of scalars) or for every row of a table."""
        if isinstance(data, Mapping) and all(_scalar(v) for v in data.values()):
            return self._row.explain(data, top)[1]
        codes = self._codes(data)
        return [self._row.reasons_from_codes(list(row), top) for row in codes.tolist()]

    @overload
    def score_one(self, row: Mapping[str, Any], reasons: Literal[False] = False) -> float: ...
    @overload
    def score_one(
        self, row: Mapping[str, Any], reasons: Literal[True], top: int = 3
    ) -> tuple[float, list[dict[str, Any]]]: ...
    def score_one(
        self, row: Mapping[str, Any], reasons: bool = False, top: int = 3
    ) -> float | tuple[float, list[dict[str, Any]]]:
        """One applicant's points from a mapping feature → value (the online fast path)."""
        if reasons:
            return self._row.explain(row, top)
        return self._row.score(row)

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-safe data; ``from_dict`` gives back identical scores."""
        params = self.get_params()
        if params["labels"] is not None:
            params["labels"] = {k: list(v) for k, v in params["labels"].items()}
        specials = params["special_values"]
        if specials is not None:
            params["special_values"] = (
                {k: [_plain(s) for s in v] for k, v in specials.items()}
                if isinstance(specials, Mapping)
                else [_plain(s) for s in specials]
            )
        return {
            "format": FORMAT,
            "params": params,
            "features": list(self.features_),
            "intercept": self.intercept_,
            "coef": [float(c) for c in self.coef_],
            "bins": [self.bins_[n].to_dict() for n in self.features_],
            "iv": dict(self.iv_),
            "dropped": dict(self.dropped_),
            "feature_names_in": list(self.feature_names_in_),
            "n_train": self.n_train_,
            "bad_rate": self.bad_rate_,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a saved scorecard of format {FORMAT!r}: {data.get('format')!r}")
        params = dict(data["params"])
        if params.get("labels") is not None:
            params["labels"] = {k: (v[0], v[1]) for k, v in params["labels"].items()}
        model = cls(**params)
        model._check_params()
        bins = [FeatureBins.from_dict(b) for b in data["bins"]]
        model.feature_names_in_ = list(data["feature_names_in"])
        model.n_features_in_ = len(model.feature_names_in_)
        model.iv_ = {k: float(v) for k, v in data["iv"].items()}
        model.dropped_ = dict(data["dropped"])
        model.n_train_ = int(data["n_train"])
        model.bad_rate_ = float(data["bad_rate"])
        model._set_model(list(data["features"]), bins, data["intercept"], np.array(data["coef"]))
        return model


_PARAMS = (*_BINNING, "min_iv", "max_corr", "max_vif", "stepwise", "criterion", "max_features",
           "require_sign", "C", "pdo", "base_points", "base_odds", "round_points", "labels")


def _bin_iv(b: FeatureBins) -> tuple[np.ndarray, np.ndarray]:
    return woe_iv(np.asarray(b.counts), np.asarray(b.events))


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number JSON can write."""
    return value.item() if isinstance(value, np.generic) else value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bytes | int | float | np.generic)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Fit with one BLAS thread: the products here are small (rows × a few WOE columns) and
    on a busy server extra BLAS threads cost more in contention than they save (measured:
    ×3–20 slower under load). ``threadpoolctl`` is used when installed, else nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
