"""The approved behaviour score applied: a PD per loan for the nightly batch, one loan on demand.

Why a scorer apart from training: the batch loads the *approved* version from the registry (the
files a second person signed off, checked against their hash) and must never refit; a person
looking at one loan needs the same PD and the reasons behind it. So this module only loads and
applies — :class:`BehaviourScore` wraps a fitted model directory:

* :meth:`BehaviourScore.predict` — vectorised: feature columns for N loans (NumPy arrays, an
  Arrow table or a mapping of either) → PD per loan (float64); numeric features are bin lookups
  by ``searchsorted`` and one dot product, so a million loans take seconds;
* :meth:`BehaviourScore.predict_row` / :meth:`BehaviourScore.reasons` — one loan as a mapping,
  through the scorecard's compiled points table (no numpy), with the features that cost it
  most points named in Chinese and English;
* :meth:`BehaviourScore.score_as_of` — the batch's call: features of every loan on a day
  (:mod:`~xiaowei.postloan.behaviour_features`) and their PDs, aligned with the batch's loan
  state; its signature is the monitoring batch's ``behaviour`` hook.

A loan outside the score's population — more than 90 days past due already, or without a
balance — gets NaN: the score says nothing about it (the pack's dpd rules do).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from xiaowei.engine.models.scorecard import Scorecard
from xiaowei.modelling.registry import ModelRegistry, open_registry
from xiaowei.modelling.workbench import FittedModel, load
from xiaowei.postloan.behaviour_features import (
    LOAN_FEATURES,
    attach_tags,
    rows_as_of,
    tag_runner,
)
from xiaowei.store.analytic import AnalyticStore

MODEL_NAME = "behaviour_score"
APPROVED_REF = f"{MODEL_NAME}@approved"


class BehaviourScore:
    """A fitted behaviour score: PD of more than 90 days past due within 6 months."""

    def __init__(self, fitted: FittedModel, ref: str | None = None) -> None:
        self.fitted = fitted
        self.ref = ref or str(fitted.directory)
        self.features = tuple(fitted.features)
        self.tags = tuple(f for f in self.features if f not in LOAN_FEATURES)
        self._card = fitted.model if isinstance(fitted.model, Scorecard) else None

    @property
    def kind(self) -> str:
        return self.fitted.kind

    def predict(self, columns: pa.Table | Mapping[str, Any]) -> np.ndarray:
        """PD per row (float64) from the model's feature columns; other columns are ignored,
        a missing one is refused naming it."""
        table = columns if isinstance(columns, pa.Table) else _as_table(columns, self.features)
        missing = [f for f in self.features if f not in table.column_names]
        if missing:
            raise ValueError(f"the feature columns lack what {self.ref} reads: {missing}")
        X = table.select(list(self.features))
        return np.ascontiguousarray(self.fitted.model.predict_proba(X)[:, 1], dtype=np.float64)

    def predict_row(self, row: Mapping[str, Any]) -> float:
        """PD of one loan given as feature → value (the scorecard's one-row path)."""
        card = self._card
        if card is None:
            return float(self.predict({f: [row.get(f)] for f in self.features})[0])
        # points = offset − factor × log-odds(bad), exactly (the card's points are not rounded)
        points = card.score_one(row)
        return 1.0 / (1.0 + math.exp(-(card.offset_ - points) / card.factor_))

    def reasons(self, row: Mapping[str, Any], top: int = 3) -> list[dict[str, Any]]:
        """The ``top`` features that raised this loan's PD most (points below the best bin),
        each with its Chinese and English name and the bin the loan fell in."""
        if self._card is None:
            raise ValueError(f"{self.ref} is a {self.kind}: reason codes come with the scorecard")
        return self._card.score_one(row, reasons=True, top=top)[1]

    def features_as_of(self, analytic: AnalyticStore, as_of: dt.date,
                       state: pa.Table | None = None,
                       tag_rows: pa.Table | None = None) -> pa.Table:
        """The feature columns of every loan in the population on ``as_of``: ``loan_id``,
        ``party_id`` and the model's features. ``tag_rows``: a tag run of that day holding the
        model's tags (the batch has one already); without it the tags are run here."""
        rows = rows_as_of(analytic.connection, as_of, state)
        if not self.tags:
            return rows
        if tag_rows is not None:
            return attach_tags(rows, self.tags, lambda _day: tag_rows)
        from xiaowei.data.tags.service import bank_catalogue, governed_snapshot

        catalogue = bank_catalogue()
        runner, run = tag_runner(catalogue, governed_snapshot(analytic, catalogue), self.tags)
        with runner:
            return attach_tags(rows, self.tags, run)

    def score_as_of(self, analytic: AnalyticStore, as_of: dt.date,
                    state: pa.Table | None = None,
                    tag_rows: pa.Table | None = None) -> np.ndarray:
        """PD per loan of ``state`` (the batch's loan state on ``as_of``; default: every loan
        of the book, by loan id), NaN for loans outside the population."""
        from xiaowei.postloan.loan_state import loan_state

        state = state if state is not None else loan_state(analytic.connection, as_of)
        features = self.features_as_of(analytic, as_of, state, tag_rows)
        out = np.full(state.num_rows, np.nan)
        if features.num_rows == 0:
            return out
        where = {loan: i for i, loan in enumerate(state["loan_id"].to_pylist())}
        index = np.fromiter((where[x] for x in features["loan_id"].to_pylist()), np.int64,
                            count=features.num_rows)
        out[index] = self.predict(features)
        return out

    def __call__(self, analytic: AnalyticStore, as_of: dt.date, state: pa.Table,
                 tag_rows: pa.Table | None = None) -> np.ndarray:
        """The monitoring batch's hook (``run_monitoring(..., behaviour=score)``); the batch
        hands over the day's tag rows (it refreshes :attr:`tags` with its own)."""
        return self.score_as_of(analytic, as_of, state, tag_rows)


def _as_table(columns: Mapping[str, Any], features: tuple[str, ...]) -> pa.Table:
    """A mapping of NumPy arrays, lists or Arrow arrays as an Arrow table (NaN → null)."""
    out = {}
    for name in features:
        if name not in columns:
            continue
        values = columns[name]
        if isinstance(values, pa.Array | pa.ChunkedArray):
            out[name] = values
            continue
        array = np.asarray(values)
        if array.dtype.kind == "f":
            out[name] = pa.array(array, mask=np.isnan(array))
        elif array.dtype.kind in "iub":
            out[name] = pa.array(array.astype(np.float64))
        else:
            out[name] = pa.array(array.tolist(), pa.string())
    return pa.table(out)


def load_behaviour_score(ref: str = APPROVED_REF, *, registry: ModelRegistry | None = None
                         ) -> BehaviourScore:
    """The behaviour score ``ref`` resolved through the registry — approved versions only, its
    files verified against their hash (``NotForProduction`` for a draft)."""
    if registry is None:
        with open_registry() as opened:
            resolved = opened.resolve(ref)
    else:
        resolved = registry.resolve(ref)
    return BehaviourScore(load(resolved.path), resolved.record.ref)


__all__ = ["APPROVED_REF", "MODEL_NAME", "BehaviourScore", "load_behaviour_score"]
