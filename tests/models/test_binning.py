"""Binning: monotone bins, their own bins for missing/special/garbage, categories, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.engine.models.binning import Binner, monotone_groups
from xiaowei.engine.models.frame import ModelInputError
from xiaowei.engine.models.woe import FeatureBins, parse_numbers, woe_iv


def _regular_woe(bins: FeatureBins) -> np.ndarray:
    return np.asarray(bins.woe[: bins.regular])


def _strictly_monotone(values: np.ndarray) -> bool:
    steps = np.diff(values)
    return bool(np.all(steps > 0) or np.all(steps < 0))


@pytest.mark.parametrize("trend", ["ascending", "descending"])
def test_forced_trend_gives_that_trend_in_woe(book, trend):
    columns, y = book()
    bins = Binner(monotonic=trend).fit(columns, y).bins_["utilisation"]
    woe = _regular_woe(bins)
    assert len(woe) >= 2 or trend == "descending"  # the truth is ascending risk
    if len(woe) >= 2:
        # ascending event rate = descending WOE (WOE = ln good/bad)
        assert np.all(np.diff(woe) < 0) if trend == "ascending" else np.all(np.diff(woe) > 0)


def test_auto_finds_the_true_directions(book):
    columns, y = book()
    fitted = Binner().fit(columns, y, categorical=["industry"])
    assert fitted.bins_["utilisation"].trend == "ascending"
    assert fitted.bins_["income"].trend == "descending"
    assert np.all(np.diff(_regular_woe(fitted.bins_["utilisation"])) < 0)
    assert np.all(np.diff(_regular_woe(fitted.bins_["income"])) > 0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(200, 3000),
    seed=st.integers(0, 10_000),
    shape=st.sampled_from(["up", "down", "u", "flat"]),
    max_bins=st.integers(2, 10),
    share=st.sampled_from([0.02, 0.05, 0.1]),
    prebinning=st.sampled_from(["quantile", "tree"]),
)
def test_bins_are_monotone_large_enough_and_few_enough(n, seed, shape, max_bins, share,
                                                       prebinning):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(rng.integers(0, 3))
    signal = {"up": x, "down": -x, "u": x * x - 1, "flat": 0 * x}[shape]
    y = (rng.random(n) < 1 / (1 + np.exp(-(signal - 1)))).astype(int)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    fitted = Binner(max_bins=max_bins, min_bin_share=share, prebinning=prebinning)
    fitted.fit({"x": x}, y)
    if "x" not in fitted.bins_:
        assert "constant" in fitted.dropped_["x"]
        return
    bins = fitted.bins_["x"]
    woe = _regular_woe(bins)
    assert 1 <= bins.regular <= max_bins
    if bins.regular >= 2:
        assert _strictly_monotone(woe)
        assert min(bins.counts[: bins.regular]) >= share * n
    assert sum(bins.counts) == n


def _raw_iv(groups: list[tuple[float, float]], goods: float, bads: float) -> float:
    total = 0.0
    for rows, events in groups:
        g, b = (rows - events) / goods, events / bads
        total += (g - b) * math.log(g / b)
    return total


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1, max_size=8))
def test_pava_partition_has_the_highest_iv_of_all_ascending_partitions(cells):
    """PAVA is claimed optimal (isotonic regression maximises every convex bin sum): check it
    against every contiguous partition with strictly ascending event rates."""
    rows = [float(g + b) for g, b in cells]
    events = [float(b) for _, b in cells]
    goods, bads = sum(rows) - sum(events), sum(events)

    def groups(ends: list[int]) -> list[tuple[float, float]]:
        starts = [0, *ends[:-1]]
        return [(sum(rows[a:b]), sum(events[a:b])) for a, b in zip(starts, ends, strict=True)]

    best = -1.0
    k = len(cells)
    for cut in itertools.product([False, True], repeat=k - 1):
        ends = [i + 1 for i, c in enumerate(cut) if c] + [k]
        g = groups(ends)
        rates = [e / r for r, e in g]
        if all(a < b for a, b in itertools.pairwise(rates)):
            best = max(best, _raw_iv(g, goods, bads))
    found = _raw_iv(groups(monotone_groups(rows, events, ascending=True)), goods, bads)
    assert found == pytest.approx(best, rel=1e-9, abs=1e-12)


def test_missing_and_special_values_have_bins_of_their_own(book):
    columns, y = book()
    fitted = Binner(special_values={"income": [-999]}).fit(columns, y, categorical=["industry"])
    bins = fitted.bins_["income"]
    codes = bins.codes(columns["income"])
    missing = np.isnan(columns["income"])
    special = columns["income"] == -999
    assert np.all(codes[missing] == bins.missing_code)
    assert np.all(codes[special] == bins.regular)  # the first (only) special bin
    assert np.all(codes[~missing & ~special] < bins.regular)
    assert bins.counts[bins.missing_code] == missing.sum()
    assert bins.counts[bins.regular] == special.sum()
    assert bins.labels[bins.regular] == "special -999"
    # the special bin is the riskiest: its WOE is below every regular bin's
    assert bins.woe[bins.regular] < min(_regular_woe(bins))


def test_without_special_values_the_code_joins_the_lowest_interval(book):
    columns, y = book()
    bins = Binner().fit(columns, y, categorical=["industry"]).bins_["income"]
    assert bins.specials == ()
    assert np.all(bins.codes(np.array([-999.0])) == 0)


@pytest.mark.parametrize(("policy", "expected"), [("neutral", "zero"), ("riskiest", "min")])
def test_unseen_category_and_unseen_missing_follow_the_policy(book, policy, expected):
    columns, y = book()
    fitted = Binner(unseen=policy).fit(columns, y, categorical=["industry"])
    bins = fitted.bins_["industry"]
    seen = [w for w, c in zip(bins.woe, bins.counts, strict=True) if c > 0]
    want = 0.0 if expected == "zero" else min(seen)
    woe = bins.transform(np.array(["space mining", None], dtype=object))
    assert woe[0] == pytest.approx(want)
    assert bins.counts[bins.missing_code] == 0  # industry has no missing in training
    assert woe[1] == pytest.approx(want)


def test_tree_prebins_cut_where_the_bad_rate_changes():
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 100, 5000)
    y = (rng.random(5000) < np.where(x < 37, 0.4, 0.05)).astype(int)
    bins = Binner(prebinning="tree").fit({"x": x}, y).bins_["x"]
    assert bins.trend == "descending"
    assert min(abs(s - 37) for s in bins.splits) < 1.0


def test_rare_categories_are_pooled_and_keep_their_bin(book):
    columns, y = book()
    bins = Binner().fit(columns, y, categorical=["industry"]).bins_["industry"]
    rare_codes = {bins.categories[f"rare{i}"] for i in range(12)}
    assert len(rare_codes) == 1
    assert "other (12 rare)" in bins.labels[rare_codes.pop()]
    assert all(c in bins.categories for c in ["retail", "tech", "building"])


def test_categorical_codes_arriving_as_numbers_match_their_text():
    rng = np.random.default_rng(3)
    codes = rng.choice([5211, 6011, 7012], 3000)
    y = (rng.random(3000) < np.where(codes == 7012, 0.4, 0.1)).astype(int)
    fitted = Binner().fit({"naics": codes.astype(float)}, y, categorical=["naics"])
    as_text = fitted.transform({"naics": np.array([str(c) for c in codes], dtype=object)})
    as_numbers = fitted.transform({"naics": codes})
    assert np.array_equal(as_text, as_numbers)


def test_text_numbers_are_parsed_and_the_rest_is_garbage():
    rng = np.random.default_rng(5)
    amount = rng.uniform(0, 10_000, 2000).round(0)
    y = (rng.random(2000) < np.where(amount < 3000, 0.3, 0.05)).astype(int)
    text = np.array([f"{a:,.0f}" for a in amount], dtype=object)
    text[:40] = "12abc"  # 2% garbage
    text[40:60] = "n/a"  # a missing marker, not garbage
    fitted = Binner().fit({"amount": text}, y)
    bins = fitted.bins_["amount"]
    assert bins.kind == "numeric"
    assert bins.counts[bins.garbage_code] == 40
    assert bins.counts[bins.missing_code] == 20
    codes = bins.codes(np.array(["1,500", "junk", None, "9000"], dtype=object))
    assert codes[1] == bins.garbage_code and codes[2] == bins.missing_code
    assert codes[0] < bins.regular and codes[3] < bins.regular


def test_text_that_is_mostly_not_numbers_is_categorical():
    rng = np.random.default_rng(6)
    values = np.array(rng.choice(["A", "B", "12", "7"], 1000), dtype=object)
    y = (rng.random(1000) < np.where(values == "A", 0.3, 0.1)).astype(int)
    assert Binner().fit({"grade": values}, y).bins_["grade"].kind == "categorical"


def test_parse_numbers_reads_separators_and_marks_garbage():
    cells = np.array([" 1,234 ", "n/a", "12abc", None, "inf"], dtype=object)
    values, garbage = parse_numbers(cells)
    assert values[0] == 1234.0
    assert math.isnan(values[1]) and math.isnan(values[3])
    assert garbage.tolist() == [False, False, True, False, True]


def test_all_missing_and_constant_columns_are_dropped_with_a_reason(book):
    columns, y = book(n=500)
    columns = {
        **columns,
        "empty": np.full(500, np.nan),
        "empty_text": np.full(500, None, dtype=object),
        "same": np.full(500, 3.0),
    }
    fitted = Binner().fit(columns, y, categorical=["industry"])
    assert fitted.dropped_["empty"] == "all values missing"
    assert fitted.dropped_["empty_text"] == "all values missing"
    assert fitted.dropped_["same"].startswith("constant")
    assert "income" in fitted.bins_


def test_a_table_without_the_models_columns_is_refused_naming_them(book):
    columns, y = book(n=500)
    fitted = Binner().fit(columns, y, categorical=["industry"])
    with pytest.raises(ModelInputError, match=r"\['income', 'income_copy'\]"):
        fitted.transform({"utilisation": columns["utilisation"]}, ["income", "income_copy"])


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([0] * 10, r"constant \(every row is 0 \(good\)\)"),
        ([1] * 10, r"constant \(every row is 1 \(bad\)\)"),
        ([0, 1, 2, 0, 1, 0, 1, 0, 1, 0], r"found other values \[2\]"),
        ([0, 1, -1, 0, 1, 0, 1, 0, 0.5, 0], r"found other values \[-1.0, 0.5\]"),
        ([0, 1, float("nan"), 0, 1, 0, 1, 0, 1, 0], "1 missing values"),
        (["0", "1", "0", "1", "0", "1", "0", "1", "0", "1"], "numbers; found values"),
        ([0, 1, 0], r"one value per row \(10\)"),
    ],
)
def test_bad_targets_are_refused_naming_the_problem(y, message):
    with pytest.raises(ValueError, match=message):
        Binner().fit({"x": np.arange(10.0)}, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("max_bins", 1),
        ("max_bins", 2.5),
        ("max_prebins", True),
        ("prebinning", "cart"),
        ("min_category_share", -0.01),
        ("min_bin_share", 0.7),
        ("min_bin_share", "5%"),
        ("min_bin_events", -1),
        ("monotonic", "peak"),
        ("unseen", "zero"),
        ("numeric_share", 1.5),
        ("smoothing", 0.0),
        ("special_values", "-999"),
    ],
)
def test_each_bad_parameter_is_refused_naming_it_and_the_value(param, value):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=rf"{param} must .*got {value!r}"):
        Binner(**{param: value}).fit({"x": rng.normal(size=50)}, rng.integers(0, 2, 50))


def test_woe_is_finite_for_a_bin_without_bads():
    woe, iv = woe_iv(np.array([100.0, 100.0, 0.0]), np.array([0.0, 50.0, 0.0]))
    assert np.isfinite(woe).all() and np.isfinite(iv).all()
    assert woe[0] > 0 > woe[1]  # all good = safer than average
    assert woe[2] == 0.0 and iv[2] == 0.0


def test_feature_bins_round_trip_through_dict(book):
    columns, y = book(n=800)
    bins = Binner(special_values=[-999]).fit(columns, y, categorical=["industry"]).bins_
    for fitted in bins.values():
        again = FeatureBins.from_dict(fitted.to_dict())
        assert again == fitted
