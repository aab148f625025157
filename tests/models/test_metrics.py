"""Model metrics: each one checked against an independent computation (sklearn, scipy, or a
brute-force formula written out here), plus the input checks that name the bad argument."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from xiaowei.engine.models import metrics


def _labelled(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 120))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    assume(0 < y.sum() < n)
    if draw(st.booleans()):  # few distinct values: many ties
        score = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), float)
    else:
        score = np.array(draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n,
                                       max_size=n)))
    return y, score


labelled = st.composite(_labelled)()


@given(labelled)
def test_auc_equals_sklearn_including_ties(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = data
    assert metrics.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert metrics.gini(y, score) == pytest.approx(2 * roc_auc_score(y, score) - 1, abs=1e-12)


def _ecdf_gap(y: np.ndarray, score: np.ndarray) -> float:
    """KS written the textbook way: the largest gap between the two empirical CDFs."""
    bad, good = np.sort(score[y == 1]), np.sort(score[y == 0])
    return max(abs(np.searchsorted(bad, t, "right") / bad.size
                   - np.searchsorted(good, t, "right") / good.size) for t in np.unique(score))


@given(labelled)
def test_ks_is_the_largest_gap_between_the_two_cdfs(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = data
    result = metrics.discrimination(y, score)
    assert result.ks == pytest.approx(_ecdf_gap(y, score), abs=1e-12)
    # the cutoff reported is where that gap is reached (CDFs taken strictly below it)
    bad, good = score[y == 1], score[y == 0]
    at = result.ks_cutoff
    gap = abs((bad < at).mean() - (good < at).mean())
    assert gap == pytest.approx(result.ks, abs=1e-12)


def test_auc_extremes_and_all_ties() -> None:
    y = np.array([0, 0, 1, 1])
    assert metrics.roc_auc(y, [1, 2, 3, 4]) == 1.0
    assert metrics.roc_auc(y, [4, 3, 2, 1]) == 0.0
    assert metrics.roc_auc(y, [5, 5, 5, 5]) == 0.5
    assert metrics.ks_statistic(y, [1, 2, 3, 4]) == 1.0
    assert metrics.roc_auc(y.astype(bool), [1.0, 2.0, 3.0, 4.0]) == 1.0


def test_auc_and_ks_are_exact_on_a_large_sample() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 150_000)
    score = np.round(rng.normal(size=y.size) + 0.6 * y, 2)  # rounding: heavy ties
    assert metrics.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    ks = stats.ks_2samp(score[y == 1], score[y == 0], method="asymp").statistic
    assert metrics.ks_statistic(y, score) == pytest.approx(ks, abs=1e-12)


@given(labelled)
def test_roc_curve_matches_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = data
    curve = metrics.roc_curve(y, score)
    fpr, tpr, _ = sk_roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(curve.fpr, fpr)
    np.testing.assert_allclose(curve.tpr, tpr)
    assert math.isinf(curve.thresholds[0])


def test_roc_curve_thinned_keeps_both_ends_and_stays_monotone() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 5000)
    curve = metrics.roc_curve(y, rng.normal(size=5000) + y, max_points=50)
    assert len(curve.fpr) <= 52
    assert (curve.fpr[0], curve.tpr[0], curve.fpr[-1], curve.tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(curve.fpr) >= 0) and np.all(np.diff(curve.tpr) >= 0)


def test_gains_table_capture_ends_at_one_and_counts_add_up() -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 1003)
    score = np.round(rng.random(1003) + 0.3 * y, 1)  # ties across decile borders
    rows = metrics.gains_table(y, score)
    assert rows[-1]["capture"] == 1.0 and rows[-1]["cum_share"] == 1.0
    assert sum(r["count"] for r in rows) == 1003
    assert sum(r["events"] for r in rows) == int(y.sum())
    # riskiest first, and a tied score never straddles two groups
    assert all(a["score_min"] > b["score_max"] for a, b in itertools.pairwise(rows))
    mean_lift = sum(r["lift"] * r["count"] for r in rows) / 1003
    assert mean_lift == pytest.approx(1.0)
    assert max(r["ks"] for r in rows) <= metrics.ks_statistic(y, score) + 1e-12


def test_gains_table_with_one_score_is_one_group() -> None:
    rows = metrics.gains_table([0, 1, 0, 1], [0.3] * 4, n_groups=10)
    assert len(rows) == 1 and rows[0]["capture"] == 1.0 and rows[0]["lift"] == 1.0


def test_calibration_table_quantile_buckets() -> None:
    rng = np.random.default_rng(5)
    pd = rng.beta(1, 12, 2500)
    y = (rng.random(2500) < pd).astype(int)
    table = metrics.calibration_table(y, pd, n_groups=8)
    assert sum(r["count"] for r in table["rows"]) == 2500
    assert sum(r["events"] for r in table["rows"]) == int(y.sum())
    assert sum(r["expected_events"] for r in table["rows"]) == pytest.approx(pd.sum())
    assert len(table["rows"]) == 8 and table["hl_dof"] == 6
    assert table["hl_p_value"] > 0.001  # a calibrated model is not rejected


def test_calibration_on_master_scale_edges_and_tests_by_hand() -> None:
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    pd = np.array([0.01, 0.02, 0.05, 0.1, 0.1, 0.5, 0.5, 0.9])
    table = metrics.calibration_table(y, pd, edges=[0, 0.1, 0.5, 1.0], labels=["A", "B", "C"],
                                      ddof=0)
    rows = {r["bucket"]: r for r in table["rows"]}
    # [0, 0.1) holds 0.01, 0.02, 0.05; [0.1, 0.5) holds both 0.1; [0.5, 1] the rest
    assert [rows[g]["count"] for g in "ABC"] == [3, 2, 3]
    assert [rows[g]["events"] for g in "ABC"] == [1, 1, 2]
    o, e, n = np.array([1, 1, 2]), np.array([0.08, 0.2, 1.9]), np.array([3, 2, 3])
    hl = float(np.sum((o - e) ** 2 / (e * (1 - e / n))))
    assert table["hl_statistic"] == pytest.approx(hl)
    assert table["hl_p_value"] == pytest.approx(stats.chi2.sf(hl, 3))
    expected_p = stats.binomtest(1, 3, 0.08 / 3, alternative="greater").pvalue
    assert rows["A"]["binomial_p"] == pytest.approx(expected_p)


def test_calibration_keeps_empty_master_scale_grades() -> None:
    table = metrics.calibration_table([0, 1], [0.01, 0.02], edges=[0, 0.1, 1], labels=["A", "B"])
    assert [r["count"] for r in table["rows"]] == [2, 0]
    assert table["rows"][1]["event_rate"] is None and table["hl_dof"] == -1
    assert table["hl_p_value"] is None


def test_score_histogram_shares_sum_to_one_and_ends_are_clipped() -> None:
    out = metrics.score_histogram([0, 1, 2, 3, 100], edges=[0, 2, 4], y=[0, 0, 1, 1, 1])
    assert out["counts"] == [2, 3] and sum(out["shares"]) == pytest.approx(1.0)
    assert out["event_rates"] == [0.0, 1.0]


def test_psi_is_zero_for_identical_samples() -> None:
    sample = np.random.default_rng(1).normal(size=4000)
    assert metrics.psi(sample, sample) == 0.0
    assert metrics.psi(sample, sample.copy()[::-1]) == 0.0


def test_psi_hand_computed() -> None:
    # expected 50/30/20 %, actual 40/30/30 % in the bins (-inf, 1], (1, 2], (2, inf)
    expected = np.repeat([1.0, 2.0, 3.0], [50, 30, 20])
    actual = np.repeat([0.5, 1.5, 2.5], [40, 30, 30])
    value = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.3 - 0.2) * math.log(0.3 / 0.2)
    table = metrics.psi_table(expected, actual, cuts=[1, 2])
    assert table["value"] == pytest.approx(value)  # ≈ 0.0629
    assert [r["expected_count"] for r in table["rows"]] == [50, 30, 20]
    assert [r["actual_count"] for r in table["rows"]] == [40, 30, 30]
    assert (table["rows"][0]["lower"], table["rows"][-1]["upper"]) == (None, None)


def test_psi_empty_bin_uses_epsilon() -> None:
    expected = np.repeat([1.0, 3.0], [50, 50])
    actual = np.full(100, 1.0)  # nothing above the cut
    by_hand = (1.0 - 0.5) * math.log(1.0 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert metrics.psi(expected, actual, cuts=[2]) == pytest.approx(by_hand)
    assert metrics.psi(expected, actual, cuts=[2], epsilon=1e-3) < by_hand


def test_psi_symmetry_with_fixed_cuts_but_not_with_quantile_bins() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=3000), rng.normal(0.4, 1.3, size=2000)
    cuts = np.linspace(-2, 2, 9)
    assert metrics.psi(a, b, cuts=cuts) == pytest.approx(metrics.psi(b, a, cuts=cuts))
    forward, backward = metrics.psi(a, b), metrics.psi(b, a)
    assert forward != pytest.approx(backward, rel=1e-6)  # bins come from the first sample
    assert 0.5 < forward / backward < 2  # … but it measures the same shift


def test_quantile_bins_split_the_expected_sample_evenly_and_close_on_the_right() -> None:
    expected = np.arange(1, 101, dtype=float)
    table = metrics.psi_table(expected, expected, n_bins=4)
    assert table["cuts"] == [25.0, 50.0, 75.0]
    assert [r["expected_count"] for r in table["rows"]] == [25, 25, 25, 25]
    discrete = np.repeat([1.0, 2.0], [95, 5])  # a cut at the maximum would leave a bin empty
    assert metrics.quantile_cuts(discrete, 10).tolist() == [1.0]


def test_csi_hand_computed_and_a_new_bin() -> None:
    dev = np.repeat([0, 1, 2], [50, 30, 20])
    recent = np.repeat([0, 1, 2], [40, 30, 30])
    assert metrics.csi(dev, recent) == pytest.approx(0.1 * math.log(1.25) + 0.1 * math.log(1.5))
    table = metrics.csi_table(["a", "b"], ["a", "c"])
    assert [r["bin"] for r in table["rows"]] == ["a", "b", "c"]
    assert table["rows"][2]["expected_count"] == 0 and table["value"] > 1


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: metrics.roc_auc([0, 1, 1], [0.1, 0.2]), "score"),
    (lambda: metrics.roc_auc([0, 2, 1], [0.1, 0.2, 0.3]), "y"),
    (lambda: metrics.roc_auc([0.5, 1, 0], [0.1, 0.2, 0.3]), "y"),
    (lambda: metrics.roc_auc(["a", "b"], [0.1, 0.2]), "y"),
    (lambda: metrics.roc_auc([1, 1, 1], [0.1, 0.2, 0.3]), "y"),
    (lambda: metrics.roc_auc([0, 1, 1], [0.1, np.nan, 0.3]), "score"),
    (lambda: metrics.ks_statistic([0, 1], [0.1, np.inf]), "score"),
    (lambda: metrics.roc_auc([], []), "y"),
    (lambda: metrics.gains_table([0, 1], [0.1, 0.2], n_groups=0), "n_groups"),
    (lambda: metrics.calibration_table([0, 1], [0.1, 1.2]), "pd"),
    (lambda: metrics.calibration_table([0, 1], [0.1, 0.2], edges=[0, 0.5, 0.4]), "edges"),
    (lambda: metrics.calibration_table([0, 1], [0.1, 0.2], edges=[0, 1], labels=["A", "B"]),
     "labels"),
    (lambda: metrics.psi([0.1, np.nan], [0.1, 0.2]), "expected"),
    (lambda: metrics.psi([0.1, 0.2], [np.nan]), "actual"),
    (lambda: metrics.psi([0.1, 0.2], [0.1], epsilon=0), "epsilon"),
    (lambda: metrics.psi([0.1, 0.2], [0.1], cuts=[0.2, 0.1]), "cuts"),
    (lambda: metrics.psi([0.1, 0.2], [0.1], n_bins=0), "n_bins"),
    (lambda: metrics.csi([0.0, np.nan], [1.0]), "expected_bins"),
    (lambda: metrics.csi([0], np.array([None], dtype=object)), "actual_bins"),
    (lambda: metrics.roc_curve([0, 1, 0], [1, 2, 3], max_points=1), "max_points"),
    (lambda: metrics.score_histogram([1.0, 2.0], bins=0), "bins"),
])
def test_bad_input_is_refused_naming_the_argument(call, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        call()
