"""One relationship per customer on a hand-built store (tests/customers/hand_bank.py): every
figure of the book row, the related parties and their group sums, point in time."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from tests.customers.hand_bank import AS_OF, D, build

from xiaowei.customers.related_parties import related_parties
from xiaowei.customers.relationship import BOOK_COLUMNS, relationship, relationship_book


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    build(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def book(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    table = relationship_book(con, AS_OF)
    assert tuple(table.column_names) == BOOK_COLUMNS
    return {row["party_id"]: row for row in table.to_pylist()}


def test_customers_are_parties_with_an_account_application_or_loan(book: dict) -> None:
    assert sorted(book) == ["A", "F1", "F2", "O3", "S", "Z"]  # R: registry only; L: nothing


def test_the_customers_own_figures_add_up_by_hand(book: dict) -> None:
    f1 = book["F1"]
    assert f1["loans_ever"] == 2 and f1["open_loans"] == 1
    assert f1["balance"] == pytest.approx(1_000_000.0)  # 1.2M less the 200k repaid
    assert f1["loan_rate"] == pytest.approx(0.05)
    assert f1["last_loan_end"] == D(2024, 12, 20)  # L0's last payment, not its maturity
    assert f1["first_loan_on"] == D(2024, 1, 1)
    assert f1["days_to_maturity"] == (D(2025, 12, 31) - AS_OF).days
    # deposits: May's month-end, the mean of Dec–May, inflows of the 11 known months; the
    # June flow (known 07-01) and the account opened 07-10 are not known on D
    assert f1["deposit_balance"] == pytest.approx(110_000.0)
    assert f1["deposit_avg_6m"] == pytest.approx((60 + 70 + 80 + 90 + 100 + 110) * 1000 / 6)
    assert f1["inflow_12m"] == pytest.approx(11_000_000.0)
    assert f1["inflow_6m"] == pytest.approx(6_000_000.0)
    assert f1["accounts"] == 1 and f1["basic_account"] is True
    assert f1["products_held"] == 2  # one credit product on book + one kind of account
    assert (f1["manager_id"], f1["branch_id"]) == ("M1", "B1")
    assert book["F2"]["days_to_maturity"] == 62
    z = book["Z"]
    assert (z["loans_ever"], z["balance"], z["products_held"], z["manager_id"]) == \
        (0, 0.0, 1, None)


def test_related_parties_and_their_relations(con: duckdb.DuckDBPyConnection) -> None:
    pairs = {(r["party_id"], r["related_id"]): r["relation"]
             for r in related_parties(con, AS_OF).to_pylist()}
    assert {k[1]: v for k, v in pairs.items() if k[0] == "F1"} == {
        "F2": "legal_rep", "O3": "guarantor", "S": "spouse", "A": "supply_chain"}
    # both directions; the corporate shareholder A is related to F2
    assert pairs[("F2", "F1")] == "legal_rep" and pairs[("F2", "A")] == "shareholder"
    # L shares F1's legal representative only from 2025-07-15
    assert ("F1", "L") not in pairs
    later = {(r["party_id"], r["related_id"])
             for r in related_parties(con, D(2025, 7, 31)).to_pylist()}
    assert ("F1", "L") in later


def test_the_group_sums_the_related_parties(book: dict) -> None:
    f1 = book["F1"]
    assert f1["related_parties"] == 4
    assert f1["related_balance"] == pytest.approx(300_000 + 500_000 + 2_000_000)
    assert f1["group_exposure"] == pytest.approx(3_800_000.0)
    assert f1["group_deposits"] == pytest.approx(f1["deposit_avg_6m"])  # others hold none
    assert book["Z"]["related_parties"] == 0
    assert book["Z"]["group_exposure"] == book["Z"]["balance"] == 0.0


def test_the_one_party_view_matches_the_book(con: duckdb.DuckDBPyConnection,
                                             book: dict) -> None:
    view = relationship(con, "F1", AS_OF)
    assert view.is_customer and view.summary == book["F1"]
    assert [loan["loan_id"] for loan in view.loans] == ["L1", "L0"]  # newest first
    assert [a["account"] for a in view.accounts] == ["****0001"]  # masked, known on D only
    assert view.accounts[0]["month_end_balance"] == pytest.approx(110_000.0)
    assert [a["application_id"] for a in view.applications] == ["AP1"]
    related = {r["party_id"]: r for r in view.related}
    assert set(related) == {"A", "F2", "O3", "S"}
    assert related["A"]["balance"] == pytest.approx(2_000_000.0)
    assert related["S"]["relation_zh"] == "配偶"
    registry_only = relationship(con, "R", AS_OF)
    assert not registry_only.is_customer and registry_only.loans == []
    with pytest.raises(LookupError, match="not a governed party"):
        relationship(con, "NOPE", AS_OF)
