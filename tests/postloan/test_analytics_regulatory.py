"""The inclusive small-micro NPL ratio and 两增两控, on loan states written in the test."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.postloan.book_support import D, write_book

from xiaowei.postloan.analytics.migration import dpd_ladder
from xiaowei.postloan.analytics.regulatory import (
    inclusive_sme,
    two_increases_two_controls,
    two_increases_two_controls_at,
    year_before,
)
from xiaowei.postloan.loan_state import loan_state

FLOORS = dpd_ladder((0, 90, 270, 360))


def state(day: D, rows: list[tuple[str, str, float, float, int]]) -> pa.Table:
    """loan, party, principal, outstanding, dpd."""
    return pa.table({"as_of": [day] * len(rows), "loan_id": [r[0] for r in rows],
                     "party_id": [r[1] for r in rows], "principal_yuan": [r[2] for r in rows],
                     "outstanding_yuan": [r[3] for r in rows], "dpd": [r[4] for r in rows]})


NOW = state(D(2025, 12, 31), [
    ("a1", "A", 6e6, 5e6, 0),       # A: 6M + 5M credit = 11M > 10M: not inclusive
    ("a2", "A", 5e6, 4e6, 120),
    ("b1", "B", 2e6, 1e6, 100),     # 次级
    ("c1", "C", 3e6, 2e6, 0),
    ("d1", "D", 1e6, 1e6, 400),     # 损失
    ("e1", "E", 1e6, 0.0, 0),       # paid off: not on book
])
THEN = state(D(2024, 12, 31), [
    ("b0", "B", 2e6, 2e6, 0), ("c0", "C", 3e6, 2.5e6, 0), ("f0", "F", 1e6, 1e6, 0),
    ("g0", "G", 1e6, 0.5e6, 30), ("a0", "A", 12e6, 10e6, 0),
])


def test_inclusive_npl_ratio_by_hand() -> None:
    r = inclusive_sme(NOW, classify_dpd=FLOORS)
    # Inclusive: B, C, D (A's credit is 11M). Balance 1M + 2M + 1M = 4M; 不良 B + D = 2M.
    assert (r.inclusive.loans, r.inclusive.borrowers) == (3, 3)
    assert (r.inclusive.balance_yuan, r.inclusive.npl_balance_yuan) == (4e6, 2e6)
    assert r.inclusive.npl_ratio == 0.5
    # Whole book: 13M, 不良 4M (a2) + 1M + 1M = 6M.
    assert (r.overall.balance_yuan, r.overall.npl_balance_yuan) == (13e6, 6e6)
    assert r.overall.npl_ratio == pytest.approx(6 / 13)
    assert r.cap_yuan == 10_000_000.0 and r.as_of == D(2025, 12, 31)


def test_two_increases_two_controls_by_hand() -> None:
    t = two_increases_two_controls(NOW, THEN, classify_dpd=FLOORS)
    # Inclusive balance 4M now vs 2M + 2.5M + 1M + 0.5M = 6M a year ago: −1/3; all loans
    # 13M vs 16M: −3/16. Inclusive fell faster → growth check fails.
    assert t.inclusive_growth == pytest.approx(4 / 6 - 1)
    assert t.all_growth == pytest.approx(13 / 16 - 1)
    assert t.growth_ok is False
    assert (t.current.inclusive.borrowers, t.prior.inclusive.borrowers) == (3, 4)
    assert t.borrowers_ok is False
    # Inclusive NPL 50% ≤ overall 46.15% + 3 pp = 49.15%? No.
    assert t.npl_ceiling == pytest.approx(6 / 13 + 0.03)
    assert t.npl_ok is False
    lenient = two_increases_two_controls(NOW, THEN, classify_dpd=FLOORS, tolerance=0.05,
                                         all_loans_growth=-0.5)
    assert lenient.npl_ok is True and lenient.growth_ok is True


def test_from_the_store_a_year_apart() -> None:
    con = write_book()
    t = two_increases_two_controls_at(con, D(2024, 8, 31), classify_dpd=FLOORS)
    assert t.prior.inclusive.loans == 0 and t.inclusive_growth is None  # nothing in 2023
    assert t.current.inclusive.balance_yuan == 2000.0  # L3 alone on book, 次级
    assert t.current.inclusive.npl_ratio == 1.0
    direct = inclusive_sme(loan_state(con, D(2024, 7, 31)), classify_dpd=FLOORS)
    assert (direct.inclusive.balance_yuan, direct.inclusive.npl_balance_yuan) == (3000.0,
                                                                                   2000.0)
    assert year_before(D(2024, 2, 29)) == D(2023, 2, 28)
