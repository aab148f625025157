"""Manager matching: tier, nearest branch, capacity, deterministic ties, explanations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from xiaowei.entities.datafiles import DataFileError
from xiaowei.origination.manager_matching import (
    assign_manager,
    candidates,
    choose_manager,
    load_rules,
)
from xiaowei.store import migrate
from xiaowei.store.database import make_engine, transaction
from xiaowei.store.tables import Application, Branch, CustomerManager, Loan, Party

DAY = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """Branches B1, B2 (same city 3301), B3 (3302); managers of tiers 1–3 spread over them."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with transaction(engine) as s:
        s.add_all([Branch(branch_id="B1", name="西湖支行", region_code="330106"),
                   Branch(branch_id="B2", name="滨江支行", region_code="330108"),
                   Branch(branch_id="B3", name="宁波支行", region_code="330203")])
        s.flush()
        s.add_all([CustomerManager(manager_id=m, name=m, branch_id=b, risk_tier=t,
                                   hired_on=dt.date(2020, 1, 1))
                   for m, b, t in [("M1", "B1", 1), ("M2", "B1", 2), ("M3", "B2", 3),
                                   ("M4", "B3", 3), ("M5", "B1", 2)]])
        s.add_all([Party(party_id=f"P{i}", party_type="enterprise", name=f"n{i}",
                         name_masked="n*", region_code="330106", created_at=DAY)
                   for i in range(8)])
    yield engine
    engine.dispose()


def _carry(engine: Engine, manager: str, parties: range, status: str = "in_review",
           loan: str | None = None) -> None:
    """Give ``manager`` the customers ``parties`` (open applications, or loans)."""
    with transaction(engine) as s:
        for i in parties:
            key = f"A-{manager}-{i}"
            s.add(Application(application_id=key, party_id=f"P{i}", applied_at=DAY,
                              channel="web", product_intent="working_capital",
                              amount=Decimal("1.00"), term_months=12, manager_id=manager,
                              branch_id="B1", status=status))
            if loan:
                s.flush()
                s.add(Loan(loan_id=f"L-{key}", application_id=key, party_id=f"P{i}",
                           principal=Decimal("1.00"), annual_rate=Decimal("0.05"),
                           term_months=12, start_date=DAY.date(),
                           maturity_date=DAY.date(), repayment_method="bullet", status=loan))


def test_same_branch_least_loaded_eligible_manager_wins(store: Engine) -> None:
    _carry(store, "M2", range(2))
    with transaction(store) as s:
        choice = choose_manager(s, "B1", "intermediate")
    assert choice.manager_id == "M5" and choice.required_tier == 2
    assert "M5" in choice.zh and "同网点" in choice.zh and "same branch" in choice.en
    assert choice.considered == 5
    passed = {p["manager_id"]: p["en"] for p in choice.passed_over}
    assert "ranked lower" in passed["M2"] and "2 customers" in passed["M2"]


def test_tier_too_low_is_passed_over_with_the_reason(store: Engine) -> None:
    with transaction(store) as s:
        choice = choose_manager(s, "B1", 3)
    assert choice.manager_id == "M3"  # same region (3301) beats the senior in Ningbo
    assert "same region" in choice.en
    with transaction(store) as s:
        ranked_ids = [p["manager_id"] for p in choose_manager(s, "B1", 3).passed_over]
    assert ranked_ids == ["M4", "M1", "M2"]
    assert "risk tier 1 below the required 3" in choice.passed_over[1]["en"]
    assert "风险等级 1 低于要求 3" in choice.passed_over[1]["zh"]


def test_the_staff_batch_cap_lowers_a_tier_and_never_raises_it(store: Engine) -> None:
    """M3 (granted 3) capped at 2 by the staff batch no longer takes tier-3 cases; a cap above
    the grant (M1: granted 1, cap 3) changes nothing — a promotion goes through a person."""
    with transaction(store) as s:
        s.get(CustomerManager, "M3").staff_tier_cap = 2
        s.get(CustomerManager, "M1").staff_tier_cap = 3
    with transaction(store) as s:
        choice = choose_manager(s, "B1", 3)
        ranked = {c.manager_id: c for c in candidates(s, "B1", 3, load_rules())}
    assert choice.manager_id == "M4"  # the Ningbo senior: M3 is capped
    assert ranked["M3"].risk_tier == 2 and not ranked["M3"].eligible
    assert "risk tier 2 below the required 3" in ranked["M3"].why_not(3, 200)[1]
    assert ranked["M1"].risk_tier == 1 and not ranked["M1"].eligible


def test_ties_break_by_manager_id(store: Engine) -> None:
    with transaction(store) as s:
        assert choose_manager(s, "B1", "intermediate").manager_id == "M2"


def test_full_manager_is_skipped_and_settled_loans_do_not_count(store: Engine,
                                                                 tmp_path: Path) -> None:
    text = load_rules().model_dump_json()
    rules = load_rules().model_copy(update={"target_customers": 2})
    assert '"target_customers":200' in text
    _carry(store, "M3", range(2), status="approved", loan="active")
    _carry(store, "M4", range(2, 6), status="approved", loan="settled")
    with transaction(store) as s:
        choice = choose_manager(s, "B1", 3, rules)
    assert choice.manager_id == "M4"
    assert choice.passed_over[0]["manager_id"] == "M3"
    assert "at the target 2" in choice.passed_over[0]["en"]


def test_no_manager_available_goes_to_the_supervisor_queue(store: Engine) -> None:
    rules = load_rules().model_copy(update={"target_customers": 1})
    _carry(store, "M3", range(1))
    _carry(store, "M4", range(1, 2))
    with transaction(store) as s:
        choice = choose_manager(s, "B1", "senior", rules)
    assert choice.manager_id is None and choice.queue == "branch_supervisor"
    assert "no manager available" in choice.en and "网点主管" in choice.zh


def test_assignment_is_written_to_the_application(store: Engine) -> None:
    _carry(store, "M1", range(7, 8), status="submitted")
    with transaction(store) as s:
        s.get_one(Application, "A-M1-7").manager_id = None
    with transaction(store) as s:
        choice = assign_manager(s, "A-M1-7", "junior")
    with transaction(store) as s:
        assert s.get_one(Application, "A-M1-7").manager_id == choice.manager_id == "M1"


def test_unknown_tier_and_branch_are_clear_errors(store: Engine) -> None:
    with transaction(store) as s, pytest.raises(ValueError, match="unknown manager tier"):
        choose_manager(s, "B1", "expert")
    with transaction(store) as s, pytest.raises(LookupError, match="B9"):
        choose_manager(s, "B9", 1)


def test_bad_rules_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mm.yaml"
    path.write_text("version: 1\ntarget_customers: -5\n", "utf-8")
    with pytest.raises(DataFileError, match=r"mm\.yaml:2"):
        load_rules(path)
