"""Node performance: hit rates and realised bad rates per node and rule, pure and from the store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from xiaowei.engine.strategy.performance import CaseOutcome, node_performance
from xiaowei.origination.node_performance import loan_bad, store_node_performance
from xiaowei.store.database import transaction
from xiaowei.store.tables import (
    Application,
    Decision,
    DecisionLog,
    Loan,
    Party,
    Repayment,
)

CASES = [
    CaseOutcome("c1", {"fraud": ["F1"], "score": []}, "reject"),
    CaseOutcome("c2", {"fraud": ["F1", "F2"], "score": ["S1"]}, "approve", overridden=True,
                bad=True),
    CaseOutcome("c3", {"fraud": [], "score": ["S1"]}, "approve", bad=False),
    CaseOutcome("c4", {"fraud": [], "score": []}, "approve", bad=True),
    CaseOutcome("c5", {"fraud": []}, "approve", bad=None),  # outcome not known yet
    CaseOutcome("c6", {"fraud": [], "score": []}, "review", bad=False),  # not accepted
]


def _by_key(stats: list) -> dict:
    return {(s.node, s.rule): s for s in stats}


def test_hits_and_rates_per_node_and_rule() -> None:
    stats = node_performance(CASES)
    assert [(s.node, s.rule) for s in stats] == [
        ("fraud", None), ("fraud", "F1"), ("fraud", "F2"), ("score", None), ("score", "S1")]
    got = _by_key(stats)
    fraud = got[("fraud", None)]
    assert (fraud.ran, fraud.hits, fraud.overridden_hits) == (6, 2, 1)
    assert fraud.hit_rate == pytest.approx(2 / 6)
    # accepted with a known result: hit c2 (bad); non-hits c3 (good), c4 (bad)
    assert (fraud.accepted_known_hits, fraud.bad_hits) == (1, 1)
    assert (fraud.accepted_known_non_hits, fraud.bad_non_hits) == (2, 1)
    assert fraud.bad_rate_hits == 1.0 and fraud.bad_rate_non_hits == 0.5
    f2 = got[("fraud", "F2")]
    assert (f2.ran, f2.hits) == (6, 1)
    score = got[("score", None)]
    assert score.ran == 5  # c5 never reached the score node
    s1 = got[("score", "S1")]
    assert (s1.accepted_known_hits, s1.bad_hits, s1.accepted_known_non_hits) == (2, 1, 1)
    assert s1.to_json()["bad_rate_hits"] == 0.5


def test_rates_are_none_without_cases_to_divide() -> None:
    stats = node_performance([CaseOutcome("x", {"n": []}, "reject")])
    assert len(stats) == 1
    assert stats[0].hit_rate == 0.0
    assert stats[0].bad_rate_hits is None and stats[0].bad_rate_non_hits is None
    assert node_performance([]) == []


def test_accepted_outcome_is_a_parameter() -> None:
    stats = node_performance([CaseOutcome("x", {"n": ["R"]}, "yes", bad=True)],
                             accepted_outcome="yes")
    assert stats[0].bad_rate_hits == 1.0


def test_bad_follows_the_kpi_definition() -> None:
    start = dt.date(2024, 1, 10)
    assert loan_bad(start, None, dt.date(2025, 1, 1)) is None  # 12 months + 90 days not over
    assert loan_bad(start, None, dt.date(2025, 6, 1)) is False
    assert loan_bad(start, dt.date(2024, 6, 10), dt.date(2025, 6, 1)) is True
    assert loan_bad(start, dt.date(2025, 3, 10), dt.date(2025, 6, 1)) is False  # 83 days, late


def _log(key: str, outcome: str, trace: list, when: dt.datetime) -> DecisionLog:
    return DecisionLog(decision_id=f"L{key}", application_id=key, seq=1, decided_at=when,
                       pack="default", pack_version="a" * 64, models={}, inputs={},
                       outputs={"outcome": outcome}, trace=trace, outcome=outcome,
                       mode="automatic", micros=1.0)


def test_store_cases_join_log_loans_and_overrides(pipeline_store: Engine) -> None:
    day = dt.datetime(2023, 1, 5, tzinfo=dt.UTC)
    with transaction(pipeline_store) as s:
        party = s.scalars(select(Party.party_id).order_by(Party.party_id)).first()
        branch = s.scalars(select(Application.branch_id)).first()
        for key in ("NP1", "NP2", "NP3"):
            s.add(Application(application_id=key, party_id=party, applied_at=day,
                              channel="web", product_intent="working_capital",
                              amount=Decimal("100000.00"), term_months=12, branch_id=branch,
                              status="approved"))
        s.flush()
        s.add(_log("NP1", "approve", [{"node": "admission", "hits": []}], day))
        s.add(_log("NP2", "reject", [{"node": "admission", "hits": ["AC01"]}], day))
        s.add(_log("NP3", "approve", [{"node": "admission", "hits": []}], day))
        s.add(Decision(decision_id="DNP2", application_id="NP2", outcome="approve",
                       decided_at=day, decided_by="li.na", reasons=[]))  # a person overrode
        for key, paid in (("NP1", True), ("NP2", False)):
            s.add(Loan(loan_id=f"L{key}", application_id=key, party_id=party,
                       principal=Decimal("100000.00"), annual_rate=Decimal("0.05"),
                       term_months=12, start_date=day.date(),
                       maturity_date=dt.date(2024, 1, 5), repayment_method="bullet",
                       status="active"))
            s.flush()
            s.add(Repayment(loan_id=f"L{key}", period=1, due_date=dt.date(2023, 2, 5),
                            principal_due=Decimal("100000.00"), interest_due=Decimal("0"),
                            paid_on=dt.date(2023, 2, 5) if paid else None,
                            paid_amount=Decimal("100000.00") if paid else Decimal("0")))
    stats = _by_key(store_node_performance(pipeline_store, as_of=dt.date(2024, 6, 1)))
    node, rule = stats[("admission", None)], stats[("admission", "AC01")]
    assert (node.ran, node.hits, node.overridden_hits) == (3, 1, 1)
    assert (rule.accepted_known_hits, rule.bad_hits) == (1, 1)  # NP2 booked by override, bad
    assert (rule.accepted_known_non_hits, rule.bad_non_hits) == (1, 0)  # NP1 good; NP3 no loan
