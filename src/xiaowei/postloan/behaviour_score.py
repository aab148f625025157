"""The post-loan behaviour score (贷后行为评分): P(more than 90 days past due within 6 months).

Why a score beside the warning signals: the signals say *that* something moved (tax down,
a court case); the behaviour score weighs everything the bank sees about a loan at once — its
own arrears history and its borrower's tags — into one probability the post-loan pack reads
as ``score.bpd`` to set each loan's stratum and inspection plan (pack.yaml TR07, S_bpd*).

How it is fitted (the honest test a bank lives through, as the application scorecard):

1. **training set** (:func:`training_set`): one row per active loan (balance > 0, dpd ≤ 90)
   per month-end of a window, its features as of that month-end — loan behaviour from the
   month-end loan states and the borrower's tags from a tag run *as of that month-end*
   (:mod:`~xiaowei.postloan.behaviour_features`) — and the target dpd > 90 at any of the next
   6 month-ends; only month-ends whose 6 months lie inside the data;
2. **out of time** (:func:`fit_out_of_time`): fitted on the month-ends up to a cut, judged on
   the later ones; AUC and KS on both are in the summary and the model's manifest. Rows of one
   loan at consecutive month-ends are not independent, so the refusal threshold counts *loans*
   that went bad, not rows;
3. **registered and approved** (:func:`register_and_approve`) as ``behaviour_score`` by a
   modeller and a second person, so the batch resolves ``behaviour_score@approved``
   (:func:`~xiaowei.postloan.behaviour_scorer.load_behaviour_score`).

Why a WoE scorecard by default and not LightGBM: the score sets how closely a borrower is
watched, which a credit committee and the regulator must be able to read and challenge; a
scorecard's points table and its reason codes ("days past due now: [0.5, inf)") are that. On the
``small`` bank (docs/postloan_behaviour_score.md) LightGBM was *not* clearly better out of time —
OOT AUC 0.984 against the scorecard's 0.985, KS 0.914 against 0.884, with a training AUC of
1.000 that says it memorised the training month-ends — so the scorecard ships;
``kind="gbdt"`` fits the challenger on the same rows.

Train and out-of-time rows are split by the *observation* month-end; the outcome windows of
the last training month-ends run into the out-of-time months (standard for behaviour scores
with short histories — waiting 6 months between the two samples would leave the ``small`` bank
half a year of training data). Stated, kept.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.engine.models.metrics import discrimination, psi
from xiaowei.modelling.scorecard_dir import fit_scorecard_dir
from xiaowei.modelling.workbench import (
    MANIFEST,
    fit,
    load,
)
from xiaowei.postloan.behaviour_features import (
    CATEGORICAL,
    DEFAULT_DPD,
    HORIZON_MONTHS,
    LOAN_FEATURES,
    Progress,
    attach_tags,
    feature_labels,
    labelled_month_ends,
    month_end,
    tag_features,
    tag_runner,
    training_rows,
)
from xiaowei.postloan.behaviour_scorer import MODEL_NAME, BehaviourScore
from xiaowei.store.analytic import AnalyticStore

MIN_BAD_LOANS = 10
"""Fewer loans than this that went bad in the training or the out-of-time sample, and AUC/KS
(and the bins) mean nothing: :func:`fit_out_of_time` refuses, naming the counts."""
KEYS = ("as_of", "loan_id", "party_id")
SCORECARD_PARAMS: dict[str, Any] = {"min_bin_share": 0.01, "require_sign": True}
"""Departures from the scorecard's defaults, and why: a loan that is past due at a month-end
is rare (≈ 2 % of rows on ``small``) but bad one time in two; the default 5 % bin floor merged
it with the current loans and the arrears features lost all their evidence (IV 0 instead of
2.2; OOT AUC 0.964 instead of 0.985). ``require_sign``: every feature reads "a better bin
earns more points", so a reason code never blames a loan for a *safer* value."""


@dataclass(frozen=True)
class TrainingSet:
    """The rows, the month-ends they were observed at, and where the data ends."""

    table: pa.Table  # KEYS, the features, bad
    month_ends: tuple[dt.date, ...]
    data_end: dt.date
    horizon: int
    features: tuple[str, ...]
    seconds: float

    def split(self, oot_months: int) -> tuple[dt.date, pa.Table, pa.Table]:
        """(cut, training rows at month-ends ≤ cut, out-of-time rows after it): the last
        ``oot_months`` month-ends are out of time."""
        if not (isinstance(oot_months, int) and 1 <= oot_months < len(self.month_ends)):
            raise ValueError(f"oot_months must leave at least one training month-end of the "
                             f"{len(self.month_ends)} in the window, got {oot_months!r}")
        cut = self.month_ends[-oot_months - 1]
        after = pc.greater(self.table["as_of"], pa.scalar(cut, pa.date32()))
        return cut, self.table.filter(pc.invert(after)), self.table.filter(after)


