"""The fraud detector: a model score, the rules that fired, and a suggested decision.

Why a model over the features and not the rules alone: every single trace of a ring (a shared
phone, a young firm, a burst of applications, a guarantee from a related firm) is also common
among honest firms, so a rule strict enough to keep honest applicants out of review misses
most rings, and one loose enough to catch them floods review. A model weighs the traces
together; the rules stay, as the reasons a reviewer reads and as hard escalations.

Two ways to score, chosen by what the bank has:
- ``supervised``: LightGBM on the bank's own case file — applications decided before a
  cut-off whose fraud was later confirmed by investigation (the labels are passed in; this
  module never reads them from anywhere);
- ``anomaly``: an isolation forest over the same features, for a bank with too few confirmed
  cases (fewer than ``min_cases``), used automatically then.

Thresholds are set on the fitted history: ``review`` flags at most ``flag_rate`` of the
applications not known to be fraud, ``reject`` a quarter of that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xiaowei.origination.antifraud.features import FEATURES, ApplicationFeatures
from xiaowei.origination.antifraud.rules import Rule, load_rules, triggered

DECISIONS = ("pass", "review", "reject")


@dataclass(frozen=True)
class Thresholds:
    """Score at or above which an application goes to review / is suggested for rejection."""

    review: float
    reject: float

    def __post_init__(self) -> None:
        if not self.review <= self.reject:
            raise ValueError(f"review threshold {self.review} above reject {self.reject}")


@dataclass(frozen=True)
class FiredRule:
    id: str
    zh: str
    en: str
    severity: str


@dataclass(frozen=True)
class Assessment:
    """What the detector says about one application."""

    application_id: str
    score: float
    rules: tuple[FiredRule, ...]
    decision: str


@dataclass
class FraudDetector:
    """Fit on history, then score and assess applications (see the module docstring)."""

    method: str = "supervised"
    rules: list[Rule] = field(default_factory=load_rules)
    thresholds: Thresholds | None = None
    flag_rate: float = 0.02
    min_cases: int = 10
    seed: int = 7
    use: tuple[str, ...] = FEATURES  # the features the model sees (rules see all)
    fitted_method: str = ""
    _model: object = None

    def _x(self, apps: ApplicationFeatures) -> np.ndarray:
        unknown = set(self.use) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features: {', '.join(sorted(unknown))}")
        return apps.matrix[:, [FEATURES.index(n) for n in self.use]]

    def fit(self, history: ApplicationFeatures,
            confirmed_fraud: np.ndarray | None = None) -> FraudDetector:
        """Learn from past applications; ``confirmed_fraud`` is the bank's case file (bool)."""
        x = self._x(history)
        y = None if confirmed_fraud is None else np.asarray(confirmed_fraud, dtype=bool)
        if y is not None and len(y) != len(x):
            raise ValueError(f"{len(y)} labels for {len(x)} applications")
        supervised = (self.method == "supervised" and y is not None
                      and y.sum() >= self.min_cases and (~y).sum() >= self.min_cases)
        if self.method not in ("supervised", "anomaly"):
            raise ValueError(f"method must be 'supervised' or 'anomaly', got {self.method!r}")
        if supervised:
            import lightgbm as lgb

            model = lgb.LGBMClassifier(
                n_estimators=300, learning_rate=0.03, num_leaves=7, min_child_samples=10,
                subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
                random_state=self.seed, n_jobs=1, verbose=-1, deterministic=True)
            model.fit(x, y)
            self.fitted_method = "supervised"
        else:
            from sklearn.ensemble import IsolationForest

            model = IsolationForest(n_estimators=300, random_state=self.seed, n_jobs=1)
            model.fit(np.nan_to_num(x, nan=-1.0))
            self.fitted_method = "anomaly"
        self._model = model
        if self.thresholds is None:
            honest = self.score(history)
            if y is not None:
                honest = honest[~y]
            self.thresholds = Thresholds(
                review=float(np.quantile(honest, 1.0 - self.flag_rate)),
                reject=float(np.quantile(honest, 1.0 - self.flag_rate / 4.0)))
        return self

    def score(self, apps: ApplicationFeatures) -> np.ndarray:
        """Fraud score per application, higher = more suspicious (a probability if supervised)."""
        if self._model is None:
            raise RuntimeError("fit the detector first")
        if self.fitted_method == "supervised":
            return self._model.predict_proba(self._x(apps))[:, 1]  # type: ignore[attr-defined]
        raw = self._model.score_samples(np.nan_to_num(self._x(apps), nan=-1.0))  # type: ignore
        return 1.0 / (1.0 + np.exp(10.0 * (raw + 0.5)))  # lower isolation depth → higher

    def assess(self, apps: ApplicationFeatures) -> list[Assessment]:
        """Score, fired rules (zh/en) and a decision suggestion for every application.

        The decision is the stricter of the score's (by ``thresholds``) and the rules'
        (a ``review`` rule sends to review, a ``reject`` rule suggests rejection).
        """
        scores = self.score(apps)
        assert self.thresholds is not None
        out = []
        for app_id, s, feats in zip(apps.application_id, scores, apps.as_dicts(), strict=True):
            fired = tuple(FiredRule(r.id, r.zh, r.en, r.severity)
                          for r in triggered(self.rules, feats))
            level = 2 if s >= self.thresholds.reject else 1 if s >= self.thresholds.review else 0
            for r in fired:
                level = max(level, {"info": 0, "review": 1, "reject": 2}[r.severity])
            out.append(Assessment(str(app_id), float(s), fired, DECISIONS[level]))
        return out

    def importances(self) -> dict[str, float]:
        """Split-gain importance per feature (supervised only), for the model card."""
        if self.fitted_method != "supervised":
            return {}
        gain = self._model.booster_.feature_importance("gain")  # type: ignore[attr-defined]
        total = float(gain.sum()) or 1.0
        return {name: float(g) / total for name, g in zip(self.use, gain, strict=True)}


def recall_at_fpr(scores: np.ndarray, is_fraud: np.ndarray, max_fpr: float = 0.02
                  ) -> dict[str, float]:
    """Recall, precision and flag threshold at the loosest cut flagging ≤ ``max_fpr`` honest.

    The measurement the anti-fraud goal is stated in; labels come from the caller (a
    benchmark's ground truth), never from this module.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_fraud, dtype=bool)
    honest = np.sort(s[~y])[::-1]
    k = int(np.floor(max_fpr * len(honest)))  # honest applications we may flag
    # Flag s > t where t is the (k+1)-th highest honest score: at most k honest flagged.
    t = honest[k] if k < len(honest) else -np.inf
    flagged = s > t
    tp = int((flagged & y).sum())
    return {"threshold": float(t), "recall": tp / max(1, int(y.sum())),
            "fpr": float((flagged & ~y).sum()) / max(1, len(honest)),
            "precision": tp / max(1, int(flagged.sum())), "flagged": int(flagged.sum())}


def auc(scores: np.ndarray, is_fraud: np.ndarray) -> float:
    """Area under the ROC curve (rank form, ties counted half)."""
    from scipy.stats import rankdata

    y = np.asarray(is_fraud, dtype=bool)
    r = rankdata(scores)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
