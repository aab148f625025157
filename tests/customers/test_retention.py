"""Churn at maturity: the population, the point of observation and the target as defined,
nothing the bank learnt after the point in the features, a clear refusal when the outcomes
are too few, and a vectorised scorer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.oot_fit import LookAlikeSet
from xiaowei.customers.retention import (
    ChurnModel,
    churn_base_rate,
    fit_out_of_time,
    loan_features,
    training_set,
)
from xiaowei.modelling.workbench import load
from xiaowei.postloan.behaviour_features import month_end
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def churn_set(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, LookAlikeSet]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("churn-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        return path, training_set(analytic)


def test_population_point_and_target_as_defined(churn_set) -> None:
    path, ts = churn_set
    rows = ts.table.select(["as_of", "loan_id", "party_id", "bad"]).to_pylist()
    assert rows
    with AnalyticStore(path, read_only=True) as analytic:
        con = analytic.connection
        loans = {r[0]: r[1:] for r in con.execute(
            "SELECT loan_id, party_id, start_date, maturity_date FROM gov.loan").fetchall()}
        for r in rows:
            party, start, maturity = loans[r["loan_id"]]
            assert r["as_of"] == month_end(maturity - dt.timedelta(days=90))
            assert start <= r["as_of"] and maturity + dt.timedelta(days=60) <= ts.known_by
            paid = con.execute("SELECT count(*) = count(paid_on), max(paid_on) FROM "
                               "gov.repayment WHERE loan_id = ?", [r["loan_id"]]).fetchone()
            assert paid[0] and paid[1] <= maturity + dt.timedelta(days=30)  # repaid
            renewed = any(p == party and x != r["loan_id"] and r["as_of"] < s <=
                          maturity + dt.timedelta(days=60) for x, (p, s, _m) in loans.items())
            assert r["bad"] == int(not renewed)


def test_features_use_only_what_was_known_at_the_point(churn_set) -> None:
    path, _ = churn_set
    with AnalyticStore(path, read_only=True) as analytic:
        con = analytic.connection
        loan = con.execute("SELECT loan_id FROM gov.loan WHERE loan_id IN "
                           "(SELECT loan_id FROM gov.repayment WHERE paid_on > due_date)"
                           " ORDER BY loan_id LIMIT 1").fetchone()[0]
        late_due, late_paid = con.execute(
            "SELECT due_date, paid_on FROM gov.repayment WHERE loan_id = ? AND paid_on > "
            "due_date ORDER BY due_date LIMIT 1", [loan]).fetchone()
        points = pa.table({"loan_id": [loan, loan, loan],
                           "obs": pa.array([late_due, late_due + dt.timedelta(days=1),
                                            late_paid + dt.timedelta(days=1)], pa.date32())})
        f = loan_features(con, points).to_pylist()
    assert f[0]["late_instalments"] == 0  # due that day: not late yet
    assert f[1]["late_instalments"] >= 1 and f[1]["dpd"] >= 1
    assert f[2]["worst_late_days"] >= (late_paid - late_due).days
    assert f[0]["outstanding_yuan"] >= f[2]["outstanding_yuan"]


def test_too_few_churned_loans_are_refused_naming_the_counts(churn_set, tmp_path: Path
                                                             ) -> None:
    path, ts = churn_set
    with AnalyticStore(path, read_only=True) as analytic, \
            pytest.raises(ValueError, match=r"churn-at-maturity model: training .* has \d+ "
                                            r"loans with the event in \d+ rows"):
        fit_out_of_time(analytic, tmp_path / "m", training=ts, minimum=10**6)


def test_fit_and_score_maturing_loans(churn_set, tmp_path: Path) -> None:
    path, ts = churn_set
    with AnalyticStore(path, read_only=True) as analytic:
        # The tiny bank is seeded: its maturing loans are enough for a scorecard, and a
        # refusal here would be a regression, not thin data.
        summary = fit_out_of_time(analytic, tmp_path / "churn", training=ts, minimum=1,
                                  oot_months=2)
        assert summary["oot"]["rows"] > 0 and 0.0 <= summary["auc_oot"] <= 1.0
        model = ChurnModel(load(tmp_path / "churn"))
        day = ts.known_by
        due = analytic.connection.execute(
            "SELECT loan_id FROM gov.loan WHERE maturity_date > ? AND maturity_date <= ? + 90",
            [day, day]).fetchall()
        from xiaowei.customers.offers import run_tags

        points = pa.table({"loan_id": [r[0] for r in due] + ["LN-NOT-A-LOAN"],
                           "obs": pa.array([day] * (len(due) + 1), pa.date32())})
        risk = model.score(analytic.connection, points, run_tags(analytic, day, model.tags))
    assert risk.shape == (len(due) + 1,) and np.isnan(risk[-1])
    assert np.all((risk[:-1] > 0) & (risk[:-1] < 1))


def test_the_base_rate_reads_only_outcomes_known_on_the_day(churn_set) -> None:
    path, _ = churn_set
    with AnalyticStore(path, read_only=True) as analytic:
        con = analytic.connection
        day = dt.date(2025, 9, 30)
        rate = churn_base_rate(con, day)
        matured = con.execute("SELECT count(*) FROM gov.loan WHERE maturity_date + 60 <= ? "
                              "AND maturity_date > ? - INTERVAL 12 MONTH", [day, day]).fetchone()
        assert (rate is None) == (matured[0] == 0)
        if rate is not None:
            assert 0.0 <= rate <= 1.0
        assert churn_base_rate(con, dt.date(2023, 1, 31)) is None  # nothing matured yet
