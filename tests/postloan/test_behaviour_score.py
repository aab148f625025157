"""The post-loan behaviour score: its target on the hand-written book, its training set, fit,
scorers and registration on the simulated `tiny` bank (the session's ``pipeline_bank``)."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import typer
from tests.postloan.book_support import D, write_book
from typer.testing import CliRunner

from xiaowei.config import get_settings
from xiaowei.data.tags.service import bank_catalogue, governed_snapshot
from xiaowei.engine.tags import run_duckdb
from xiaowei.modelling import ModelNotFound, NotForProduction, open_registry
from xiaowei.modelling.workbench import load
from xiaowei.postloan.behaviour_features import (
    LOAN_FEATURES,
    add_months,
    last_labelled,
    training_rows,
)
from xiaowei.postloan.behaviour_score import (
    MIN_BAD_LOANS,
    TrainingSet,
    fit_out_of_time,
    register_and_approve,
    training_set,
)
from xiaowei.postloan.behaviour_scorer import BehaviourScore, load_behaviour_score
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.postloan.loan_state import loan_state, month_end_snapshots
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore


def _by(rows: pa.Table) -> dict[tuple[str, dt.date], dict[str, Any]]:
    return {(r["loan_id"], r["as_of"]): r for r in rows.to_pylist()}


# --- the target and loan features on the hand-written book (book_support's table) -----------

def test_target_and_loan_features_on_the_hand_written_book() -> None:
    con = write_book()
    # Data ends 2024-08-31: with a 6-month horizon only Jan and Feb have an outcome.
    assert last_labelled(D(2024, 8, 31), 6) == D(2024, 2, 29)
    six = _by(training_rows(con, D(2024, 1, 31), D(2024, 2, 29), horizon=6))
    # L3 reaches 102 dpd on 06-30: bad from both points; L2 (21 dpd, then settled) is good.
    assert six[("L3", D(2024, 1, 31))]["bad"] == 1 and six[("L3", D(2024, 2, 29))]["bad"] == 1
    assert {k: r["bad"] for k, r in six.items() if k[0] != "L3"} == dict.fromkeys(
        [k for k in six if k[0] != "L3"], 0)
    # A 3-month horizon from 02-29 sees 11, 41, 72 (never > 90); from 03-31 it sees 102.
    three = _by(training_rows(con, D(2024, 1, 31), D(2024, 5, 31), horizon=3))
    assert [three[("L3", D(2024, m, d))]["bad"] for m, d in ((1, 31), (2, 29), (3, 31),
                                                            (4, 30), (5, 31))] == [0, 0, 1, 1, 1]
    l3 = three[("L3", D(2024, 4, 30))]
    assert (l3["dpd_now"], l3["max_dpd_6m"], l3["months_late_6m"], l3["mob"]) == (41, 41, 2, 3)
    assert l3["outstanding_ratio"] == pytest.approx(2000 / 2400)
    assert (l3["product"], l3["segment"]) == ("guaranteed", "enterprise")
    # L6 was 4 days late on 02-29 and current on 03-31: the history remembers it.
    l6 = three[("L6", D(2024, 3, 31))]
    assert (l6["dpd_now"], l6["max_dpd_6m"], l6["months_late_6m"]) == (0, 4, 1)
    # Population: settled loans (L1 on 04-30) and defaulted points (L3 from 06-30) are out.
    assert ("L1", D(2024, 4, 30)) not in three
    assert ("L3", D(2024, 6, 30)) not in _by(training_rows(con, D(2024, 6, 30), D(2024, 6, 30),
                                                           horizon=1))


# --- the simulated tiny bank ------------------------------------------------------------------

@pytest.fixture(scope="module")
def analytic(pipeline_bank: dict[str, Any]) -> Any:
    with AnalyticStore(pipeline_bank["analytic"]) as store:
        yield store


@pytest.fixture(scope="module")
def training(analytic: AnalyticStore) -> TrainingSet:
    return training_set(analytic, months=24)


@pytest.fixture(scope="module")
def fitted(analytic: AnalyticStore, training: TrainingSet,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Fitted with the bad-loan floor lowered to 1: tiny has too few defaults for a real
    score, but enough for the scorers and the registry to be tested on a real model."""
    out = tmp_path_factory.mktemp("behaviour") / "model"
    return fit_out_of_time(analytic, out, training=training, min_bad_loans=1)


