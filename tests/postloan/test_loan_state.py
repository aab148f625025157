"""The batch loan state on the hand-written book (tests/postloan/book_support.py), and its
invariants on the simulated `tiny` bank."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pytest
from tests.postloan.book_support import D, at, by_loan, write_book

from xiaowei.postloan.analytics.roll_rates import roll_rates
from xiaowei.postloan.loan_state import (
    STATE_COLUMNS,
    Buckets,
    loan_state,
    month_end_snapshots,
    month_ends,
    write_month_end_snapshots,
)


@pytest.fixture(scope="module")
def book() -> duckdb.DuckDBPyConnection:
    return write_book()


def test_state_on_a_day_between_month_ends(book: duckdb.DuckDBPyConnection) -> None:
    state = loan_state(book, D(2024, 4, 15))
    assert tuple(state.column_names) == STATE_COLUMNS
    rows = by_loan(state)
    assert sorted(rows) == ["L1", "L2", "L3", "L4", "L5", "L6"]
    # L2: instalments due 03-10 and 04-10 unpaid until 04-20 → dpd 04-15 − 03-10 = 36 (M2),
    # both overdue; maturity 04-10 has passed with a balance left.
    l2 = rows["L2"]
    assert (l2["dpd"], l2["bucket"], l2["status"]) == (36, "M2", "matured_unpaid")
    assert (l2["outstanding_yuan"], l2["overdue_principal_yuan"],
            l2["overdue_interest_yuan"]) == (2000.0, 2000.0, 60.0)
    # L3: 03-20 missed (26 days), 04-20 not yet due.
    l3 = rows["L3"]
    assert (l3["dpd"], l3["bucket"], l3["status"], l3["outstanding_yuan"],
            l3["overdue_principal_yuan"], l3["overdue_interest_yuan"]) == (
        26, "M1", "active", 2000.0, 400.0, 20.0)
    # L4 prepaid on 04-05 by its settle row; L1's last instalment paid today.
    for loan in ("L1", "L4"):
        assert (rows[loan]["status"], rows[loan]["outstanding_yuan"], rows[loan]["bucket"],
                rows[loan]["dpd"]) == ("settled", 0.0, None, 0)
    # L5 starts 05-10.
    l5 = rows["L5"]
    assert (l5["status"], l5["outstanding_yuan"], l5["bucket"], l5["mob"]) == (
        "not_disbursed", 0.0, None, None)
    l6 = rows["L6"]
    assert (l6["status"], l6["outstanding_yuan"], l6["dpd"], l6["bucket"], l6["mob"]) == (
        "active", 1000.0, 0, "M0", 3)
    assert (l6["product"], l6["branch_id"], l6["manager_id"], l6["segment"],
            l6["origination_month"]) == ("guaranteed", "B2", "M02", "enterprise", D(2024, 1, 1))


@pytest.mark.parametrize(("day", "dpd", "overdue"), [
    (D(2024, 3, 20), 0, 0.0),     # due today: not overdue yet
    (D(2024, 3, 21), 1, 400.0),
    (D(2024, 7, 31), 133, 2000.0),  # every instalment missed; matured 07-20
])
def test_dpd_counts_from_the_oldest_unpaid_due_date(book: duckdb.DuckDBPyConnection,
                                                    day: Any, dpd: int, overdue: float) -> None:
    l3 = by_loan(loan_state(book, day))["L3"]
    assert (l3["dpd"], l3["overdue_principal_yuan"]) == (dpd, overdue)


def test_a_late_instalment_is_overdue_until_its_paid_on(book: duckdb.DuckDBPyConnection
                                                        ) -> None:
    # L6's 02-25 instalment was paid on 03-05.
    assert by_loan(loan_state(book, D(2024, 3, 4)))["L6"]["dpd"] == 8  # 2024 is a leap year
    assert by_loan(loan_state(book, D(2024, 3, 5)))["L6"]["dpd"] == 0


def test_buckets_are_configurable(book: duckdb.DuckDBPyConnection) -> None:
    ladder = Buckets((30, 60, 90, 180))
    assert ladder.labels == ("M0", "M1", "M2", "M3", "M4", "M5+")
    assert by_loan(loan_state(book, D(2024, 7, 31), buckets=ladder))["L3"]["bucket"] == "M4"
    assert ladder.label(181) == "M5+" and ladder.label(0) == "M0"
    with pytest.raises(ValueError, match="increasing"):
        Buckets((60, 30))


def test_month_end_snapshots_follow_the_table_in_book_support(
        book: duckdb.DuckDBPyConnection) -> None:
    snaps = month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31))
    expected = {  # loan → (dpd, bucket or status) at each month-end, from the docstring
        "L1": ["0M0", "0M0", "0M0", "settled"],
        "L2": ["0M0", "0M0", "21M1", "settled"],
        "L3": ["0M0", "0M0", "11M1", "41M2", "72M3", "102M4+", "133M4+", "164M4+"],
        "L4": [None, "0M0", "0M0", "settled"],
        "L5": [None, None, None, None, "0M0", "0M0", "21M1", "settled"],
        "L6": ["0M0", "4M1", "0M0", "settled"],
    }
    ends = month_ends(D(2024, 1, 1), D(2024, 8, 31))
    assert len(ends) == 8 and ends[1] == D(2024, 2, 29)
    for i, day in enumerate(ends):
        rows = at(snaps, day)
        for loan, states in expected.items():
            want = states[i] if i < len(states) else None
            got = rows.get(loan)
            shown = None if got is None else (
                got["status"] if got["status"] == "settled" else f"{got['dpd']}{got['bucket']}")
            assert shown == want, (loan, day)
    assert at(snaps, D(2024, 7, 31))["L3"]["status"] == "matured_unpaid"


def test_snapshots_agree_with_the_state_of_each_month_end(book: duckdb.DuckDBPyConnection
                                                          ) -> None:
    snaps = month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31))
    for day in month_ends(D(2024, 1, 1), D(2024, 8, 31)):
        one_day = by_loan(loan_state(book, day))
        for loan, row in at(snaps, day).items():
            assert row == one_day[loan]


def test_snapshots_can_be_written_to_a_table(book: duckdb.DuckDBPyConnection) -> None:
    rows = write_month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31), "snaps",
                                     temporary=True)
    arrow = month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31))
    assert rows == arrow.num_rows == 27  # the cells of the table in book_support
    with pytest.raises(ValueError, match="table name"):
        write_month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31), "x; DROP TABLE gov.loan")
    with pytest.raises(ValueError, match="TEMP"):
        write_month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31), "s.t", temporary=True)
    assert write_month_end_snapshots(book, D(2024, 1, 1), D(2024, 8, 31), "post.snaps") == 27
    assert book.execute("SELECT count(*) FROM post.snaps WHERE bucket = 'M4+'").fetchall() == [
        (3,)]


def test_a_store_without_loans_is_refused() -> None:
    with pytest.raises(LookupError, match=r"gov\.loan"):
        loan_state(duckdb.connect(), D(2024, 1, 31))


def test_invariants_on_the_simulated_bank(pipeline_bank: dict[str, Any], tmp_path: Path
                                          ) -> None:
    copy = tmp_path / "analytic.duckdb"  # other tests may hold the session's file open
    shutil.copy(pipeline_bank["analytic"], copy)
    con = duckdb.connect(str(copy), read_only=True)
    as_of = D.fromisoformat(con.execute(
        "SELECT value FROM gov.meta WHERE key = 'as_of'").fetchall()[0][0])
    first = con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
    snaps = month_end_snapshots(con, first, as_of)
    assert snaps.num_rows > 1000
    assert pc.min(snaps["outstanding_yuan"]).as_py() >= 0
    assert pc.min(snaps["dpd"]).as_py() >= 0
    settled = snaps.filter(pc.equal(snaps["status"], "settled"))
    assert settled.num_rows > 0 and pc.max(settled["outstanding_yuan"]).as_py() == 0
    over = pc.subtract(snaps["overdue_principal_yuan"], snaps["outstanding_yuan"])
    assert pc.max(over).as_py() <= 1.0  # schedules round to fen
    assert pc.min(snaps["dpd"].filter(pc.equal(snaps["bucket"], "M4+"))).as_py() > 90
    # The state on the last month-end is the snapshot's row for every loan on book.
    last = month_ends(first, as_of)[-1]
    state = by_loan(loan_state(con, last))
    for loan, row in at(snaps, last).items():
        assert row == state[loan]
    # Each roll-matrix row sums to the loans in that bucket at the month-end before.
    rr = roll_rates(con, snaps)
    counts: dict[tuple, int] = {}
    for r in rr.transitions.to_pylist():
        key = (r["month_end"], r["from_state"])
        counts[key] = counts.get(key, 0) + r["loans"]
    ends = month_ends(first, as_of)
    for before, after in itertools.pairwise(ends):
        rows = at(snaps, before).values()
        for bucket in rr.buckets:
            assert counts.get((after, bucket), 0) == sum(1 for r in rows
                                                         if r["bucket"] == bucket)
    assert sum(r["loans"] for r in rr.matrix.to_pylist()) == sum(counts.values())
    con.close()
