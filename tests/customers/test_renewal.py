"""The renewal pipeline: 无还本续贷 rules and retention actions at their boundaries (the
renewal pack alone), and the pipeline over the tiny bank's maturing loans — admission-only
and with the application scorecard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.renewal import Prescreen, RenewalRun, renewal_pack, renewal_pipeline
from xiaowei.data.tags.service import data_as_of
from xiaowei.engine.strategy import Decider
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore

GOOD_LOAN: dict[str, Any] = {
    "loan.loan_id": "LN-T", "loan.party_id": "P-T", "loan.product": "working_capital",
    "loan.principal": 1_000_000.0, "loan.outstanding": 400_000.0, "loan.term_months": 12,
    "loan.days_to_maturity": 60, "loan.dpd": 0, "loan.class_rank": 0,
    "loan.restructured": None, "pre.outcome": "pass", "pre.limit": None, "risk.warn_worst": 0,
    "score.churn": 0.2, "score.churn_prior": None, "tag.days_past_due": 0.0,
    "tag.max_days_late_12m": 0.0, "tag.tax_sales_trend_6m": 1.0, "tag.tax_credit_grade": "B",
    "tag.bureau_overdue_now": 0.0, "tag.outstanding_principal": 400_000.0,
    "tag.deposit_balance_avg_6m": 50_000.0,
}


@pytest.fixture(scope="module")
def decider() -> Decider:
    return Decider(renewal_pack())


def route(decider: Decider, **changes: Any) -> tuple[str, str, list[str], float]:
    inputs = {**GOOD_LOAN, **{k.replace("__", "."): v for k, v in changes.items()}}
    d = decider.decide("LN-T", inputs, trace=False)
    return d.outcome, d.variables["action"], [r.code for r in d.reasons], \
        d.variables["offer.amount"]


def test_a_good_loan_renews_without_repaying_first(decider: Decider) -> None:
    outcome, action, codes, amount = route(decider)
    assert outcome == "no_repay" and action == "reminder_call" and codes == ["RA04"]
    assert amount == 1_000_000


@pytest.mark.parametrize(("change", "ok", "bad", "code"), [
    ("loan__term_months", 36, 37, "NR07"), ("tag__max_days_late_12m", 0.0, 1.0, "NR02"),
    ("loan__dpd", 0, 1, "NR01"), ("loan__class_rank", 0, 1, "NR03"),
    ("risk__warn_worst", 1, 2, "NR04"), ("tag__tax_sales_trend_6m", 0.7, 0.69, "NR05"),
    ("tag__bureau_overdue_now", 0.0, 1.0, "NR08"), ("tag__tax_credit_grade", "M", "C", "NR09"),
    ("loan__restructured", False, True, "NR06"),
])
def test_no_repay_renewal_conditions_at_their_boundaries(decider: Decider, change: str, ok: Any,
                                                         bad: Any, code: str) -> None:
    assert route(decider, **{change: ok})[0] == "no_repay"
    outcome, _, codes, _ = route(decider, **{change: bad})
    assert outcome == "standard" and code in codes


def test_pre_screen_outcomes_set_the_route(decider: Decider) -> None:
    outcome, action, codes, _ = route(decider, pre__outcome="fail")
    assert (outcome, action) == ("decline", "none") and "RN01" in codes
    outcome, action, codes, _ = route(decider, pre__outcome="refer")
    assert outcome == "standard" and "RN02" in codes and action == "reminder_call"
    assert route(decider, pre__outcome="refer", score__churn=0.5)[1] == "manager_visit"


@pytest.mark.parametrize(("changes", "action"), [
    ({"score__churn": 0.4}, "preapproved_renewal"),
    ({"score__churn": 0.39}, "reminder_call"),
    ({"score__churn": None, "score__churn_prior": 0.45}, "preapproved_renewal"),
    ({"score__churn": None, "score__churn_prior": None}, "reminder_call"),
    ({"score__churn": 0.3, "score__churn_prior": 0.3}, "preapproved_renewal"),  # the book's
    ({"score__churn": 0.29, "score__churn_prior": 0.3}, "reminder_call"),  # rate is the line
    ({"tag__outstanding_principal": 1_950_000.0}, "manager_visit"),  # + 50k deposits = 2M
    ({"tag__outstanding_principal": 1_949_999.0}, "reminder_call"),
    ({"tag__outstanding_principal": 3_000_000.0, "pre__outcome": "fail"}, "none"),
])
def test_retention_action_from_churn_risk_and_value(decider: Decider, changes: dict[str, Any],
                                                    action: str) -> None:
    assert route(decider, **changes)[1] == action


def test_the_offer_stays_within_the_pre_screen_limit(decider: Decider) -> None:
    assert route(decider, pre__limit=655_555.0)[3] == 650_000
    assert route(decider, pre__limit=2_000_000.0)[3] == 1_000_000


@pytest.fixture(scope="module")
def pipeline(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dt.date, RenewalRun]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("renewal-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        day = data_as_of(analytic) - dt.timedelta(days=61)
        return path, day, renewal_pipeline(analytic, day)


def test_the_pipeline_takes_exactly_the_loans_maturing_within_90_days(pipeline) -> None:
    path, day, run = pipeline
    with AnalyticStore(path, read_only=True) as analytic:
        expected = {r[0] for r in analytic.connection.execute("""
            SELECT loan_id FROM gov.loan l WHERE start_date <= $d AND maturity_date > $d
              AND maturity_date <= $d + 90 AND EXISTS (SELECT 1 FROM gov.repayment r
              WHERE r.loan_id = l.loan_id AND (r.paid_on IS NULL OR r.paid_on > $d)
              AND r.principal_due_yuan > 0)""", {"d": day}).fetchall()}
    got = run.table.to_pylist()
    assert {r["loan_id"] for r in got} == expected and got
    assert run.prescreen_mode == "admission_only" and run.churn.startswith(("book", "none"))
    for r in got:
        assert r["prescreen"] in ("pass", "refer", "fail") and r["grade"] is None
        assert (r["route"] == "decline") == (r["prescreen"] == "fail")
        assert (r["action"] == "none") == (r["route"] == "decline")
        assert r["route_reasons"] and (r["route"] != "no_repay" or r["route_reasons"] ==
                                        ["RW01"])
        assert 0 < r["days_to_maturity"] <= 90 and r["churn_source"] == "prior"
    summary = run.summary()
    assert summary["maturing_loans"] == len(got)
    assert sum(summary["prescreen"].values()) == len(got)
    one = run.loan(got[0]["loan_id"])
    assert all(x["zh"] and x["en"] for x in one["route_reasons"])


def test_with_the_application_scorecard_the_pre_screen_grades(pipeline,
                                                              pipeline_bank: dict[str, Any]
                                                              ) -> None:
    path, day, admission = pipeline
    resolver = RegistryModelResolver(overrides={"app_score": pipeline_bank["model"]})
    with AnalyticStore(path, read_only=True) as analytic:
        full = renewal_pipeline(analytic, day, prescreen=Prescreen(resolver))
    assert full.prescreen_mode == "full"
    rows = full.table.to_pylist()
    assert [r["loan_id"] for r in rows] == admission.table["loan_id"].to_pylist()
    graded = [r for r in rows if r["prescreen"] != "fail"]
    assert graded and all(r["grade"] for r in graded)
    assert all(r["offer_yuan"] <= r["principal_yuan"] for r in rows)
    # what the admission rules alone reject, the whole pack rejects too
    failed = {r["loan_id"] for r in admission.table.to_pylist() if r["prescreen"] == "fail"}
    assert failed <= {r["loan_id"] for r in rows if r["prescreen"] == "fail"}
