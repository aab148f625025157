"""The master scale's grades and the calibration of scores to PD."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.engine.models.master_scale import Calibrator, MasterScale


def test_default_scale_has_ten_doubling_grades():
    scale = MasterScale()
    table = scale.table()
    assert [r["grade"] for r in table] == ["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2",
                                           "E1", "E2"]
    assert table[0]["pd_low"] == 0.0 and table[-1]["pd_high"] == 1.0
    assert [r["pd_high"] for r in table[:-1]] == pytest.approx(
        [0.0025 * 2**i for i in range(9)])
    assert all(a["pd_high"] == b["pd_low"] for a, b in itertools.pairwise(table))


@pytest.mark.parametrize(
    ("pd", "grade"),
    [(0.0, "A1"), (0.0024, "A1"), (0.0025, "A2"), (0.03, "C1"), (0.04, "C2"), (0.5, "E1"),
     (0.64, "E2"), (1.0, "E2")],
)
def test_grade_bands_are_closed_below_and_open_above(pd, grade):
    assert MasterScale().grade(pd) == grade


@given(st.lists(st.floats(0, 1), min_size=2, max_size=50))
def test_a_higher_pd_never_gets_a_better_grade(pds):
    scale = MasterScale()
    index = scale.index(sorted(pds))
    assert np.all(np.diff(index) >= 0)


def test_bad_scales_and_bad_pds_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        MasterScale([0.02, 0.01])
    with pytest.raises(ValueError, match="between 0 and 1"):
        MasterScale([0.01, 1.5], ["a", "b", "c"])
    with pytest.raises(ValueError, match="3 distinct grade names"):
        MasterScale([0.01, 0.1], ["a", "b"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        MasterScale().grade(1.2)


def test_geometric_scale_and_round_trip():
    scale = MasterScale.geometric(0.01, 3.0, grades=4)
    assert scale.bounds == pytest.approx((0.01, 0.03, 0.09))
    assert scale.names == ("1", "2", "3", "4")
    again = MasterScale.from_dict(json.loads(json.dumps(scale.to_dict())))
    assert again.bounds == scale.bounds and again.names == scale.names


def test_summary_counts_rows_and_observed_bad_rates():
    pd = np.array([0.001, 0.002, 0.05, 0.06, 0.07, 0.9])
    y = np.array([0, 0, 1, 0, 0, 1])
    rows = {r["grade"]: r for r in MasterScale().summary(pd, y)}
    assert rows["A1"]["count"] == 2 and rows["A1"]["bad_rate"] == 0.0
    assert rows["C2"]["count"] == 3 and rows["C2"]["bad_rate"] == pytest.approx(1 / 3)
    assert rows["C2"]["mean_pd"] == pytest.approx(0.06)
    assert rows["B1"]["count"] == 0 and rows["B1"]["bad_rate"] is None


def _sample(n=20_000, seed=11):
    rng = np.random.default_rng(seed)
    score = rng.normal(600, 50, n)
    true_pd = 1 / (1 + np.exp(-(-3.0 - (score - 600) / 30)))
    return score, (rng.random(n) < true_pd).astype(int)


def test_logistic_calibration_recovers_the_relation_and_the_bad_rate():
    score, y = _sample()
    cal = Calibrator().fit(score, y)
    assert cal.slope_ == pytest.approx(-1 / 30, rel=0.1)
    # maximum likelihood with an intercept: mean predicted PD equals the observed bad rate
    assert cal.predict(score).mean() == pytest.approx(y.mean(), rel=1e-6)
    assert np.all(np.diff(cal.predict(np.sort(score))) <= 0)  # higher score, lower PD


def test_target_rate_moves_the_mean_pd_to_the_central_tendency():
    score, y = _sample()
    cal = Calibrator(target_rate=0.02).fit(score, y)
    assert cal.predict(score).mean() == pytest.approx(0.02, abs=1e-9)
    plain = Calibrator().fit(score, y)
    assert np.all(np.diff(cal.predict(np.sort(score))) <= 0)
    assert np.argsort(cal.predict(score)).tolist() == np.argsort(plain.predict(score)).tolist()


def test_isotonic_calibration_is_monotone_and_matches_the_bad_rate_in_blocks():
    score, y = _sample(5000)
    cal = Calibrator(method="isotonic").fit(score, y)
    pd = cal.predict(np.linspace(400, 800, 200))
    assert np.all(np.diff(pd) <= 0) and np.all((pd > 0) & (pd < 1))
    assert cal.predict(score).mean() == pytest.approx(y.mean(), abs=0.01)


@pytest.mark.parametrize("method", ["logistic", "isotonic"])
def test_calibrator_round_trip(method):
    score, y = _sample(3000)
    cal = Calibrator(method=method, target_rate=0.05).fit(score, y)
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert np.array_equal(again.predict(score), cal.predict(score))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"method": "platt"}, "method must be one of"), ({"target_rate": 1.5}, "target_rate must")],
)
def test_calibrator_parameters_are_checked(kwargs, message):
    score, y = _sample(500)
    with pytest.raises(ValueError, match=message):
        Calibrator(**kwargs).fit(score, y)


def test_calibrator_refuses_a_constant_target_and_missing_scores():
    score, y = _sample(500)
    with pytest.raises(ValueError, match="constant"):
        Calibrator().fit(score, np.zeros(500))
    with pytest.raises(ValueError, match="finite"):
        Calibrator().fit(np.r_[score[:-1], np.nan], y)
