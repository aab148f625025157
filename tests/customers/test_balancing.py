"""Portfolio balancing on hand-made books: hours from the capacity table, moves that stay in
the branch, respect seniority and never push a receiver over a limit, the same answer
whatever the input order, and what cannot be fixed reported rather than forced."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from xiaowei.customers.balancing import (
    Customer,
    Manager,
    balance_portfolio,
    customer_hours,
    load_balancing_rules,
)
from xiaowei.entities.datafiles import DataFileError
from xiaowei.origination.capacity import load_capacity

CAPACITY = load_capacity()
LIMIT = 2000 * 0.8 * 0.5  # hours_per_year × customer_work_share × maintenance_share
A_HOURS = 365 / 30 * 1.0 + 1.0  # monthly visits of an hour, plus a year of servicing
TIER = {"A": "senior", "B": "intermediate", "C": "junior", "D": "senior"}
EVERY = {"A": 30, "B": 90, "C": 365, "D": 0}


def customers(prefix: str, n: int, grade: str, manager: str | None,
              branch: str | None) -> list[Customer]:
    return [Customer(f"{prefix}{i:03d}", grade, TIER[grade], EVERY[grade], manager, branch)
            for i in range(n)]


def test_hours_come_from_the_capacity_table() -> None:
    assert customer_hours(30, CAPACITY) == pytest.approx(A_HOURS)
    assert customer_hours(365, CAPACITY) == pytest.approx(2.0)
    assert customer_hours(0, CAPACITY) == pytest.approx(1.0)  # servicing only
    with pytest.raises(ValueError, match="visit_every_days"):
        customer_hours(-1, CAPACITY)


def test_an_overloaded_manager_gives_customers_to_the_same_branch_only() -> None:
    staff = [Manager("M1", "B1", 3), Manager("M2", "B1", 3), Manager("M3", "B2", 3),
             Manager("M4", "B1", 1)]
    book = customers("A", 70, "A", "M1", "B1") + customers("D", 5, "D", "M1", "B1")
    report = balance_portfolio(book, staff, capacity=CAPACITY)
    loads = {m.manager_id: m for m in report.managers}
    assert loads["M1"].hours == pytest.approx(70 * A_HOURS + 5)
    assert loads["M1"].hours > LIMIT
    assert report.overloaded_before == 1 and report.overloaded_after == 0
    assert {(m.from_manager, m.to_manager, m.reason) for m in report.moves} == \
        {("M1", "M2", "overload")}  # not M3 (other branch), not M4 (junior)
    assert len(report.moves) == 10  # the fewest A customers that bring M1 within its hours
    assert all(m.grade == "A" for m in report.moves)  # D customers never move for load
    assert loads["M1"].hours_after <= LIMIT < loads["M1"].hours_after + A_HOURS
    assert loads["M2"].hours_after == pytest.approx(10 * A_HOURS)
    assert loads["M3"].customers_after == loads["M4"].customers_after == 0


def test_seniority_and_orphans_go_to_the_lowest_sufficient_tier_with_room() -> None:
    staff = [Manager("M1", "B1", 1), Manager("M2", "B1", 2), Manager("M3", "B1", 3)]
    book = (customers("B", 2, "B", "M1", "B1")  # needs intermediate, held by a junior
            + customers("C", 1, "C", "GONE", "B1")  # its manager left the bank
            + customers("A", 1, "A", "M1", "B1"))  # needs a senior
    report = balance_portfolio(book, staff, capacity=CAPACITY)
    moves = {m.party_id: (m.from_manager, m.to_manager, m.reason) for m in report.moves}
    assert moves == {"B000": ("M1", "M2", "seniority"), "B001": ("M1", "M2", "seniority"),
                     "C000": ("GONE", "M1", "orphaned"), "A000": ("M1", "M3", "seniority")}
    assert report.unresolved["seniority"] == report.unresolved["orphaned"] == 0


def test_the_customer_limit_counts_too_and_receivers_stay_within_both_limits() -> None:
    staff = [Manager("M1", "B1", 1), Manager("M2", "B1", 1), Manager("M3", "B1", 1)]
    book = customers("C", 8, "C", "M1", "B1") + customers("E", 4, "C", "M2", "B1")
    report = balance_portfolio(book, staff, capacity=CAPACITY, target_customers=5)
    after = {m.manager_id: m.customers_after for m in report.managers}
    assert after == {"M1": 5, "M2": 4, "M3": 3}
    assert [m.to_manager for m in report.moves] == ["M3", "M3", "M3"]  # most spare hours
    assert all(m.hours_after <= LIMIT for m in report.managers)


def test_what_cannot_be_fixed_is_reported_not_forced() -> None:
    staff = [Manager("M1", "B1", 3), Manager("M2", "B1", 1)]
    book = (customers("A", 70, "A", "M1", "B1") + customers("Q", 3, "C", None, None)
            + customers("R", 1, "B", "M2", "B1"))
    report = balance_portfolio(book, staff, capacity=CAPACITY)
    assert report.moves == []  # M2 is a junior: it can take none of M1's senior customers
    assert report.unresolved["overloaded_managers"] == 1
    assert report.unresolved["excess_hours"] == pytest.approx(70 * A_HOURS - LIMIT, abs=0.1)
    assert report.unresolved["seniority"] == 1
    assert report.unassigned == {"customers": 3, "hours": 6.0, "by_grade": {"C": 3}}
    doc = report.to_json()
    assert doc["customers_assigned"] == 71 and doc["managers"] == 2
    assert doc["managers_needed"] == pytest.approx((70 * A_HOURS + 2 + 1) / LIMIT, abs=0.05)


def test_the_same_book_in_any_order_gives_the_same_suggestions() -> None:
    staff = [Manager(f"M{i}", f"B{i % 2}", 1 + i % 3) for i in range(6)]
    book = [Customer(f"P{i:04d}", g, TIER[g], EVERY[g], f"M{i % 3}", f"B{i % 3 % 2}")
            for i, g in enumerate("ABCD" * 40)]
    first = balance_portfolio(book, staff, capacity=CAPACITY, target_customers=30).to_json()
    shuffled = list(book)
    random.Random(7).shuffle(shuffled)
    again = balance_portfolio(shuffled, list(reversed(staff)), capacity=CAPACITY,
                              target_customers=30).to_json()
    assert first == again and first["moves"] > 0
    receivers = [m for m in first["by_manager"] if m["customers_after"] > m["customers"]]
    assert receivers and all(m["customers_after"] <= 30 and m["utilisation_after"] <= 1
                             for m in receivers)


def test_a_wrong_balancing_file_is_refused_with_its_line(tmp_path: Path) -> None:
    assert load_balancing_rules().move_order == ("C", "B", "A")
    bad = tmp_path / "balancing.yaml"
    bad.write_text("version: 1\nmaintenance_share: 0.5\nmove_order: [C, E]\n", "utf-8")
    with pytest.raises(DataFileError, match=r"balancing.yaml:3.*move_order"):
        load_balancing_rules(bad)
    bad.write_text("version: 1\nmaintenance_share: 1.5\nmove_order: [C]\n", "utf-8")
    with pytest.raises(DataFileError, match="maintenance_share"):
        load_balancing_rules(bad)