def test_no_row_has_a_horizon_past_the_end_of_the_data(training: TrainingSet) -> None:
    last = max(training.table["as_of"].to_pylist())
    assert add_months(last, training.horizon) <= training.data_end
    assert last == last_labelled(training.data_end, training.horizon)  # and no later one left
    assert training.table.num_rows > 100
    assert pc.max(training.table["dpd_now"]).as_py() <= 90
    assert pc.min(training.table["outstanding_ratio"]).as_py() > 0


def test_the_target_is_dpd_over_90_at_one_of_the_next_6_month_ends(
        analytic: AnalyticStore, training: TrainingSet) -> None:
    """The SQL window against a plain loop over the month-end states, loan by loan."""
    last = training.month_ends[-1]
    states = month_end_snapshots(analytic.connection, training.month_ends[0],
                                 add_months(last, 6)).to_pylist()
    dpd = {(r["loan_id"], r["as_of"]): r["dpd"] for r in states}
    rows = training.table.select(["as_of", "loan_id", "bad"]).to_pylist()
    expected = [int(any(dpd.get((r["loan_id"], add_months(r["as_of"], k)), 0) > 90
                        for k in range(1, 7))) for r in rows]
    assert [r["bad"] for r in rows] == expected
    assert sum(expected) >= 3  # tiny's few defaults are in the set


def test_tags_are_those_of_the_run_at_each_month_end(
        analytic: AnalyticStore, training: TrainingSet) -> None:
    catalogue = bank_catalogue()
    sources = governed_snapshot(analytic, catalogue)
    tags = [f for f in training.features if f not in LOAN_FEATURES]
    early, late = training.month_ends[-7], training.month_ends[-1]
    rows = training.table.filter(pc.equal(training.table["as_of"],
                                          pa.scalar(early, pa.date32())))
    parties = rows["party_id"].to_pylist()
    _, at_early = tag_columns(run_duckdb(catalogue, sources, early, tags=tags).table, tags,
                              parties)
    _, at_late = tag_columns(run_duckdb(catalogue, sources, late, tags=tags).table, tags,
                             parties)
    index = {p: i for i, p in enumerate(dict.fromkeys(parties))}
    at = [index[p] for p in parties]
    moved = 0
    for t in tags:
        got = rows[t].to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(got, at_early[t][at], err_msg=t)
        later = at_late[t][at]
        moved += int(np.sum(~((got == later) | (np.isnan(got) & np.isnan(later)))))
    assert moved > 0  # a later run differs, so equality above means the month-end's own run


def test_too_few_bad_loans_is_refused_naming_the_counts(
        analytic: AnalyticStore, training: TrainingSet, tmp_path: Path) -> None:
    _, train, oot = training.split(6)
    bad_loans = [len(set(pc.filter(t["loan_id"], pc.equal(t["bad"], 1)).to_pylist()))
                 for t in (train, oot)]
    if min(bad_loans) >= MIN_BAD_LOANS:  # a richer bank: the score must beat chance
        summary = fit_out_of_time(analytic, tmp_path / "m", training=training)
        assert summary["auc_oot"] > 0.5
        return
    with pytest.raises(ValueError, match="too few bads") as refused:
        fit_out_of_time(analytic, tmp_path / "m", training=training)
    message = str(refused.value)
    assert f"has {bad_loans[0]} bad loans" in message
    assert f"has {bad_loans[1]} bad loans" in message
    assert f"at least {MIN_BAD_LOANS}" in message
    assert not (tmp_path / "m").exists()


def test_the_fitted_score_is_judged_out_of_time(fitted: dict[str, Any]) -> None:
    window = fitted["window"]
    assert window["cut"] < window["last"] and fitted["oot"]["rows"] > 0
    assert fitted["train"]["bad_loans"] >= 1 and fitted["oot"]["bad_loans"] >= 1
    assert fitted["auc_oot"] > 0.5 and 0 <= fitted["ks_oot"] <= 1
    manifest = json.loads((Path(fitted["model_dir"]) / "model.json").read_text("utf-8"))
    assert manifest["metrics"]["auc_oot"] == fitted["auc_oot"]
    assert manifest["behaviour_score"]["cut"] == window["cut"]


def test_the_vectorised_scorer_equals_the_per_row_scorer(
        fitted: dict[str, Any], training: TrainingSet) -> None:
    score = BehaviourScore(load(Path(fitted["model_dir"])))
    table = training.table
    vectorised = score.predict(table)
    assert vectorised.dtype == np.float64 and vectorised.shape == (table.num_rows,)
    one_by_one = np.array([score.predict_row(row) for row in table.to_pylist()])
    np.testing.assert_allclose(vectorised, one_by_one, rtol=1e-12, atol=1e-15)
    as_numpy = {f: (np.asarray(table[f].to_pylist(), dtype=object) if f in ("product",
                    "segment") else table[f].to_numpy(zero_copy_only=False))
                for f in score.features}
    np.testing.assert_array_equal(score.predict(as_numpy), vectorised)
    worst = table.to_pylist()[int(np.argmax(vectorised))]
    reasons = score.reasons(worst)
    assert reasons and all(r["label_zh"] and r["label_en"] for r in reasons)


