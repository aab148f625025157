"""Feature selection: the logistic fit itself, IV / correlation / VIF filters, stepwise."""

from __future__ import annotations

import numpy as np
import pytest

from xiaowei.engine.models.binning import Binner
from xiaowei.engine.models.scorecard import Scorecard
from xiaowei.engine.models.selection import (
    compress,
    correlation_filter,
    fit_logit,
    information_filter,
    stepwise,
    variance_inflation,
    vif_filter,
)


def _woe(book, **binning):
    columns, y = book()
    binner = Binner(special_values={"income": [-999], "income_copy": [-999]}, **binning)
    binner.fit(columns, y, categorical=["industry"])
    names = list(binner.bins_)
    return binner.transform(columns, names), y.astype(float), names, binner


def test_fit_logit_reaches_the_maximum_likelihood():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -2.0, 0.0])))).astype(float)
    fit = fit_logit(X, y)
    p = 1 / (1 + np.exp(-(fit.intercept + X @ fit.coef)))
    gradient = np.r_[np.sum(y - p), X.T @ (y - p)]
    assert np.max(np.abs(gradient)) < 1e-6
    assert fit.coef[0] == pytest.approx(1.0, abs=0.15)
    assert fit.coef[1] == pytest.approx(-2.0, abs=0.2)


def test_l2_penalty_shrinks_coefficients():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-X @ [2.0, -2.0]))).astype(float)
    free, tight = fit_logit(X, y), fit_logit(X, y, C=0.01)
    assert np.all(np.abs(tight.coef) < np.abs(free.coef))


def test_grouped_rows_give_exactly_the_full_datas_fit(book):
    W, y, _, _ = _woe(book)
    grouped, trials, events = compress(W, y)
    assert len(grouped) < len(W) and trials.sum() == len(W) and events.sum() == y.sum()
    full, short = fit_logit(W, y), fit_logit(grouped, events, trials=trials)
    assert short.loglik == pytest.approx(full.loglik, rel=1e-10)
    assert np.allclose(short.coef, full.coef, atol=1e-8)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_stepwise_picks_the_informative_features_over_noise(book, criterion, direction):
    W, y, names, _ = _woe(book)
    keep = [names.index(n) for n in ("income", "utilisation", "industry", "noise")]
    chosen, dropped = stepwise(W[:, keep], y, [names[k] for k in keep], direction=direction,
                               criterion=criterion)
    picked = {names[keep[j]] for j in chosen}
    assert {"income", "utilisation", "industry"} <= picked
    if criterion == "bic":
        assert "noise" not in picked
        assert "stepwise" in dropped["noise"]


def test_stepwise_none_keeps_all_and_the_sign_rule_refuses_reversed_features(book):
    W, y, names, _ = _woe(book)
    reversed_noise = np.column_stack([W, -W[:, names.index("utilisation")] * 0.3])
    labels = [*names, "flipped"]
    chosen, _ = stepwise(reversed_noise, y, labels, direction="none", require_sign=False)
    assert len(chosen) == len(labels)
    chosen, dropped = stepwise(reversed_noise, y, labels, direction="forward", require_sign=True)
    fit = fit_logit(reversed_noise[:, chosen], y)
    assert np.all(fit.coef < 0)
    refused = [n for n, why in dropped.items() if "sign rule" in why]
    assert all(labels.index(n) not in chosen for n in refused)


def test_information_filter_names_the_threshold():
    kept, dropped = information_filter(["a", "b"], [0.3, 0.01], 0.02)
    assert kept == ["a"]
    assert dropped == {"b": "IV 0.0100 below min_iv 0.02"}


def test_correlation_filter_drops_one_of_a_near_duplicate_pair_naming_the_other(book):
    W, _, names, binner = _woe(book)
    ivs = [binner.bins_[n].iv for n in names]
    kept, dropped = correlation_filter(W, names, ivs, 0.9)
    assert len({"income", "income_copy"} & set(dropped)) == 1
    gone = ({"income", "income_copy"} & set(dropped)).pop()
    stayed = ({"income", "income_copy"} - {gone}).pop()
    assert repr(stayed) in dropped[gone]
    assert ivs[names.index(stayed)] >= ivs[names.index(gone)]
    assert names.index(stayed) in kept and "noise" not in dropped


def test_correlation_filter_keeps_the_higher_iv_feature():
    rng = np.random.default_rng(4)
    a = rng.normal(size=500)
    W = np.column_stack([a, a + rng.normal(0, 0.05, 500), rng.normal(size=500)])
    kept, dropped = correlation_filter(W, ["weak", "strong", "other"], [0.1, 0.3, 0.2], 0.9)
    assert kept == [1, 2]
    assert dropped["weak"].startswith("correlation 0.99") and "'strong'" in dropped["weak"]


def test_vif_filter_drops_a_near_duplicate_and_keeps_independent_columns(book):
    W, _, names, binner = _woe(book)
    assert variance_inflation(W).max() > 10
    kept, dropped = vif_filter(W, names, [binner.bins_[n].iv for n in names], 10.0)
    assert set(dropped) in ({"income"}, {"income_copy"})
    assert "VIF" in next(iter(dropped.values()))
    assert variance_inflation(W[:, kept]).max() < 10


def test_scorecard_records_why_each_feature_left(book):
    columns, y = book()
    card = Scorecard(min_iv=0.02, special_values=[-999], criterion="bic")
    card.fit(columns, y, categorical=["industry"])
    assert {"income", "utilisation", "industry"} <= set(card.features_)
    assert len({"income", "income_copy"} & set(card.features_)) == 1
    duplicate = ({"income", "income_copy"} - set(card.features_)).pop()
    assert "correlation" in card.dropped_[duplicate]
    assert "noise" in card.dropped_
