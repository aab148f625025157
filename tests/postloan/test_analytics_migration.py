"""Five-class migration and the regulator's migration rate on the hand-written book."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from tests.postloan.book_support import D, write_book

from xiaowei.postloan.analytics.migration import (
    FIVE_CLASSES,
    dpd_ladder,
    migration,
    migration_between,
)
from xiaowei.postloan.loan_state import loan_state


def ladder(dpd: np.ndarray) -> np.ndarray:
    """The test's own DPD ladder: 0 正常, 1–90 关注, 91–270 次级, 271–360 可疑, > 360 损失."""
    return np.select([dpd == 0, dpd <= 90, dpd <= 270, dpd <= 360],
                     ["正常", "关注", "次级", "可疑"], "损失")


@pytest.fixture(scope="module")
def book() -> duckdb.DuckDBPyConnection:
    return write_book()


def test_migration_rate_by_hand(book: duckdb.DuckDBPyConnection) -> None:
    m = migration_between(book, D(2024, 2, 29), D(2024, 3, 31), classify_dpd=ladder)
    # On book 02-29 → 03-31 (balance, dpd → class):
    #   L1 1000 正常 → 500 正常   L2 2000 正常 → 2000 关注 (21 dpd)   L3 2000 正常 → 2000 关注
    #   L4 5000 正常 → 4000 正常  L6 3000 关注 (4 dpd) → 1000 正常
    # 正常: start balance 10,000; reductions 500 + 0 + 0 + 1000 = 1,500; moved down: L2 and
    # L3, 4,000 at the end → migration rate 4000 / (10000 − 1500) = 0.470588…
    rates = {r["class"]: r for r in m.rates.to_pylist()}
    normal = rates["正常"]
    assert (normal["loans"], normal["balance_yuan"], normal["reduction_yuan"]) == (
        4, 10000.0, 1500.0)
    assert (normal["moved_down_loans"], normal["moved_down_balance_yuan"]) == (2, 4000.0)
    assert normal["migration_rate"] == pytest.approx(4000 / 8500)
    assert normal["count_rate"] == pytest.approx(2 / 4)
    # 关注: L6 moved up, nothing down: 0 / (3000 − 2000).
    assert rates["关注"]["migration_rate"] == 0.0 and rates["关注"]["reduction_yuan"] == 2000.0
    cells = {(r["from_class"], r["to_class"]): r["loans"] for r in m.matrix.to_pylist()}
    assert cells == {("正常", "正常"): 2, ("正常", "关注"): 2, ("关注", "正常"): 1}
    assert (m.start, m.end, m.classes) == (D(2024, 2, 29), D(2024, 3, 31), FIVE_CLASSES)


def test_pay_offs_reduce_the_base_and_the_worst_class_has_no_rate(
        book: duckdb.DuckDBPyConnection) -> None:
    m = migration_between(book, D(2024, 3, 31), D(2024, 7, 31), classify_dpd=ladder)
    rates = {r["class"]: r for r in m.rates.to_pylist()}
    # 关注 on 03-31: L2 (paid off 04-20) and L3 (133 dpd on 07-31 → 次级, 2000 left):
    # 2000 / (4000 − 2000) = 1.
    assert rates["关注"]["migration_rate"] == 1.0
    assert (rates["关注"]["settled_loans"], rates["关注"]["count_rate"]) == (1, 1.0)
    # 正常 on 03-31: L1, L4, L6 — all paid off: the base is 0, the rate undefined.
    assert rates["正常"]["migration_rate"] is None
    cells = {(r["from_class"], r["to_class"]): r["loans"] for r in m.matrix.to_pylist()}
    assert cells[("正常", "settled")] == 3 and cells[("关注", "次级")] == 1
    worst = migration(loan_state(book, D(2024, 7, 31)), loan_state(book, D(2024, 8, 31)),
                      classify_dpd=lambda d: np.full(len(d), "损失"))
    assert worst.rates.to_pylist()[0]["migration_rate"] is None


def test_classes_from_a_column_and_grouped(book: duckdb.DuckDBPyConnection) -> None:
    start, end = loan_state(book, D(2024, 2, 29)), loan_state(book, D(2024, 3, 31))
    start = start.append_column("klass", pa.array(ladder(start["dpd"].to_numpy())))
    end = end.append_column("klass", pa.array(ladder(end["dpd"].to_numpy())))
    m = migration(start, end, class_column="klass", by="branch")
    b1 = {r["class"]: r for r in m.rates.to_pylist() if r["branch_id"] == "B1"}
    # B1: L1 (1000 → 500 正常) and L2 (2000 → 2000 关注): 2000 / (3000 − 500).
    assert b1["正常"]["migration_rate"] == pytest.approx(2000 / 2500)
    with pytest.raises(ValueError, match="exactly one"):
        migration(start, end)
    with pytest.raises(ValueError, match="classes outside"):
        migration(start, end, classify_dpd=lambda d: np.full(len(d), "good"))


def test_dpd_ladder_matches_the_regulatory_floors() -> None:
    floors = dpd_ladder((0, 90, 270, 360))
    dpd = np.array([0, 1, 90, 91, 270, 271, 360, 361, 5000])
    assert list(floors(dpd)) == list(ladder(dpd))
    with pytest.raises(ValueError):
        dpd_ladder((0, 90), FIVE_CLASSES)
