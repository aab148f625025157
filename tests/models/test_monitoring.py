"""Monthly monitoring: PSI against one fixed ruler, power where outcomes exist, flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xiaowei.engine.models import metrics
from xiaowei.engine.models.monitoring import Period, flagged, monitor_periods
from xiaowei.engine.models.validation import Thresholds

RNG = np.random.default_rng(42)
REFERENCE = RNG.normal(size=20_000)
REFERENCE_Y = (RNG.random(20_000) < 1 / (1 + np.exp(-(REFERENCE * 1.5 - 2)))).astype(int)


def _month(shift: float, n: int = 4000, power: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    scores = RNG.normal(shift, 1, n)
    return scores, (RNG.random(n) < 1 / (1 + np.exp(-(scores * power - 2)))).astype(int)


def test_each_month_is_measured_against_the_reference_bins() -> None:
    jan, jan_y = _month(0.0)
    feb, _ = _month(0.05)
    mar, mar_y = _month(0.9)
    rows = monitor_periods(REFERENCE, [("2024-01", jan, jan_y), Period("2024-02", feb),
                                       ("2024-03", mar, mar_y)])
    assert [r["period"] for r in rows] == ["2024-01", "2024-02", "2024-03"]
    cuts = metrics.quantile_cuts(REFERENCE, 10)
    for row, scores in zip(rows, (jan, feb, mar), strict=True):
        assert row["psi"] == pytest.approx(metrics.psi(REFERENCE, scores, cuts=cuts))
    assert rows[0]["auc"] == pytest.approx(metrics.roc_auc(jan_y, jan))
    assert rows[1]["auc"] is None and rows[1]["events"] is None  # outcomes not yet known
    assert rows[0]["psi_light"] == "green" and rows[0]["flags"] == []
    assert rows[2]["psi"] > 0.25 and "psi_red" in rows[2]["flags"]
    assert rows[2]["light"] == "red"
    assert [r["period"] for r in flagged(rows)] == ["2024-03"]
    json.dumps(rows, allow_nan=False)


def test_auc_drop_from_the_reference_is_flagged() -> None:
    weak, weak_y = _month(0.0, power=0.3)
    rows = monitor_periods(REFERENCE, [("2024-04", weak, weak_y)], reference_y=REFERENCE_Y)
    row = rows[0]
    assert row["auc_drop"] == pytest.approx(metrics.roc_auc(REFERENCE_Y, REFERENCE) - row["auc"])
    assert row["auc_drop_light"] == "red" and "auc_drop_red" in row["flags"]


def test_thresholds_and_cuts_are_the_callers() -> None:
    month, _ = _month(0.2)
    loose = monitor_periods(REFERENCE, [("m", month)], thresholds=Thresholds(psi=(0.5, 0.9)))
    assert loose[0]["psi_light"] == "green"
    fixed = monitor_periods(REFERENCE, [("m", month)], cuts=[-1.0, 0.0, 1.0])
    assert fixed[0]["psi"] == pytest.approx(metrics.psi(REFERENCE, month, cuts=[-1, 0, 1]))


def test_empty_month_and_one_class_month_are_reported_not_refused() -> None:
    month, _ = _month(0.0)
    rows = monitor_periods(REFERENCE, [("empty", []), ("all-good", month, np.zeros(4000))])
    assert rows[0]["n"] == 0 and rows[0]["psi"] is None and rows[0]["flags"] == ["empty"]
    assert rows[1]["auc"] is None and "single_class" in rows[1]["flags"]
    assert rows[1]["event_rate"] == 0.0
    assert [r["period"] for r in flagged(rows)] == ["empty"]


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: monitor_periods([np.nan, 1.0], [("m", [1.0])]), "reference"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0]), ("b", [np.nan])]),
     r"periods\[1\]\.scores"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0, 2.0], [0, 1, 1])]), r"periods\[0\]\.y"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0, 2.0], [0, 3])]), r"periods\[0\]\.y"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0]), ("a", [2.0])]), r"periods\[1\]"),
    (lambda: monitor_periods(REFERENCE, ["a"]), r"periods\[0\]"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0])], reference_y=[0, 1]), "reference_y"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0])], n_bins=0), "n_bins"),
    (lambda: monitor_periods(REFERENCE, [("a", [1.0])], cuts=[1.0, 0.0]), "cuts"),
    (lambda: monitor_periods(REFERENCE, [], cuts=[0.0, np.nan]), "cuts"),
])
def test_bad_input_is_refused_naming_the_argument(call, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}"):
        call()