def training_set(analytic: AnalyticStore, *, months: int = 24, horizon: int = HORIZON_MONTHS,
                 tags: Sequence[str] | None = None,
                 progress: Progress | None = None) -> TrainingSet:
    """The last ``months`` month-ends whose ``horizon`` lies inside the governed data, one row
    per active loan each (see the module docstring); ``tags`` default to :func:`tag_features`.

    One tag run per month-end (~0.7 s each on ``small``), reported through ``progress``.
    """
    from xiaowei.data.tags.service import bank_catalogue, data_as_of, governed_snapshot

    started = time.perf_counter()
    con = analytic.connection
    data_end = data_as_of(analytic)
    earliest = con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
    if earliest is None:
        raise LookupError("the analytic store holds no loans (gov.loan is empty)")
    ends = labelled_month_ends(data_end, months, earliest=month_end(earliest), horizon=horizon)
    if len(ends) < 2:
        raise ValueError(f"the data ({earliest} … {data_end}) holds {len(ends)} month-end(s) "
                         f"with a {horizon}-month outcome inside it; a behaviour score needs "
                         "at least 2 (one to train on, one to judge out of time)")
    rows = training_rows(con, ends[0], ends[-1], horizon=horizon)
    chosen = tuple(tags if tags is not None else tag_features())
    catalogue = bank_catalogue()
    unknown = [t for t in chosen if t not in catalogue.tags]
    if unknown:
        raise ValueError(f"tags not in the bank's tag catalogue: {unknown}")
    runner, run = tag_runner(catalogue, governed_snapshot(analytic, catalogue), chosen)
    with runner:
        table = attach_tags(rows, chosen, run, progress)
    features = (*LOAN_FEATURES, *chosen)
    table = table.select([*KEYS, *features, "bad"])
    return TrainingSet(table, tuple(ends), data_end, horizon, features,
                       time.perf_counter() - started)


def _counts(table: pa.Table) -> dict[str, int]:
    bad = table["bad"].to_numpy(zero_copy_only=False) == 1
    loans = np.asarray(table["loan_id"].to_pylist(), dtype=object)
    return {"rows": table.num_rows, "bads": int(bad.sum()),
            "bad_loans": len(set(loans[bad].tolist())), "loans": len(set(loans.tolist()))}


def check_enough_bads(train: pa.Table, oot: pa.Table, cut: dt.date, last: dt.date,
                      min_bad_loans: int = MIN_BAD_LOANS) -> tuple[dict[str, int],
                                                                    dict[str, int]]:
    """The counts of both samples; ``ValueError`` naming them when either has fewer than
    ``min_bad_loans`` loans that went bad (or no good row)."""
    if not (isinstance(min_bad_loans, int) and min_bad_loans >= 1):
        raise ValueError(f"min_bad_loans must be a whole number ≥ 1, got {min_bad_loans!r}")
    a, b = _counts(train), _counts(oot)
    if min(a["bad_loans"], b["bad_loans"]) < min_bad_loans or \
            a["rows"] == a["bads"] or b["rows"] == b["bads"]:
        raise ValueError(
            f"too few bads to fit a behaviour score: training (month-ends to {cut}) has "
            f"{a['bad_loans']} bad loans ({a['bads']} bad rows of {a['rows']}), out of time "
            f"(after {cut} to {last}) has {b['bad_loans']} bad loans ({b['bads']} bad rows of "
            f"{b['rows']}); need at least {min_bad_loans} bad loans in each — widen --months "
            "or wait for more outcomes")
    return a, b


