"""GBDTModel: monotone risk, exact single-row scoring, saving, reasons and refused input."""

from __future__ import annotations

import itertools
import json
import math
import pickle
import re
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from xiaowei.engine.models.frame import ModelInputError, as_columns
from xiaowei.engine.models.gbdt import GBDTModel, NotFittedError, Reason

N = 3000
LABELS = {"debt_ratio": ("负债率", "debt ratio"), "years_trading": ("经营年限", "years trading")}


def _data(n: int = N, seed: int = 7) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Bad rate rises with debt_ratio, falls with years_trading; region matters a little."""
    rng = np.random.default_rng(seed)
    debt = rng.uniform(0, 1, n)
    years = rng.uniform(0, 20, n)
    noise = rng.normal(size=n)
    region = rng.choice(["east", "west", "north", "south"], n).astype(object)
    logit = -1.5 + 3.0 * debt - 0.15 * years + 0.6 * (region == "west")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    debt[rng.random(n) < 0.05] = np.nan
    region[rng.random(n) < 0.05] = None
    return {"debt_ratio": debt, "years_trading": years, "noise": noise, "region": region}, y


def _rows(X: dict[str, np.ndarray], count: int) -> list[dict[str, object]]:
    def cell(v: object) -> object:
        return None if isinstance(v, float) and math.isnan(v) else v
    return [{k: cell(v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in X.items()}
            for i in range(count)]


@pytest.fixture(scope="module")
def data() -> tuple[dict[str, np.ndarray], np.ndarray]:
    return _data()


@pytest.fixture(scope="module")
def model(data: tuple[dict[str, np.ndarray], np.ndarray]) -> GBDTModel:
    X, y = data
    return GBDTModel(monotone={"debt_ratio": 1, "years_trading": -1}, labels=LABELS).fit(X, y)


def _sweep(model: GBDTModel, base: dict[str, object], column: str, grid: np.ndarray
           ) -> np.ndarray:
    return np.array([model.score_one({**base, column: float(v)}) for v in grid])


def test_monotone_constraints_hold_where_an_unconstrained_model_wiggles(data, model) -> None:
    X, y = data
    free = GBDTModel(num_leaves=63, min_child_samples=5).fit(X, y)
    rises = falls = free_breaks = 0
    for base in _rows(X, 25):
        up = _sweep(model, base, "debt_ratio", np.linspace(0, 1, 60))
        down = _sweep(model, base, "years_trading", np.linspace(0, 20, 60))
        assert np.all(np.diff(up) >= 0), "risk fell while debt_ratio rose"
        assert np.all(np.diff(down) <= 0), "risk rose while years_trading rose"
        rises += up[-1] > up[0]
        falls += down[-1] < down[0]
        free_breaks += np.any(np.diff(_sweep(free, base, "debt_ratio", np.linspace(0, 1, 60))) < 0)
    assert rises == 25 and falls == 25  # the constrained model still learned the direction
    assert free_breaks > 0  # so the check above could have failed


def test_score_one_equals_predict_proba(data, model) -> None:
    X, _ = data
    rows = _rows(X, 200)
    assert any(r["debt_ratio"] is None for r in rows) and any(r["region"] is None for r in rows)
    batch = model.predict_proba({k: v[:200] for k, v in X.items()})
    single = np.array([model.score_one(r) for r in rows])
    assert batch.shape == (200, 2)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)
    assert np.max(np.abs(single - batch[:, 1])) <= 1e-12


def test_scores_the_same_from_many_threads(data, model) -> None:
    rows = _rows(data[0], 100)
    expected = [model.score_one(r) for r in rows]
    results: dict[int, list[float]] = {}

    def work(k: int) -> None:
        results[k] = [model.score_one(r) for _ in range(20) for r in rows][-100:]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


def test_save_and_load_predict_identically(data, model, tmp_path: Path) -> None:
    X, _ = data
    expected = model.predict_proba(X)
    loaded = GBDTModel.load(model.save(tmp_path / "gbdt"))
    assert np.array_equal(loaded.predict_proba(X), expected)
    via_json = GBDTModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(via_json.predict_proba(X), expected)
    pickled = pickle.loads(pickle.dumps(model))
    row = _rows(X, 1)[0]
    assert loaded.score_one(row) == via_json.score_one(row) == pickled.score_one(row)
    assert loaded.get_params() == model.get_params()
    assert loaded.labels == LABELS and loaded.features_ == model.features_
    meta = json.loads((tmp_path / "gbdt" / "meta.json").read_text(encoding="utf-8"))
    assert meta["categories"]["region"] == ["east", "north", "south", "west"]


def test_unseen_category_is_scored_as_missing(data, model) -> None:
    base = _rows(data[0], 1)[0]
    unseen = model.score_one({**base, "region": "moon"})
    assert unseen == model.score_one({**base, "region": None})
    assert unseen != model.score_one({**base, "region": "west"})
    table = pa.table({k: [v] for k, v in {**base, "region": "moon"}.items()})
    assert model.predict_proba(table)[0, 1] == unseen


def test_missing_numbers_follow_the_learned_missing_branch(data, model) -> None:
    base = _rows(data[0], 1)[0]
    as_none = model.score_one({**base, "debt_ratio": None})
    assert as_none == model.score_one({**base, "debt_ratio": float("nan")})
    assert 0.0 < as_none < 1.0
    table = {k: np.array([v if v is not None else np.nan]) if k != "region"
             else np.array([v], dtype=object) for k, v in {**base, "debt_ratio": None}.items()}
    assert model.predict_proba(table)[0, 1] == as_none


def test_category_codes_given_as_numbers_match_their_text() -> None:
    rng = np.random.default_rng(3)
    industry = rng.choice([5211, 6120, 7330], 1500)
    y = (rng.random(1500) < np.where(industry == 5211, 0.5, 0.1)).astype(int)
    X = {"industry": industry, "x": rng.normal(size=1500)}
    model = GBDTModel().fit(X, y, categorical=["industry"])
    assert model.categories_ == {"industry": ("5211", "6120", "7330")}
    assert model.score_one({"industry": 5211, "x": 0.0}) == model.score_one(
        {"industry": "5211", "x": 0.0})
    assert model.score_one({"industry": 5211.0, "x": 0.0}) == model.score_one(
        {"industry": "5211", "x": 0.0})


def test_all_missing_and_constant_columns_are_dropped_with_a_reason(data) -> None:
    X, y = data
    X = {**X, "blank": np.full(N, np.nan), "country": np.array(["CN"] * N, dtype=object),
         "flag": np.ones(N)}
    model = GBDTModel(n_estimators=10).fit(X, y)
    assert model.dropped_["blank"] == "every value is missing"
    assert "every row" in model.dropped_["country"] and "every row" in model.dropped_["flag"]
    assert "blank" not in model.features_
    assert 0 < model.score_one(_rows(data[0], 1)[0]) < 1  # scoring needs no dropped column


def test_early_stopping_chooses_fewer_trees_deterministically(data) -> None:
    X, y = data
    params = {"n_estimators": 400, "learning_rate": 0.3, "early_stopping_rounds": 10}
    first = GBDTModel(**params).fit(X, y)
    second = GBDTModel(**params).fit(X, y)
    assert first.n_estimators_ < 400
    assert first.booster_.model_to_string() == second.booster_.model_to_string()


def test_reasons_name_the_feature_pushed_to_a_risky_value(data, model) -> None:
    risky = {"debt_ratio": 0.99, "years_trading": 10.0, "noise": 0.0, "region": "east"}
    reasons = model.reasons(risky, top=3)
    assert isinstance(reasons[0], Reason)
    assert (reasons[0].feature, reasons[0].label_zh, reasons[0].label_en) == (
        "debt_ratio", "负债率", "debt ratio")
    assert reasons[0].value == 0.99 and reasons[0].contribution > 0
    shap = model.booster_.predict(model.encoding_.matrix(as_columns(
        {k: np.array([v], dtype=object if k == "region" else float) for k, v in risky.items()})),
        pred_contrib=True)[0]
    assert shap[0] == pytest.approx(reasons[0].contribution, abs=1e-12)  # LightGBM's own SHAP
    assert all(a.contribution >= b.contribution > 0 for a, b in itertools.pairwise(reasons))
    young = model.reasons({**risky, "debt_ratio": 0.0, "years_trading": 0.0}, top=1)
    assert [r.feature for r in young] == ["years_trading"] and young[0].value == 0.0
    safe = model.reasons({**risky, "debt_ratio": 0.0, "years_trading": 20.0})
    assert "debt_ratio" not in [r.feature for r in safe]
    noise = model.reasons({**risky, "region": "west"}, top=5)
    assert next(r for r in noise if r.feature == "region").label_zh == "region"  # no label
    one_row = pa.table({k: [v] for k, v in risky.items()})
    assert model.reasons(one_row) == reasons


@pytest.mark.parametrize("top", [0, -1, 1.5, True])
def test_reasons_refuses_a_bad_top(model, top) -> None:
    with pytest.raises(ValueError, match=f"top.*{top!r}"):
        model.reasons({"debt_ratio": 0.5}, top=top)


@pytest.mark.parametrize(("y", "words"), [
    ([0, 1, 2] * 1000, r"only 0 \(good\) and 1 \(bad\); found \[2\]"),
    (["good", "bad"] * 1500, r"found \['bad', 'good'\]"),
    ([0.0, 1.0, np.nan] * 1000, "1000 missing values"),
    ([1] * 3000, r"1 \(bad\) in every one of its 3000 rows"),
    ([0] * 3000, r"0 \(good\) in every one"),
    ([0, 1] * 10, "y has 20 values but X has 3000 rows"),
])
def test_bad_targets_are_refused_by_name(data, y, words) -> None:
    with pytest.raises(ValueError, match=words):
        GBDTModel().fit(data[0], np.array(y, dtype=object if isinstance(y[0], str) else None))


def test_data_without_the_models_columns_is_refused(data, model) -> None:
    X, _ = data
    partial = {k: v for k, v in X.items() if k not in ("years_trading", "noise")}
    with pytest.raises(ModelInputError, match=r"lacks columns.*'years_trading', 'noise'"):
        model.predict_proba(partial)
    row = _rows(X, 1)[0]
    del row["years_trading"]
    with pytest.raises(ModelInputError, match="'years_trading': is missing from the row"):
        model.score_one(row)


def test_garbage_in_a_numeric_column_is_refused_by_name(data, model) -> None:
    X, _ = data
    garbled = {k: v[:3] for k, v in X.items()}
    garbled["debt_ratio"] = np.array(["0.5", "n/a", None], dtype=object)
    with pytest.raises(ModelInputError, match=r"'debt_ratio'.*'n/a'"):
        model.predict_proba(garbled)
    row = _rows(X, 1)[0]
    with pytest.raises(ModelInputError, match=r"'debt_ratio'.*'high'"):
        model.score_one({**row, "debt_ratio": "high"})
    with pytest.raises(ModelInputError, match=r"'years_trading'.*infinite"):
        model.score_one({**row, "years_trading": float("inf")})
    assert model.score_one({**row, "debt_ratio": "0.5"}) == model.score_one(
        {**row, "debt_ratio": 0.5})  # text that reads as a number is that number


@pytest.mark.parametrize(("param", "value"), [
    ("n_estimators", 0), ("n_estimators", 2.5), ("learning_rate", 0.0),
    ("learning_rate", float("nan")), ("num_leaves", 1), ("max_depth", 0),
    ("min_child_samples", 0), ("subsample", 0.0), ("subsample", 1.5),
    ("colsample_bytree", -0.1), ("reg_lambda", -1.0), ("cat_smooth", -1.0),
    ("min_category_count", 0), ("early_stopping_rounds", 0), ("validation_fraction", 1.0),
    ("random_state", "seven"), ("n_jobs", 0), ("monotone_method", "strict"),
    ("monotone", ["debt_ratio"]), ("labels", ["负债率"]),
])
def test_each_bad_parameter_is_refused_by_name(data, param, value) -> None:
    with pytest.raises(ValueError, match=rf"{param}.*{re.escape(repr(value))}"):
        GBDTModel(**{param: value}).fit(*data)


def test_monotone_and_label_entries_are_checked(data) -> None:
    with pytest.raises(ValueError, match=r"labels\['debt_ratio'\].*pair.*'负债率'"):
        GBDTModel(labels={"debt_ratio": "负债率"}).fit(*data)
    with pytest.raises(ValueError, match=r"monotone\['debt_ratio'\].*2"):
        GBDTModel(monotone={"debt_ratio": 2}).fit(*data)
    with pytest.raises(ValueError, match="'income', which is not in the data"):
        GBDTModel(monotone={"income": 1}).fit(*data)
    with pytest.raises(ValueError, match="'region' is categorical"):
        GBDTModel(monotone={"region": 1}).fit(*data)


def test_training_is_deterministic_and_params_stay_untouched(data) -> None:
    monotone = {"debt_ratio": 1}
    first = GBDTModel(monotone=monotone, random_state=3, subsample=0.8).fit(*data)
    second = GBDTModel(monotone=monotone, random_state=3, subsample=0.8).fit(*data)
    assert first.booster_.model_to_string() == second.booster_.model_to_string()
    assert first.monotone is monotone and first.get_params()["subsample"] == 0.8
    assert repr(first) == "GBDTModel(subsample=0.8, monotone={'debt_ratio': 1}, random_state=3)"
    with pytest.raises(ValueError, match="unknown parameter 'depth'"):
        first.set_params(depth=3)


def test_scoring_before_fit_is_refused() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        GBDTModel().score_one({"x": 1.0})
    with pytest.raises(NotFittedError, match="not fitted"):
        GBDTModel().predict_proba({"x": [1.0]})
