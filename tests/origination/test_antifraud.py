"""The anti-fraud detector on a tiny bank: point in time, blind to truth, rules, decisions.

Seed 15: the tiny bank of seed 7 holds no fraud ring; seed 15 holds three. Too few confirmed
cases to train the supervised model here, so these tests run the unsupervised one and check
properties; the recall figure at 2 % FPR is measured on `small` by
benchmarks/bench_antifraud.py (docs/antifraud.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from xiaowei.data.govern.relations import edges_from_dataset, select
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.origination.antifraud import (
    FEATURES,
    ApplicationFeatures,
    FraudDetector,
    application_features,
    auc,
    recall_at_fpr,
)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("antifraud")
    simulate_and_load(root, "tiny", 15, transactional=False)
    return root


@pytest.fixture(scope="module")
def feats(bank: Path) -> ApplicationFeatures:
    with duckdb.connect(str(bank / "analytic.duckdb"), read_only=True) as con:
        return application_features(con, bank / "ds")


@pytest.fixture(scope="module")
def is_fraud(bank: Path, feats: ApplicationFeatures) -> np.ndarray:
    truth = pq.read_table(bank / "ds" / "truth" / "applications.parquet")
    of = dict(zip(truth["application_no"].to_pylist(), truth["is_fraud"].to_pylist(),
                  strict=True))
    return np.array([bool(of[a]) for a in feats.application_id])


def test_every_application_gets_every_feature(bank: Path, feats: ApplicationFeatures,
                                              is_fraud: np.ndarray) -> None:
    with duckdb.connect(str(bank / "analytic.duckdb"), read_only=True) as con:
        n = con.execute("SELECT COUNT(*) FROM gov.application").fetchone()
    assert n is not None and feats.matrix.shape == (n[0], len(FEATURES))
    assert is_fraud.sum() >= 5  # the rings of seed 15 applied
    assert feats.to_arrow().num_rows == n[0]


def test_graph_features_are_point_in_time(bank: Path, feats: ApplicationFeatures) -> None:
    """Dropping every edge learned after a day leaves the features of earlier applications."""
    edges = edges_from_dataset(bank / "ds")
    day = np.datetime64("2024-12-31")
    early = select(edges, as_of=dt.date(2024, 12, 31))
    assert early.num_rows < edges.num_rows
    with duckdb.connect(str(bank / "analytic.duckdb"), read_only=True) as con:
        cut = application_features(con, edges=early)
    before = feats.applied_on <= day
    assert before.any() and (~before).any()
    np.testing.assert_array_equal(cut.application_id, feats.application_id)
    np.testing.assert_allclose(cut.matrix[before], feats.matrix[before], equal_nan=True)


def test_features_never_need_truth(bank: Path, feats: ApplicationFeatures,
                                   tmp_path: Path) -> None:
    blind = tmp_path / "blind"
    shutil.copytree(bank / "ds", blind, ignore=shutil.ignore_patterns("truth"))
    with duckdb.connect(str(bank / "analytic.duckdb"), read_only=True) as con:
        again = application_features(con, blind)
    np.testing.assert_allclose(again.matrix, feats.matrix, equal_nan=True)


def test_rings_look_different_on_the_graph(feats: ApplicationFeatures,
                                           is_fraud: np.ndarray) -> None:
    comp = feats.column("comp_parties")
    burst = feats.column("comp_apps_window")
    assert np.median(comp[is_fraud]) >= 2 > np.median(comp[~is_fraud])
    assert burst[is_fraud].mean() > 5 * max(burst[~is_fraud].mean(), 0.01)


def test_sharing_alone_is_no_fraud_flag(feats: ApplicationFeatures,
                                        is_fraud: np.ndarray) -> None:
    """Honest applicants share identifiers too (the simulator's honest sharing)."""
    naive = feats.column("shared_identifiers") >= 1
    assert naive[is_fraud].mean() >= 0.5
    assert naive[~is_fraud].mean() > 0.02  # the naive rule flags more honest than allowed


def test_anomaly_detector_ranks_rings_high_and_decides(feats: ApplicationFeatures,
                                                       is_fraud: np.ndarray) -> None:
    det = FraudDetector(method="anomaly", seed=3).fit(feats)
    assert det.fitted_method == "anomaly"
    s = det.score(feats)
    assert auc(s, is_fraud) >= 0.85
    assert recall_at_fpr(s, is_fraud, 0.05)["recall"] >= 0.4
    out = det.assess(feats)
    assert {a.decision for a in out} <= {"pass", "review", "reject"}
    flagged = np.array([a.decision != "pass" for a in out])
    assert flagged[is_fraud].mean() > flagged[~is_fraud].mean()
    fired = [r for a in out for r in a.rules]
    assert fired and all(r.zh and r.en and r.severity in ("info", "review", "reject")
                         for r in fired)
    # A reject rule forces at least its decision, whatever the score.
    for a in out:
        if any(r.severity == "reject" for r in a.rules):
            assert a.decision == "reject"


def test_supervised_falls_back_without_enough_cases(feats: ApplicationFeatures,
                                                    is_fraud: np.ndarray) -> None:
    few = is_fraud & (np.cumsum(is_fraud) <= 3)
    assert FraudDetector(seed=1).fit(feats, few).fitted_method == "anomaly"


def test_supervised_learns_the_case_file(feats: ApplicationFeatures,
                                         is_fraud: np.ndarray) -> None:
    det = FraudDetector(seed=1, min_cases=5).fit(feats, is_fraud)
    assert det.fitted_method == "supervised"
    assert auc(det.score(feats), is_fraud) >= 0.95  # in sample: it learned the cases
    assert abs(sum(det.importances().values()) - 1.0) < 1e-6
    with pytest.raises(ValueError, match="labels"):
        FraudDetector().fit(feats, is_fraud[:-1])


def test_recall_at_fpr_counts_like_a_reviewer() -> None:
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([True, False, True, False, False, False, False, False, False, False])
    r = recall_at_fpr(s, y, 0.125)  # 8 honest: one may be flagged
    assert r["fpr"] <= 0.125 and r["recall"] == 1.0 and r["flagged"] == 3
    r = recall_at_fpr(s, y, 0.0)
    assert r["fpr"] == 0.0 and r["recall"] == 0.5
    assert auc(s, y) == pytest.approx(1 - 1 / 16)
