"""Vintage curves on the hand-written book (tests/postloan/book_support.py)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from tests.postloan.book_support import D, write_book

from xiaowei.postloan.analytics.vintage import curve_series, vintage_curves
from xiaowei.postloan.loan_state import write_month_end_snapshots


@pytest.fixture(scope="module")
def book() -> tuple[duckdb.DuckDBPyConnection, str]:
    con = write_book()
    write_month_end_snapshots(con, D(2024, 1, 1), D(2024, 8, 31), "snaps", temporary=True)
    return con, "snaps"


def _points(table: pa.Table, cohort: str) -> dict[int, dict]:
    return {r["mob"]: r for r in table.to_pylist() if r["cohort"] == cohort}


def test_monthly_cohorts(book: tuple[duckdb.DuckDBPyConnection, str]) -> None:
    curves = vintage_curves(*book, cohort="month")
    jan = _points(curves, "2024-01")  # L1, L2, L3, L6: 9,900 yuan
    assert sorted(jan) == list(range(8))  # January to August: MOB 0 … 7
    assert {r["loans"] for r in jan.values()} == {4}
    assert jan[0]["principal_yuan"] == 9900.0
    # Only L3 is ever 30+ at a month-end: 41 dpd on 04-30 (MOB 3); L2's 36 dpd on 04-15
    # was cured by 04-30 and is not seen at a month-end. L3 is 90+ from 06-30 (MOB 5).
    assert [jan[m]["ever_30_loans"] for m in range(8)] == [0, 0, 0, 1, 1, 1, 1, 1]
    assert jan[3]["ever_30_share"] == pytest.approx(0.25)
    assert jan[3]["ever_30_balance_share"] == pytest.approx(2400 / 9900)
    assert [jan[m]["ever_90_share"] for m in (4, 5, 7)] == [0.0, 0.25, 0.25]
    assert sorted(_points(curves, "2024-05")) == [0, 1, 2, 3]  # L5, May to August
    assert _points(curves, "2024-05")[3]["ever_30_share"] == 0.0


def test_quarter_cohort_counts_only_loans_old_enough(book: tuple[duckdb.DuckDBPyConnection, str]
                                                     ) -> None:
    q1 = _points(vintage_curves(*book, cohort="quarter"), "2024Q1")
    # January's four loans and L4 (February) are MOB 0 … 6 by 08-31; only January's reach 7.
    assert q1[3]["loans"] == 5 and q1[3]["ever_30_share"] == pytest.approx(1 / 5)
    assert q1[7]["loans"] == 4 and q1[7]["ever_30_share"] == pytest.approx(1 / 4)


def test_grouped_by_product_and_capped(book: tuple[duckdb.DuckDBPyConnection, str]) -> None:
    curves = vintage_curves(*book, cohort="quarter", by="product", max_mob=5)
    rows = {(r["product"], r["mob"]): r for r in curves.to_pylist() if r["cohort"] == "2024Q1"}
    assert max(m for _, m in rows) == 5
    assert rows[("guaranteed", 3)]["loans"] == 3  # L3, L4, L6
    assert rows[("guaranteed", 3)]["ever_30_share"] == pytest.approx(1 / 3)
    assert rows[("tax_loan", 5)]["ever_30_share"] == 0.0
    series = curve_series(curves, 30)
    assert "guaranteed · 2024Q1" in series and series["guaranteed · 2024Q1"][0][:2] == [0, 1]
    with pytest.raises(ValueError, match="cannot group by"):
        vintage_curves(*book, by="colour")


def test_arrow_snapshots_give_the_same_curves(book: tuple[duckdb.DuckDBPyConnection, str]
                                              ) -> None:
    con, name = book
    arrow = con.sql(f"SELECT * FROM {name}").to_arrow_table()
    assert vintage_curves(con, arrow).equals(vintage_curves(con, name))
