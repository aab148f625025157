"""The digital process replayed on a `tiny` bank, and the one oracle that scores both sides."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.modelling.workbench import fit
from xiaowei.origination.capacity import load_capacity
from xiaowei.origination.decide import DefaultDecider, demo_training_table
from xiaowei.origination.digital_process import (
    Window,
    digital_case,
    load_tags,
    replay,
    window_applications,
)
from xiaowei.origination.history import (
    HistoricalApplication,
    PointInTimeTags,
    historical_applications,
)
from xiaowei.origination.kpis import process_kpis
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.origination.outcome_oracle import OutcomeOracle, share_outstanding
from xiaowei.origination.process_comparison import (
    CALIBRATION_TOLERANCE,
    bank_records,
    calibration,
    compare,
    digital_rows,
    traditional_rows,
)
from xiaowei.store.analytic import AnalyticStore

WINDOW = Window(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("digital")
    brought = simulate_and_load(root, "tiny", 15)
    with AnalyticStore(brought.analytic_path) as analytic:
        fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
            root / "model")
        apps = window_applications(historical_applications(analytic), WINDOW)
        with PointInTimeTags(analytic, cache=root / "pit") as tags:
            load_tags(tags, apps)
            decider = DefaultDecider(tags=tags.reader(), resolver=RegistryModelResolver(
                overrides={"app_score": root / "model"}))
            cases = replay(analytic, apps, decider)
            yield {"root": root, "analytic": analytic, "apps": apps, "cases": cases,
                   "decider": decider, "truth": root / "ds" / "truth"}


def test_every_window_application_gets_one_kpi_row(bank: dict[str, Any]) -> None:
    cases, apps = bank["cases"], bank["apps"]
    assert len(apps) > 20
    assert [c.application_id for c in cases] == [a.application_id for a in apps]
    assert all(WINDOW.since <= c.applied_on <= WINDOW.until for c in cases)
    capacity = load_capacity()
    oracle = OutcomeOracle(bank["truth"])
    records = bank_records(bank["analytic"])
    rows = digital_rows(cases, records, oracle, capacity, mean_late=0.5)
    assert len(rows) == len(cases)
    kpis = process_kpis(rows, capacity, 20)
    assert kpis.applications == len(apps)
    assert kpis.approvals == sum(c.outcome == "approve" for c in cases)
    assert 0 <= kpis.auto_decision_share <= 1


def test_the_person_decides_only_what_the_pack_gave_a_person(bank: dict[str, Any]) -> None:
    by_id = {a.application_id: a for a in bank["apps"]}
    seen_person = seen_machine = 0
    for c in bank["cases"]:
        recorded = by_id[c.application_id].recorded_decision
        if (c.pack_mode == "automatic" and c.pack_outcome != "review") or \
                c.pack_outcome == "reject":
            assert not c.decided_by_person and c.outcome == c.pack_outcome
            seen_machine += 1
        else:
            assert c.decided_by_person
            assert c.outcome == (recorded if recorded in ("approve", "reject") else "review")
            assert c.mode in ("human_assisted", "human")
            seen_person += 1
        if c.outcome == "approve":
            assert c.amount >= 10_000 and c.term_months > 0
        else:
            assert c.amount == 0
    assert seen_person and seen_machine


def _app(decision: str) -> HistoricalApplication:
    payload = {"application_id": "AP1", "party_id": "P1", "party_type": "enterprise",
               "product_intent": "working_capital", "channel": "walk_in",
               "amount": "500000.00", "applied_on": "2025-03-04", "term_months": 12}
    return HistoricalApplication(payload, "B1", "M1", decision)


def _decision(outcome: str, mode: str, limit: int = 300_000) -> dict[str, Any]:
    return {"outcome": outcome, "mode": mode, "limit": limit, "term": 12, "price": 0.05,
            "grade": "B1", "dd_level": "light", "manager_tier": "junior", "segment": "enterprise",
            "reasons": [], "trace": [{"outputs": {"review_mode": "human_assisted",
                                                  "plan.onsite_per_year": 0,
                                                  "plan.offsite_per_year": 4,
                                                  "plan.maintenance_per_year": 1}}]}


def test_machine_decisions_stand_whatever_the_expert_did() -> None:
    auto = digital_case(_app("reject"), _decision("approve", "automatic"), None)
    assert (auto.outcome, auto.mode, auto.decided_by_person) == ("approve", "automatic", False)
    assert auto.amount == Decimal(300_000) and auto.offsite_per_year == 4
    knocked_out = digital_case(_app("approve"), _decision("reject", "automatic", 0), None)
    assert knocked_out.outcome == "reject" and knocked_out.amount == 0
    assert knocked_out.dd_level == "light"  # the pack's level when it computed one


def test_review_and_sign_off_cases_take_the_recorded_expert_decision() -> None:
    approved = digital_case(_app("approve"), _decision("review", "human"), Decimal(450_000))
    assert (approved.outcome, approved.mode) == ("approve", "human_assisted")
    assert approved.amount == Decimal(300_000)  # the pack's proposal, not the expert's amount
    no_proposal = digital_case(_app("approve"), _decision("review", "human", 0), Decimal(450_000))
    assert no_proposal.amount == Decimal(450_000)  # no machine limit: the expert's own
    declined = digital_case(_app("reject"), _decision("approve", "human"), None)
    assert declined.outcome == "reject" and declined.decided_by_person
    pending = digital_case(_app("pending"), _decision("review", "human"), None)
    assert pending.outcome == "review" and pending.amount == 0


def test_the_oracle_scores_both_sides_identically(bank: dict[str, Any]) -> None:
    oracle = OutcomeOracle(bank["truth"])
    capacity = load_capacity()
    records = bank_records(bank["analytic"])
    booked = [r for r in records.values() if r.booked and oracle.bad_12m(r.application_id)]
    assert booked, "the tiny bank has no bad loan to compare"
    r = booked[0]
    twin = dataclasses.replace(bank["cases"][0], application_id=r.application_id,
                               applied_on=r.applied_on, outcome="approve", amount=r.principal,
                               term_months=r.term_months, annual_rate=r.annual_rate,
                               product_intent=r.product_intent)
    (trad,) = traditional_rows([r], oracle, capacity, mean_late=0.0)
    (digi,) = digital_rows([twin], records, oracle, capacity, mean_late=0.0)
    assert trad.defaulted_12m is digi.defaulted_12m is True
    assert trad.loss == digi.loss == oracle.loss(
        r.application_id, r.applied_on, r.principal, r.term_months, r.method or "",
        r.annual_rate) > 0
    assert trad.collection_actions == digi.collection_actions


def test_oracle_agrees_with_the_records_on_the_traditional_book(bank: dict[str, Any]) -> None:
    records = bank_records(bank["analytic"])
    check = calibration(records, OutcomeOracle(bank["truth"]), dt.date(2025, 12, 31))
    assert check["loans"] > 20
    assert check["honest_gap"] <= max(CALIBRATION_TOLERANCE, 1 / check["honest_loans"])
    assert check["records_bad_missed_by_oracle"] == 0
    # the oracle is above the records exactly by fraud loans that kept paying
    assert check["oracle_bad_rate_12m"] >= check["records_bad_rate_12m"]
    assert check["agree"] is True


def test_loss_shares_by_repayment_method() -> None:
    assert share_outstanding("interest_only_bullet", 12, 11) == 1.0
    assert share_outstanding("equal_principal", 12, 4) == pytest.approx(0.75)
    annuity = share_outstanding("equal_instalment", 12, 7, 0.06)
    assert 0.5 < annuity < 0.75 - 0.25 / 12 + 0.05  # an annuity repays less principal early
    assert share_outstanding("equal_instalment", 12, 1, 0.06) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="repayment method 'balloon'"):
        share_outstanding("balloon", 12, 1)


def test_decisions_do_not_change_without_the_truth_folder(bank: dict[str, Any]) -> None:
    truth = bank["truth"]
    hidden = truth.with_name("truth-hidden")
    truth.rename(hidden)
    try:
        again = replay(bank["analytic"], bank["apps"], bank["decider"])
        with pytest.raises(FileNotFoundError, match="truth"):
            OutcomeOracle(truth)
    finally:
        hidden.rename(truth)
    assert again == bank["cases"]


def test_compare_gives_both_sides_and_the_targets(bank: dict[str, Any]) -> None:
    capacity = load_capacity()
    result = compare(bank["analytic"], bank["cases"], WINDOW, OutcomeOracle(bank["truth"]),
                     capacity, 20).to_json()
    for side in ("digital", "traditional"):
        assert result[side]["detail"]["applications"] == len(bank["cases"])
    assert result["traditional"]["auto_decision_share"] == 0.0
    assert set(result["targets"]) == {"approvals_per_day", "customers_per_manager",
                                      "bad_rate_12m", "loss_per_yuan_lent"}
    assert all(isinstance(t["met"], bool) for t in result["targets"].values())


def test_window_refuses_an_end_before_its_start() -> None:
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        Window(dt.date(2025, 2, 1), dt.date(2025, 1, 1))
