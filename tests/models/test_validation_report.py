"""The validation report: JSON-safe data whose numbers agree with the metrics, and one HTML
page that is self-contained and escapes everything that came from data."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from xiaowei.engine.models import metrics
from xiaowei.engine.models.validation import Thresholds, build_validation_report, iv_strength
from xiaowei.engine.models.validation_html import render_html

EVIL = "<b>经营年限</b>"
SCALE = [{"grade": g, "pd_low": lo, "pd_high": hi} for g, lo, hi in
         [("A", 0.0, 0.03), ("B", 0.03, 0.08), ("C", 0.08, 0.2), (EVIL, 0.2, 1.0)]]


def _sample(seed: int, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, n)
    band = np.searchsorted([-0.5, 0.5], x)
    pd = 1 / (1 + np.exp(-(-2.3 + 1.1 * x)))
    return {"y": (rng.random(n) < pd).astype(int), "pd": pd,
            "score": np.round(600 - 72 * np.log(pd / (1 - pd))), "band": band}


DEV, RECENT = _sample(1, 6000), _sample(2, 3000, shift=0.4)
BINS = [{"feature": EVIL, "iv": 0.41, "rows": [
    {"bin": "<-0.5", "count": 1850, "share": 0.31, "event_rate": 0.05, "woe": 0.9, "points": 20},
    {"bin": "[-0.5, 0.5)", "count": 2300, "share": 0.38, "event_rate": 0.1, "woe": 0.1},
    {"bin": ">=0.5 <i>", "count": 1850, "share": 0.31, "event_rate": 0.3, "woe": -1.0}]}]


def _report(**overrides: object) -> dict:
    arguments: dict = dict(
        name=f"申请评分卡 {EVIL}", version="2.0<1>", kind="scorecard", y_dev=DEV["y"],
        pd_dev=DEV["pd"], y_recent=RECENT["y"], pd_recent=RECENT["pd"],
        score_dev=DEV["score"], score_recent=RECENT["score"], bin_tables=BINS,
        csi_bins={EVIL: (DEV["band"], RECENT["band"])}, master_scale=SCALE,
        dev_period="2023 <H1>", recent_period="2024-Q1", as_of="2024-06-30")
    arguments.update(overrides)
    return build_validation_report(**arguments)


REPORT = _report()


def test_report_is_plain_json() -> None:
    text = json.dumps(REPORT, allow_nan=False, ensure_ascii=False)
    assert json.loads(text) == REPORT
    assert set(REPORT) >= {"summary", "discrimination", "calibration", "stability", "bins",
                           "score_distribution", "model", "samples", "thresholds"}


def test_numbers_agree_with_the_metrics() -> None:
    dev, recent = REPORT["discrimination"]["dev"], REPORT["discrimination"]["recent"]
    assert dev["auc"] == pytest.approx(metrics.roc_auc(DEV["y"], DEV["pd"]))
    assert recent["ks"] == pytest.approx(metrics.ks_statistic(RECENT["y"], RECENT["pd"]))
    assert dev["gains"][-1]["capture"] == 1.0 and len(dev["gains"]) == 10
    psi = REPORT["stability"]["psi"]
    assert psi["basis"] == "score"
    assert psi["value"] == pytest.approx(metrics.psi(DEV["score"], RECENT["score"]))
    csi = REPORT["stability"]["csi"][0]
    assert csi["value"] == pytest.approx(metrics.csi(DEV["band"], RECENT["band"]))
    assert [r["label"] for r in csi["rows"]] == ["<-0.5", "[-0.5, 0.5)", ">=0.5 <i>"]


def test_calibration_by_master_scale_grade_counts_every_row() -> None:
    for sample, data in (("dev", DEV), ("recent", RECENT)):
        table = REPORT["calibration"][sample]
        assert [r["bucket"] for r in table["rows"]] == ["A", "B", "C", EVIL]
        assert sum(r["count"] for r in table["rows"]) == data["y"].size
        assert sum(r["events"] for r in table["rows"]) == int(data["y"].sum())
    assert REPORT["calibration"]["dev"]["hl_dof"] == 2  # fitted sample: groups − 2
    assert REPORT["calibration"]["recent"]["hl_dof"] == 4  # independent sample
    grade_mix = REPORT["stability"]["grade_psi"]
    assert [r["bin"] for r in grade_mix["rows"]] == ["A", "B", "C", EVIL]


def test_score_distribution_shares_both_samples_on_one_set_of_edges() -> None:
    d = REPORT["score_distribution"]
    assert d["basis"] == "score" and len(d["edges"]) == 21
    for sample, data in (("dev", DEV), ("recent", RECENT)):
        assert sum(d[sample]["counts"]) == data["score"].size
        assert sum(d[sample]["shares"]) == pytest.approx(1.0)


def test_summary_light_is_the_worst_and_follows_the_thresholds() -> None:
    lights = [r["light"] for r in REPORT["summary"]["rows"] if r["light"]]
    order = ["green", "amber", "red"]
    assert REPORT["summary"]["light"] == max(lights, key=order.index)
    strict = _report(thresholds=Thresholds(auc=(0.99, 0.98)))
    auc_rows = [r for r in strict["summary"]["rows"] if r["measure"] == "auc"]
    assert {r["light"] for r in auc_rows} == {"red"}
    assert strict["summary"]["light"] == "red"
    assert strict["thresholds"]["auc"] == [0.99, 0.98]


def test_thresholds_light_boundaries() -> None:
    rules = Thresholds()
    assert [rules.light("psi", v) for v in (0.099, 0.1, 0.25)] == ["green", "amber", "red"]
    assert [rules.light("auc", v) for v in (0.7, 0.65, 0.649)] == ["green", "amber", "red"]
    assert rules.light("psi", None) is None
    assert iv_strength(0.01).startswith("无") and iv_strength(0.6).startswith("过强")


def test_recent_sample_without_outcomes_gives_stability_only() -> None:
    report = _report(y_recent=None)
    assert report["discrimination"]["recent"] is None
    assert report["calibration"]["recent"] is None
    assert report["stability"]["psi"] is not None
    assert report["summary"]["judged_on"] == "dev"
    one_class = _report(y_recent=np.zeros(3000, dtype=int))
    assert one_class["discrimination"]["recent"] is None
    assert one_class["samples"]["recent"]["note"] == "single_class"


def test_minimal_report_without_optional_parts() -> None:
    report = build_validation_report(name="m", version="1", kind="gbdt", y_dev=DEV["y"],
                                     pd_dev=DEV["pd"])
    assert report["stability"] == {"psi": None, "grade_psi": None, "csi": []}
    assert report["calibration"]["buckets"] == "quantile"
    assert report["score_distribution"]["basis"] == "pd"
    html = render_html(report)
    assert "<svg" in html and "无近期样本" in html


def test_html_is_self_contained() -> None:
    html = render_html(REPORT)
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    for forbidden in ("http://", "https://", "<script", "<link", "<img", "@import", "url(http"):
        assert forbidden not in html.lower()
    assert html.count('<svg class="chart"') >= 7
    assert "模型验证报告" in html and "Model validation report" in html


def test_html_escapes_every_data_derived_string() -> None:
    html = render_html(REPORT)
    assert "<b>" not in html and "<i>" not in html and "<H1>" not in html
    assert "&lt;b&gt;经营年限&lt;/b&gt;" in html  # feature and grade name
    assert "2.0&lt;1&gt;" in html and "2023 &lt;H1&gt;" in html
    assert "&gt;=0.5 &lt;i&gt;" in html
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                    "span", "section", "table", "tr", "th", "td", "div", "svg", "circle",
                    "rect", "line", "path", "text", "g", "defs", "pattern"}


def test_render_does_not_change_the_report() -> None:
    before = copy.deepcopy(REPORT)
    render_html(REPORT)
    assert before == REPORT


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"pd_dev": DEV["pd"][:-1]}, "y_dev"),
    ({"score_dev": DEV["score"][:10]}, "score_dev"),
    ({"y_dev": np.full(6000, 2)}, "y_dev"),
    ({"y_dev": np.zeros(6000)}, "y_dev"),
    ({"pd_dev": DEV["pd"] * 2}, "pd_dev"),
    ({"pd_recent": None}, "pd_recent"),
    ({"score_dev": None}, "score_recent"),
    ({"pd_recent": np.r_[RECENT["pd"][:-1], np.nan]}, "pd_recent"),
    ({"master_scale": [SCALE[0], SCALE[2]]}, r"master_scale\[1\]"),
    ({"master_scale": [{"grade": "A", "pd_low": 0.2, "pd_high": 0.1}]}, r"master_scale\[0\]"),
    ({"master_scale": []}, "master_scale"),
    ({"bin_tables": [{"feature": "f", "iv": 0.1, "rows": [{"bin": "a"}]}]},
     r"bin_tables\[0\]"),
    ({"bin_tables": [{"iv": 0.1, "rows": []}]}, r"bin_tables\[0\]"),
    ({"csi_bins": {"f": DEV["band"]}}, r"csi_bins\['f'\]"),
    ({"n_groups": 0}, "n_groups"),
])
def test_bad_input_is_refused_naming_the_argument(overrides: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}"):
        _report(**overrides)


def test_thresholds_refuse_a_green_bound_worse_than_amber() -> None:
    with pytest.raises(ValueError, match=r"thresholds\.psi"):
        Thresholds(psi=(0.3, 0.1))
    with pytest.raises(ValueError, match=r"thresholds\.auc"):
        Thresholds(auc=(0.6, 0.7))
