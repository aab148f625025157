"""The offer propensity: its target is what the bank saw (new business that is not a renewal,
within the horizon, known by the day), fitted out of time, refused with counts when thin,
registered as offer_propensity with maker–checker approval."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers import propensity
from xiaowei.customers.oot_fit import LookAlikeSet, register_and_approve
from xiaowei.customers.propensity import (
    MODEL_NAME,
    fit_out_of_time,
    load_offer_propensity,
    training_set,
)
from xiaowei.postloan.behaviour_features import add_months
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def trained(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, LookAlikeSet]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("propensity-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        return path, training_set(analytic, months=8)


def _new_business(loans: list[tuple[str, str, dt.date, dt.date]]
                  ) -> list[tuple[str, dt.date]]:
    """(party, start) of loans that are not renewals — written again, independently."""
    out = []
    for loan, party, start, _ in loans:
        renewal = any(p == party and o != loan and s < start and
                      m - dt.timedelta(days=30) <= start <= m + dt.timedelta(days=60)
                      for o, p, s, m in loans)
        if not renewal:
            out.append((party, start))
    return out


def test_the_target_is_new_non_renewal_business_within_the_horizon(trained) -> None:
    path, ts = trained
    with AnalyticStore(path, read_only=True) as analytic:
        loans = analytic.connection.execute(
            "SELECT loan_id, party_id, start_date, maturity_date FROM gov.loan").fetchall()
    new = _new_business(loans)
    rows = ts.table.select(["as_of", "party_id", "bad"]).to_pylist()
    assert len(ts.month_ends) == 8 and rows
    for r in rows:
        horizon_end = add_months(r["as_of"], propensity.HORIZON_MONTHS)
        took = any(p == r["party_id"] and r["as_of"] < s <= horizon_end for p, s in new)
        assert r["bad"] == int(took), r
    assert 0 < sum(r["bad"] for r in rows) < len(rows)
    # the outcome window of the last month-end lies inside the data
    assert add_months(ts.month_ends[-1], propensity.HORIZON_MONTHS) <= ts.known_by
    assert set(ts.features) == set(propensity.PROPENSITY_TAGS)


def test_an_earlier_known_by_moves_the_window_back(trained) -> None:
    path, ts = trained
    known = dt.date(2025, 6, 30)
    with AnalyticStore(path, read_only=True) as analytic:
        early = training_set(analytic, months=2, known_by=known)
    assert early.known_by == known
    assert add_months(early.month_ends[-1], propensity.HORIZON_MONTHS) <= known
    assert early.month_ends[-1] < ts.month_ends[-1]


def test_too_few_outcomes_are_refused_naming_the_counts(trained, tmp_path: Path) -> None:
    path, ts = trained
    with AnalyticStore(path, read_only=True) as analytic, \
            pytest.raises(ValueError, match=r"too few outcomes .* training \(month-ends to "
                                            r"\d{4}-\d\d-\d\d\) has \d+ customers with the "
                                            r"event in \d+ rows"):
        fit_out_of_time(analytic, tmp_path / "m", training=ts, minimum=10**6, oot_months=3)


def test_fitted_out_of_time_registered_and_scoring(trained, tmp_path: Path) -> None:
    from xiaowei.config import get_settings
    from xiaowei.store import migrate

    path, ts = trained
    with AnalyticStore(path, read_only=True) as analytic:
        summary = fit_out_of_time(analytic, tmp_path / "offer_propensity", training=ts,
                                  minimum=1, oot_months=3)
    cut = dt.date.fromisoformat(summary["window"]["cut"])
    assert cut == ts.month_ends[-4]
    assert summary["train"]["rows"] + summary["oot"]["rows"] == ts.table.num_rows
    assert 0.0 <= summary["auc_oot"] <= 1.0 and summary["features"]
    manifest = json.loads((tmp_path / "offer_propensity" / "model.json").read_text("utf-8"))
    assert manifest["metrics"]["auc_oot"] == summary["auc_oot"]
    assert manifest["customer_model"]["model"] == MODEL_NAME
    migrate.upgrade(get_settings().database_url)
    ref = register_and_approve(tmp_path / "offer_propensity", MODEL_NAME,
                               note="test propensity")
    assert ref == f"{MODEL_NAME}@1"
    model = load_offer_propensity()
    assert model is not None and model.ref == f"{MODEL_NAME}@approved"
    p = model.predict_frame(ts.table.slice(0, 50))
    assert p.shape == (50,) and np.all((p > 0) & (p < 1))
