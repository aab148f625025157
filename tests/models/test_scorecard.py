"""The scorecard: points arithmetic, saving, the one-row path, reasons, bad input."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.engine.models.frame import ModelInputError
from xiaowei.engine.models.scorecard import Scorecard

LABELS = {"income": ("月收入", "monthly income"), "industry": ("行业", "industry")}


@pytest.fixture(scope="module")
def fitted(book):
    columns, y = book()
    card = Scorecard(special_values={"income": [-999]}, labels=LABELS)
    return card.fit(columns, y, categorical=["industry"]), columns, y


def _auc(y, risk):
    order = np.argsort(risk)
    ranks = np.empty(len(risk))
    ranks[order] = np.arange(1, len(risk) + 1)
    bads = y.sum()
    return (ranks[y == 1].sum() - bads * (bads + 1) / 2) / (bads * (len(y) - bads))


def test_predict_proba_is_a_probability_pair_that_ranks_risk(fitted):
    card, columns, y = fitted
    proba = card.predict_proba(columns)
    assert proba.shape == (len(y), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert _auc(y, proba[:, 1]) > 0.7
    assert card.transform(columns).shape == (len(y), len(card.features_))


def test_default_pdo_scaling_600_at_50_to_1_and_20_points_double_the_odds(fitted):
    card, columns, _ = fitted
    assert card.factor_ == 20 / math.log(2)
    assert card.offset_ == 600 - 20 / math.log(2) * math.log(50)
    assert card.offset_ + card.factor_ * math.log(50) == pytest.approx(600, abs=1e-12)
    assert card.offset_ + card.factor_ * math.log(100) == pytest.approx(620, abs=1e-12)
    bad = card.predict_proba(columns)[:, 1]
    odds = (1 - bad) / bad
    expected = 600 + 20 * np.log2(odds / 50)
    assert np.allclose(card.score(columns), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("pdo", "base", "odds"), [(40, 500, 20), (15, 300, 1)])
def test_configured_pdo_scaling(book, pdo, base, odds):
    columns, y = book(n=1500)
    card = Scorecard(pdo=pdo, base_points=base, base_odds=odds)
    card.fit(columns, y, categorical=["industry"])
    bad = card.predict_proba(columns)[:, 1]
    expected = base + pdo * np.log2((1 - bad) / bad / odds)
    assert np.allclose(card.score(columns), expected, rtol=0, atol=1e-9)


def test_points_table_adds_up_to_the_score_and_falls_with_risk(fitted):
    card, columns, _ = fitted
    table = card.points_table()
    assert {r["feature"] for r in table} == set(card.features_)
    income = [r for r in table if r["feature"] == "income"]
    assert income[0]["label_zh"] == "月收入"
    special = next(r for r in income if r["bin"] == "special -999")
    regular = [r for r in income if r["bin"].startswith("[")]
    assert special["points"] < min(r["points"] for r in regular)  # the riskiest bin
    woe_order = np.argsort([r["woe"] for r in regular])
    assert np.all(np.diff(np.array([r["points"] for r in regular])[woe_order]) > 0)
    codes = card._codes(columns)
    by_feature = {f: [r["points"] for r in table if r["feature"] == f] for f in card.features_}
    total = sum(np.asarray(by_feature[f])[codes[:, j]] for j, f in enumerate(card.features_))
    assert np.allclose(total, card.score(columns))
    assert all(t["rows"] for t in card.bin_tables())


def test_the_sign_rule_keeps_every_feature_reading_better_bin_more_points(book):
    columns, y = book(n=3000)
    flipped = columns | {"echo": -columns["utilisation"] + 0.05 * columns["noise"]}
    card = Scorecard(require_sign=True, max_corr=None, max_vif=None)
    card.fit(flipped, y, categorical=["industry"])
    assert card.sign_reversed_ == []
    for j, name in enumerate(card.features_):
        bins = card.bins_[name]
        seen = [c for c in range(len(bins.woe)) if bins.counts[c]]
        by_woe = sorted(seen, key=lambda c: bins.woe[c])
        assert all(card.points_[j][a] <= card.points_[j][b]
                   for a, b in itertools.pairwise(by_woe))


def test_round_points_gives_whole_points(book):
    columns, y = book(n=1500)
    card = Scorecard(round_points=True).fit(columns, y, categorical=["industry"])
    assert all(float(p).is_integer() for pts in card.points_ for p in pts)
    assert np.all(card.score(columns) == np.round(card.score(columns)))


def test_json_round_trip_gives_identical_scores(fitted):
    card, columns, _ = fitted
    saved = json.dumps(card.to_dict(), allow_nan=False)
    again = Scorecard.from_dict(json.loads(saved))
    assert np.array_equal(again.score(columns), card.score(columns))
    assert np.array_equal(again.predict_proba(columns), card.predict_proba(columns))
    assert again.points_table() == card.points_table()
    assert again.get_params() == card.get_params()


def test_a_saved_model_of_another_format_is_refused(fitted):
    data = fitted[0].to_dict() | {"format": "something/9"}
    with pytest.raises(ValueError, match="something/9"):
        Scorecard.from_dict(data)


def test_score_one_equals_score_on_the_same_rows(fitted, rows):
    card, columns, _ = fitted
    batch = card.score(columns)
    singles = [card.score_one(row) for row in rows(columns, 400)]
    assert np.allclose(singles, batch[:400], rtol=0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    income=st.one_of(st.none(), st.floats(-2000, 1e6), st.just(math.nan), st.just(-999.0),
                     st.sampled_from(["12,500", "junk", "", "n/a"])),
    utilisation=st.one_of(st.none(), st.floats(-1, 3), st.integers(0, 2)),
    industry=st.one_of(st.none(), st.sampled_from(["tech", "rare3", "space mining"])),
)
def test_score_one_agrees_with_the_table_path_for_any_value(fitted, income, utilisation,
                                                            industry):
    card = fitted[0]
    row = {"income": income, "utilisation": utilisation, "industry": industry,
           "noise": 0.0, "income_copy": 1.0}
    table = {name: np.array([value], dtype=object) for name, value in row.items()}
    assert card.score_one(row) == pytest.approx(card.score(table)[0], abs=1e-9)


def test_unseen_category_gets_neutral_or_riskiest_points(book, rows):
    columns, y = book(n=2000)
    cards = {p: Scorecard(unseen=p).fit(columns, y, categorical=["industry"])
             for p in ("neutral", "riskiest")}
    row = rows(columns, 1)[0] | {"industry": "space mining"}
    for policy, card in cards.items():
        j = card.features_.index("industry")
        bins = card.bins_["industry"]
        seen = [w for w, c in zip(bins.woe, bins.counts, strict=True) if c]
        expected_woe = 0.0 if policy == "neutral" else min(seen)
        assert card.transform({k: np.array([v], dtype=object) for k, v in row.items()})[
            0, j] == pytest.approx(expected_woe)
        points = card.points_[j]
        seen_points = [p for p, c in zip(points, bins.counts, strict=True) if c]
        if policy == "riskiest":
            assert points[bins.unseen_code] == pytest.approx(min(seen_points))


def test_reasons_name_the_features_furthest_below_their_best(fitted, rows):
    card, columns, _ = fitted
    for row in rows(columns, 50):
        score, reasons = card.score_one(row, reasons=True, top=2)
        assert score == pytest.approx(card.score_one(row))
        assert len(reasons) <= 2
        shortfalls = [r["shortfall"] for r in reasons]
        assert shortfalls == sorted(shortfalls, reverse=True) and min(shortfalls, default=1) > 0
        for r in reasons:
            assert r["shortfall"] == pytest.approx(r["max_points"] - r["points"])
        everything = card.reasons(row, top=10)
        gaps = {r["feature"]: r["shortfall"] for r in everything}
        assert [r["feature"] for r in reasons] == [r["feature"] for r in everything[:2]]
        assert set(gaps) <= set(card.features_)
        if "income" in gaps:
            income = next(r for r in everything if r["feature"] == "income")
            assert (income["label_zh"], income["label_en"]) == LABELS["income"]
    table_reasons = card.reasons(columns, top=3)
    assert table_reasons[7] == card.reasons(rows(columns, 8)[7], top=3)


def test_an_applicant_in_every_best_bin_has_no_reasons(fitted):
    card = fitted[0]
    best = {}
    for j, name in enumerate(card.features_):
        bins = card.bins_[name]
        top = max(range(bins.regular), key=lambda c: card.points_[j][c])
        best[name] = bins.labels[top]
    reasons = card.reasons({"income": 1e9, "utilisation": -1.0, "industry": "tech",
                            "noise": 0.0, "income_copy": 1.0}, top=5)
    assert all(r["bin"] != best[r["feature"]] for r in reasons)


def test_missing_columns_are_refused_by_name(fitted):
    card, columns, _ = fitted
    partial = {k: v for k, v in columns.items() if k != "income"}
    with pytest.raises(ModelInputError, match="income"):
        card.score(partial)
    with pytest.raises(ModelInputError, match="income"):
        card.score_one({k: v[0] for k, v in partial.items()})


def test_fit_drops_unusable_columns_and_refuses_a_constant_target(book):
    columns, y = book(n=1500)
    noisy = columns | {"empty": np.full(1500, np.nan), "flat": np.zeros(1500)}
    card = Scorecard().fit(noisy, y, categorical=["industry"])
    assert card.dropped_["empty"] == "all values missing"
    assert card.dropped_["flat"].startswith("constant")
    with pytest.raises(ValueError, match="constant"):
        Scorecard().fit(columns, np.zeros(1500))
    with pytest.raises(ValueError, match=r"found other values \[2\]"):
        Scorecard().fit(columns, np.where(y == 1, 2, 0))


def test_no_informative_feature_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no feature is informative"):
        Scorecard(criterion="bic").fit({"noise": rng.normal(size=300)}, rng.integers(0, 2, 300))


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("min_iv", -0.1),
        ("max_corr", 1.5),
        ("max_vif", 0.5),
        ("stepwise", "backward"),
        ("criterion", "r2"),
        ("max_features", 0),
        ("require_sign", "yes"),
        ("C", 0),
        ("pdo", -20),
        ("base_odds", 0),
        ("base_points", float("nan")),
        ("round_points", 1.5),
        ("max_bins", 0),
        ("unseen", "median"),
    ],
)
def test_each_bad_parameter_is_refused_naming_it_and_the_value(book, param, value):
    columns, y = book(n=300)
    with pytest.raises(ValueError, match=rf"{param} must .*got {value!r}"):
        Scorecard(**{param: value}).fit(columns, y, categorical=["industry"])


def test_labels_must_be_chinese_english_pairs(book):
    columns, y = book(n=300)
    with pytest.raises(ValueError, match="labels must map"):
        Scorecard(labels={"income": "收入"}).fit(columns, y, categorical=["industry"])