def test_the_batch_features_at_a_month_end_are_the_training_rows(
        analytic: AnalyticStore, fitted: dict[str, Any], training: TrainingSet) -> None:
    score = BehaviourScore(load(Path(fitted["model_dir"])))
    day = training.month_ends[-2]
    batch = score.features_as_of(analytic, day)
    rows = training.table.filter(pc.equal(training.table["as_of"], pa.scalar(day, pa.date32())))
    assert batch["loan_id"].to_pylist() == rows["loan_id"].to_pylist()
    for f in score.features:
        assert batch[f].to_pylist() == rows[f].to_pylist() or np.allclose(
            batch[f].to_numpy(zero_copy_only=False), rows[f].to_numpy(zero_copy_only=False),
            equal_nan=True), f


def test_the_batch_hook_scores_every_loan_in_the_population(
        analytic: AnalyticStore, fitted: dict[str, Any], training: TrainingSet) -> None:
    score = BehaviourScore(load(Path(fitted["model_dir"])))
    day = training.data_end - dt.timedelta(days=10)  # mid-month, as a nightly run
    state = loan_state(analytic.connection, day)
    bpd = score(analytic, day, state)
    assert bpd.shape == (state.num_rows,)
    dpd = state["dpd"].to_numpy(zero_copy_only=False)
    balance = state["outstanding_yuan"].to_numpy(zero_copy_only=False)
    on_book = np.isin(state["status"].to_pylist(), ["active", "matured_unpaid"])
    population = on_book & (balance > 0) & (dpd <= 90)
    assert population.sum() > 10
    assert np.all(np.isfinite(bpd[population]) & (bpd[population] > 0) & (bpd[population] < 1))
    assert np.all(np.isnan(bpd[~population]))


def test_registration_makes_the_approved_score_resolvable(fitted: dict[str, Any]) -> None:
    settings = get_settings()
    settings.ensure_home()
    migrate.upgrade(settings.database_url)
    model_dir = Path(fitted["model_dir"])
    with open_registry() as registry:
        draft = registry.register(model_dir, "behaviour_score", "demo.modeller").record
        with pytest.raises(ModelNotFound, match="no approved version"):
            load_behaviour_score(registry=registry)
        with pytest.raises(NotForProduction):  # a draft is not for the batch, even pinned
            load_behaviour_score(draft.ref, registry=registry)
    ref = register_and_approve(model_dir)
    assert ref == draft.ref == "behaviour_score@1"
    resolved = load_behaviour_score()
    assert resolved.ref == ref
    local = BehaviourScore(load(model_dir))
    row = dict.fromkeys(local.features, math.nan) | {"dpd_now": 45.0, "product": "tax_loan"}
    assert resolved.predict_row(row) == local.predict_row(row)


def test_the_train_command_prints_its_figures_and_registers(
        pipeline_bank: dict[str, Any], tmp_path: Path) -> None:
    from xiaowei.cli.postloan_train import train_behaviour

    # The command opens its store read-only; this process holds the session's copy read-write.
    source = Path(pipeline_bank["analytic"])
    store = tmp_path / "bank" / source.name
    store.parent.mkdir()
    for suffix in ("", ".wal"):
        if Path(f"{source}{suffix}").is_file():
            shutil.copy(f"{source}{suffix}", f"{store}{suffix}")
    shutil.copytree(source.parent / "governed", store.parent / "governed")
    app = typer.Typer()
    app.command()(train_behaviour)
    runner = CliRunner()
    args = ["--store", str(store), "--out", str(tmp_path / "m"), "--json",
            "--by", "wang.modeller"]
    refused = runner.invoke(app, [*args, "--months", "4", "--oot-months", "2"])
    assert refused.exit_code == 2 and "too few bads" in refused.output
    done = runner.invoke(app, [*args, "--months", "12", "--min-bad-loans", "1",
                               "--approve-by", "li.validator"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["ref"] == "behaviour_score@1" and doc["status"] == "approved"
    assert {"auc_train", "ks_train", "auc_oot", "ks_oot"} <= set(doc)
    assert load_behaviour_score().ref == "behaviour_score@1"