def fit_out_of_time(analytic: AnalyticStore, out: Path, *, months: int = 24,
                    oot_months: int = 6, horizon: int = HORIZON_MONTHS,
                    kind: str = "scorecard", min_bad_loans: int = MIN_BAD_LOANS,
                    training: TrainingSet | None = None,
                    progress: Progress | None = None) -> dict[str, Any]:
    """Fit on the month-ends up to the cut, judge on the last ``oot_months``; write the model
    directory ``out`` (with the out-of-time figures in its ``model.json``) and return the
    summary: ``auc_train``, ``ks_train``, ``auc_oot``, ``ks_oot``, counts, window, seconds.

    ``training``: a :class:`TrainingSet` built already (the tag runs are the slow part).
    """
    training = training or training_set(analytic, months=months, horizon=horizon,
                                        progress=progress)
    cut, train, oot = training.split(oot_months)
    last = training.month_ends[-1]
    train_counts, oot_counts = check_enough_bads(train, oot, cut, last, min_bad_loans)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = [*training.features, "bad"]
    data = out.parent / f"{out.name}-train.parquet"
    pq.write_table(train.select(columns), data)
    pq.write_table(oot.select(columns), out.parent / f"{out.name}-oot.parquet")
    if kind == "scorecard":
        fitted = fit_scorecard(data, out)
    else:
        fitted = fit(data, "bad", out, kind=kind, categorical=CATEGORICAL)
    score = BehaviourScore(load(out))
    pd_train, pd_oot = score.predict(train), score.predict(oot)
    y_train = train["bad"].to_numpy(zero_copy_only=False)
    y_oot = oot["bad"].to_numpy(zero_copy_only=False)
    on_train, on_oot = discrimination(y_train, pd_train), discrimination(y_oot, pd_oot)
    figures = {
        "auc_train": round(on_train.auc, 4), "ks_train": round(on_train.ks, 4),
        "auc_oot": round(on_oot.auc, 4), "ks_oot": round(on_oot.ks, 4),
        "psi_oot": round(psi(pd_train, pd_oot), 4),
        "bad_rate_train": round(float(y_train.mean()), 4),
        "bad_rate_oot": round(float(y_oot.mean()), 4),
        "mean_pd_oot": round(float(pd_oot.mean()), 4),
    }
    window = {"first": training.month_ends[0].isoformat(), "cut": cut.isoformat(),
              "last": last.isoformat(), "data_end": training.data_end.isoformat(),
              "horizon_months": training.horizon, "default_dpd": DEFAULT_DPD}
    _add_to_manifest(out / MANIFEST, figures, window, train_counts, oot_counts)
    seconds = {"training_set": round(training.seconds, 2),
               "fit": round(time.perf_counter() - started, 2)}
    return {**figures, "kind": kind, "model_dir": str(out), "features": fitted["features"],
            "dropped": fitted["dropped"], "window": window, "train": train_counts,
            "oot": oot_counts, "tag_runs": len(training.month_ends), "seconds": seconds}


def fit_scorecard(data: Path, out: Path, params: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The scorecard on ``data`` (features + ``bad``) written as the workbench writes a model
    directory, with :data:`SCORECARD_PARAMS` and bilingual feature names for its reason codes
    (see :func:`~xiaowei.modelling.scorecard_dir.fit_scorecard_dir`)."""
    fitted = fit_scorecard_dir(data, out, params={**SCORECARD_PARAMS, **(params or {})},
                               labels=feature_labels(), categorical=CATEGORICAL)
    return {**fitted, "model_dir": str(out), "kind": "scorecard"}


def _add_to_manifest(path: Path, figures: dict[str, float], window: dict[str, Any],
                     train: dict[str, int], oot: dict[str, int]) -> None:
    """The out-of-time figures go into ``model.json`` (so into the registry's metrics), where
    the approver reads them before signing."""
    manifest = json.loads(path.read_text("utf-8"))
    manifest["metrics"] = {**manifest["metrics"], **figures,
                           "rows_oot": oot["rows"], "bads_train": train["bads"],
                           "bads_oot": oot["bads"], "bad_loans_train": train["bad_loans"],
                           "bad_loans_oot": oot["bad_loans"]}
    manifest["behaviour_score"] = {
        **window, "population": "balance > 0 and dpd <= 90 (active, matured_unpaid)",
        "target": "dpd > 90 at any of the next horizon month-ends"}
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")


def register_and_approve(model_dir: Path, *, maker: str = "demo.modeller",
                         checker: str = "demo.validator", name: str = MODEL_NAME,
                         note: str = "out-of-time post-loan behaviour score") -> str:
    """Register ``model_dir`` as ``behaviour_score`` (draft, by ``maker``) and approve it by
    ``checker`` (maker–checker, as the application scorecard); returns its ``name@N``.
    Registering the same files again returns the version already there."""
    from xiaowei.origination.app_scorecard import register_and_approve as register

    return register(model_dir, maker=maker, checker=checker, name=name, note=note)


__all__ = ["KEYS", "MIN_BAD_LOANS", "SCORECARD_PARAMS", "TrainingSet", "check_enough_bads",
           "fit_out_of_time", "fit_scorecard", "register_and_approve", "training_set"]
