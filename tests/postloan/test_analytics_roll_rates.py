"""Roll rates and collection recovery on the hand-written book (book_support.py)."""

from __future__ import annotations

import duckdb
import pytest
from tests.postloan.book_support import D, write_book

from xiaowei.postloan.analytics.recovery import recovery_by_bucket
from xiaowei.postloan.analytics.roll_rates import roll_rates
from xiaowei.postloan.loan_state import write_month_end_snapshots


@pytest.fixture(scope="module")
def book() -> tuple[duckdb.DuckDBPyConnection, str]:
    con = write_book()
    write_month_end_snapshots(con, D(2024, 1, 1), D(2024, 8, 31), "snaps", temporary=True)
    return con, "snaps"


def test_roll_matrix_by_hand(book: tuple[duckdb.DuckDBPyConnection, str]) -> None:
    rr = roll_rates(*book)
    cells = {(r["from_state"], r["to_state"]): r["loans"] for r in rr.matrix.to_pylist()}
    # Transitions read off the table in book_support, month-end to month-end:
    # M0: 01→02 L1 L2 L3 stay, L6 →M1; 02→03 L1 L4 stay, L2 L3 →M1; 03→04 L1 L4 L6 settle;
    #     05→06 L5 stays; 06→07 L5 →M1.        M1: L6 →M0; L2 →settled; L3 →M2; L5 →settled.
    assert cells == {("M0", "M0"): 6, ("M0", "M1"): 4, ("M0", "settled"): 3,
                     ("M1", "M0"): 1, ("M1", "M2"): 1, ("M1", "settled"): 2,
                     ("M2", "M3"): 1, ("M3", "M4+"): 1, ("M4+", "M4+"): 2}
    rates = {r["from_state"]: r for r in rr.rates.to_pylist()}
    assert rates["M0"]["loans"] == 13 and rates["M0"]["roll_forward"] == pytest.approx(4 / 13)
    assert rates["M0"]["cure"] is None
    # M1 balances at the earlier month-end: L6 3000, L2 2000, L3 2000, L5 1000.
    m1 = rates["M1"]
    assert (m1["loans"], m1["balance_yuan"]) == (4, 8000.0)
    assert (m1["roll_forward"], m1["cure"], m1["stay"]) == (0.25, 0.75, 0.0)
    assert m1["cure_balance"] == pytest.approx(6000 / 8000)
    assert m1["roll_forward_balance"] == pytest.approx(2000 / 8000)
    assert rates["M2"]["roll_forward"] == 1.0 and rates["M4+"]["roll_forward"] is None
    assert rates["M4+"]["stay"] == 1.0
    shares = {(r["from_state"], r["to_state"]): r["share"] for r in rr.matrix.to_pylist()}
    assert shares[("M1", "settled")] == 0.5


def test_roll_window_and_transitions(book: tuple[duckdb.DuckDBPyConnection, str]) -> None:
    rr = roll_rates(*book, first=D(2024, 3, 31), last=D(2024, 3, 31))
    assert {(r["month_end"], r["from_state"], r["to_state"], r["loans"])
            for r in rr.transitions.to_pylist()} == {
        (D(2024, 3, 31), "M0", "M0", 2), (D(2024, 3, 31), "M0", "M1", 2),
        (D(2024, 3, 31), "M1", "M0", 1)}
    by_branch = roll_rates(*book, by="branch")
    b1 = {r["from_state"]: r for r in by_branch.rates.to_pylist() if r["branch_id"] == "B1"}
    assert b1["M1"]["loans"] == 2 and b1["M1"]["cure"] == 1.0  # L2 and L5, both paid off


def test_recovery_by_bucket_by_hand(book: tuple[duckdb.DuckDBPyConnection, str]) -> None:
    rows = {r["bucket"]: r for r in recovery_by_bucket(*book, months=1).to_pylist()}
    # Entries into M1: L6 02-29 (3000), L2 03-31 (2000), L3 03-31 (2000), L5 07-31 (1000).
    # A month later: L6 back in M0 with 1000 left; L2 and L5 paid off; L3 in M2, 2000 left.
    m1 = rows["M1"]
    assert (m1["entries"], m1["entering_balance_yuan"]) == (4, 8000.0)
    assert m1["cured_share"] == pytest.approx(6000 / 8000)
    assert m1["cured_loan_share"] == 0.75
    assert m1["settled_share"] == pytest.approx(3000 / 8000)
    assert m1["settled_loan_share"] == 0.5
    assert m1["collected_share"] == pytest.approx((2000 + 2000 + 0 + 1000) / 8000)
    for bucket in ("M2", "M3", "M4+"):  # L3 only, never paying
        assert (rows[bucket]["entries"], rows[bucket]["cured_share"],
                rows[bucket]["collected_share"]) == (1, 0.0, 0.0)
    # With three months only entries up to 05-31 have a full horizon: L5's is left out.
    assert recovery_by_bucket(*book, months=3).to_pylist()[0]["entries"] == 3
