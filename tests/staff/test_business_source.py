"""Business-source figures per manager, each computed by hand on a hand-built bank.

The bank (``build``; also used by the workload and rating tests), as of D = 2025-06-30 with
the window (2024-06-30, 2025-06-30]:

* M1 (branch B1, tier 2). P1's first application A1 (walk-in, 2024-03-01) → L1 100,000 at
  5%, 2024-03-10 … 2024-09-10, both halves paid on time; A2 (renewal, 2024-09-01) → L2
  200,000 at 4.5%, 2024-09-05 … 2025-09-05, first interest paid. P2 (a firm founded
  2024-01-01) A3 (online, 2024-08-01) → L3 300,000 at 6%, 2024-08-10 … 2025-08-10:
  interest 1,500 a month: 09-10 on time, 10-10 paid 10-25, 11-10 paid only on 2025-07-05
  (after D), 12-10 paid 2025-03-15. P3 A4 (manager referral, 2025-01-15) rejected.
  P4 A5 (walk-in, 2025-06-25) decided only on 2025-07-02 (after D).
* M2 (branch B1, tier 3). P6 A7 (online, 2024-10-01) → L7 100,000 at 7%: first interest
  (due 2024-11-05) never paid. P7 A8 (walk-in, 2024-11-01) → L8 400,000 at 4%, paid.
* M3 (branch B2, tier 1): no business. M9 is hired after D.
* After D: P5 A6 (online, 2025-07-10) → L6 starting 2025-07-20.

``build(con, cut=True)`` leaves out everything the bank learned after D.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from xiaowei.staff.business_source import (
    BENCHMARKED,
    business_source,
    handover_effect,
    manager_vintage,
    origination_by_channel,
    peer_benchmarks,
)

D = dt.date
AS_OF = D(2025, 6, 30)
MANAGERS = [("M1", "B1", 2, D(2018, 1, 1)), ("M2", "B1", 3, D(2020, 1, 1)),
            ("M3", "B2", 1, D(2024, 1, 1)), ("M9", "B1", 1, D(2025, 9, 1))]
PARTIES = [("P1", D(2010, 1, 1)), ("P2", D(2024, 1, 1)), ("P3", D(2012, 1, 1)),
           ("P4", D(2012, 1, 1)), ("P5", D(2012, 1, 1)), ("P6", D(2015, 1, 1)),
           ("P7", D(2015, 1, 1))]
APPS = [  # app, party, manager, channel, applied, decision, decided
    ("A1", "P1", "M1", "walk_in", D(2024, 3, 1), "approve", D(2024, 3, 5)),
    ("A2", "P1", "M1", "renewal", D(2024, 9, 1), "approve", D(2024, 9, 3)),
    ("A3", "P2", "M1", "online", D(2024, 8, 1), "approve", D(2024, 8, 5)),
    ("A4", "P3", "M1", "manager_referral", D(2025, 1, 15), "reject", D(2025, 1, 20)),
    ("A5", "P4", "M1", "walk_in", D(2025, 6, 25), "approve", D(2025, 7, 2)),
    ("A6", "P5", "M1", "online", D(2025, 7, 10), "approve", D(2025, 7, 12)),
    ("A7", "P6", "M2", "online", D(2024, 10, 1), "approve", D(2024, 10, 3)),
    ("A8", "P7", "M2", "walk_in", D(2024, 11, 1), "approve", D(2024, 11, 3)),
]
LOANS = [  # loan, app, principal, rate, start, maturity
    ("L1", "A1", 100_000.0, 0.05, D(2024, 3, 10), D(2024, 9, 10)),
    ("L2", "A2", 200_000.0, 0.045, D(2024, 9, 5), D(2025, 9, 5)),
    ("L3", "A3", 300_000.0, 0.06, D(2024, 8, 10), D(2025, 8, 10)),
    ("L6", "A6", 50_000.0, 0.05, D(2025, 7, 20), D(2026, 7, 20)),
    ("L7", "A7", 100_000.0, 0.07, D(2024, 10, 5), D(2025, 10, 5)),
    ("L8", "A8", 400_000.0, 0.04, D(2024, 11, 5), D(2025, 11, 5)),
]
PAYMENTS = [  # loan, period, due, principal, interest, paid_on
    ("L1", 1, D(2024, 6, 10), 50_000.0, 0.0, D(2024, 6, 10)),
    ("L1", 2, D(2024, 9, 10), 50_000.0, 0.0, D(2024, 9, 10)),
    ("L2", 1, D(2024, 10, 5), 0.0, 750.0, D(2024, 10, 5)),
    ("L2", 2, D(2025, 9, 5), 200_000.0, 750.0, None),
    ("L3", 1, D(2024, 9, 10), 0.0, 1_500.0, D(2024, 9, 10)),
    ("L3", 2, D(2024, 10, 10), 0.0, 1_500.0, D(2024, 10, 25)),
    ("L3", 3, D(2024, 11, 10), 0.0, 1_500.0, D(2025, 7, 5)),
    ("L3", 4, D(2024, 12, 10), 0.0, 1_500.0, D(2025, 3, 15)),
    ("L3", 5, D(2025, 8, 10), 300_000.0, 1_500.0, None),
    ("L6", 1, D(2025, 8, 20), 0.0, 200.0, D(2025, 8, 20)),
    ("L7", 1, D(2024, 11, 5), 0.0, 600.0, None),
    ("L7", 2, D(2025, 10, 5), 100_000.0, 600.0, None),
    ("L8", 1, D(2024, 12, 5), 0.0, 1_300.0, D(2024, 12, 5)),
    ("L8", 2, D(2025, 11, 5), 400_000.0, 1_300.0, None),
]


def build(con: duckdb.DuckDBPyConnection, *, cut: bool = False) -> None:
    """The hand bank on ``con``; ``cut`` drops what became known after :data:`AS_OF`."""
    def known(day: dt.date | None) -> dt.date | None:
        return None if cut and day is not None and day > AS_OF else day

    apps = [a for a in APPS if not (cut and a[4] > AS_OF)]
    loans = [lo for lo in LOANS if not (cut and lo[4] > AS_OF)]
    ids = {lo[0] for lo in loans}
    pays = [p for p in PAYMENTS if p[0] in ids]
    party_of = {a[0]: a[1] for a in APPS}
    for schema in ("gov", "raw"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute("CREATE TABLE raw.bank_managers (manager_id VARCHAR, name VARCHAR, "
                "branch_id VARCHAR, risk_tier BIGINT, hired_on DATE)")
    con.executemany("INSERT INTO raw.bank_managers VALUES (?, '某某', ?, ?, ?)", MANAGERS)
    con.execute("CREATE TABLE gov.party_profile (party_id VARCHAR, party_type VARCHAR, "
                "established_on DATE, known_at DATE)")
    con.executemany("INSERT INTO gov.party_profile VALUES (?, 'enterprise', ?, ?)",
                    [(p, e, e) for p, e in PARTIES])
    con.execute("CREATE TABLE raw.bank_applications (application_no VARCHAR, applied_at "
                "TIMESTAMP, channel VARCHAR, product_intent VARCHAR, party_type VARCHAR, "
                "term_months BIGINT, manager_id VARCHAR, branch_id VARCHAR)")
    branch = {m: b for m, b, _, _ in MANAGERS}
    con.executemany("INSERT INTO raw.bank_applications VALUES (?, ?, ?, 'working_capital', "
                    "'enterprise', 12, ?, ?)",
                    [(a, dt.datetime.combine(day, dt.time(10)), ch, m, branch[m])
                     for a, _, m, ch, day, _, _ in apps])
    con.execute("CREATE TABLE gov.application (party_id VARCHAR, application_id VARCHAR, "
                "applied_on DATE, channel VARCHAR, decision VARCHAR, known_at DATE)")
    con.executemany("INSERT INTO gov.application VALUES (?, ?, ?, ?, ?, ?)",
                    [(p, a, day, ch, dec, day) for a, p, _, ch, day, dec, _ in apps])
    con.execute("CREATE TABLE raw.bank_decisions (application_no VARCHAR, decision VARCHAR, "
                "decided_at TIMESTAMP)")
    con.executemany("INSERT INTO raw.bank_decisions VALUES (?, ?, ?)",
                    [(a, dec, dt.datetime.combine(on, dt.time(15)))
                     for a, _, _, _, _, dec, on in apps if known(on) is not None])
    con.execute("CREATE TABLE raw.bank_loans (loan_no VARCHAR, application_no VARCHAR, "
                "annual_rate DOUBLE, term_months BIGINT, start_date DATE)")
    con.executemany("INSERT INTO raw.bank_loans VALUES (?, ?, ?, 12, ?)",
                    [(lo, a, r, s) for lo, a, _, r, s, _ in loans])
    con.execute("CREATE TABLE gov.loan (party_id VARCHAR, loan_id VARCHAR, principal_yuan "
                "DOUBLE, start_date DATE, maturity_date DATE, product_intent VARCHAR, "
                "known_at DATE)")
    con.executemany("INSERT INTO gov.loan VALUES (?, ?, ?, ?, ?, 'working_capital', ?)",
                    [(party_of[a], lo, p, s, m, s) for lo, a, p, _, s, m in loans])
    app_of = {lo: a for lo, a, *_ in LOANS}
    con.execute("CREATE TABLE gov.repayment (party_id VARCHAR, loan_id VARCHAR, period BIGINT, "
                "due_date DATE, principal_due_yuan DOUBLE, interest_due_yuan DOUBLE, "
                "paid_on DATE, known_at DATE)")
    con.executemany("INSERT INTO gov.repayment VALUES (?, ?, ?, ?, ?, ?, ?, DATE '2024-01-01')",
                    [(party_of[app_of[lo]], lo, k, due, pr, it, known(paid))
                     for lo, k, due, pr, it, paid in pays])
    con.execute("CREATE TABLE raw.bank_repayments (loan_no VARCHAR, period BIGINT, due_date "
                "DATE, principal_due_fen BIGINT, paid_on DATE)")
    con.executemany("INSERT INTO raw.bank_repayments VALUES (?, ?, ?, ?, ?)",
                    [(lo, k, due, round(pr * 100), known(paid))
                     for lo, k, due, pr, _, paid in pays])


@pytest.fixture(scope="module")
def figures() -> dict[str, dict]:
    con = duckdb.connect()
    build(con)
    return {r["manager_id"]: r for r in business_source(con, AS_OF).to_pylist()}


def test_one_row_per_manager_hired_by_the_day(figures: dict[str, dict]) -> None:
    assert sorted(figures) == ["M1", "M2", "M3"]
    assert figures["M1"]["branch_id"] == "B1" and figures["M1"]["risk_tier"] == 2


def test_new_customers_by_channel_and_conversion(figures: dict[str, dict]) -> None:
    m1 = figures["M1"]
    # In the window: A2, A3, A4, A5; decided by D: A2, A3, A4; approved A2, A3.
    assert (m1["applications"], m1["decided"], m1["approved"]) == (4, 3, 2)
    assert m1["conversion_rate"] == pytest.approx(2 / 3)
    # New: P2 (online), P3 (referral), P4 (walk-in); P1's first application was before.
    assert m1["new_customers"] == 3
    assert (m1["new_online"], m1["new_manager_referral"], m1["new_walk_in"],
            m1["new_supply_chain"]) == (1, 1, 1, 0)
    assert m1["new_conversion_rate"] == pytest.approx(1 / 2)  # P2 approved, P3 rejected
    assert (figures["M2"]["conversion_rate"], figures["M2"]["new_customers"]) == (1.0, 2)
    assert (m1["loans_booked"], m1["booked_yuan"]) == (2, 500_000.0)


def test_channel_breakdown_table() -> None:
    con = duckdb.connect()
    build(con)
    rows = {(r["manager_id"], r["channel"]): r
            for r in origination_by_channel(con, AS_OF).to_pylist()}
    assert rows[("M1", "renewal")]["applications"] == 1
    assert rows[("M1", "renewal")]["new_customers"] == 0
    assert rows[("M1", "manager_referral")]["approved"] == 0
    assert rows[("M1", None)]["applications"] == 4  # the manager's total row


def test_renewal_recovery_and_npl_cash(figures: dict[str, dict]) -> None:
    m1, m2 = figures["M1"], figures["M2"]
    # L1 matured 2024-09-10 in good standing; P1's L2 started 5 days before: renewed.
    assert (m1["eligible_matured"], m1["renewed"], m1["renewal_rate"]) == (1, 1, 1.0)
    assert m2["renewal_rate"] is None
    # Overdue in (2024-05-31, 2025-05-31]: L3's 10-10, 11-10, 12-10 (1,500 each); the 11-10
    # one is paid only after D, so 3,000 of 4,500 came back.
    assert (m1["overdue_yuan"], m1["recovered_yuan"]) == (4_500.0, 3_000.0)
    assert m1["recovery_rate"] == pytest.approx(2 / 3)
    assert m2["recovery_rate"] == 0.0  # L7's 600 never paid
    # L3 is 90 days past due on 2025-02-08 (11-10 + 90) with 300,000 out; 1,500 paid after.
    assert (m1["npl_loans"], m1["npl_balance_yuan"], m1["npl_cash_yuan"]) == \
        (1, 300_000.0, 1_500.0)
    assert m1["npl_cash_recovery_rate"] == pytest.approx(0.005)
    assert m2["npl_cash_recovery_rate"] == 0.0


def test_par_first_payment_default_and_mix(figures: dict[str, dict]) -> None:
    m1, m2 = figures["M1"], figures["M2"]
    # On D: L2 200,000 current, L3 300,000 232 days past due.
    assert (m1["outstanding_yuan"], m1["active_loans"]) == (500_000.0, 2)
    assert (m1["par30"], m1["par90"]) == (pytest.approx(0.6), pytest.approx(0.6))
    assert (m2["par30"], m2["par90"]) == (pytest.approx(0.2), pytest.approx(0.2))
    # First instalments whose 30 days ran out in the window: L1, L2, L3 all paid; L7 not.
    assert (m1["fpd_loans"], m1["fpd_rate"]) == (3, 0.0)
    assert (m2["fpd_loans"], m2["fpd_defaults"], m2["fpd_rate"]) == (2, 1, 0.5)
    assert m1["top1_share"] == pytest.approx(0.6) and m2["top1_share"] == pytest.approx(0.8)
    assert m1["young_share"] == pytest.approx(0.6)  # P2 was seven months old
    assert m1["avg_rate"] == pytest.approx((200_000 * 0.045 + 300_000 * 0.06) / 500_000)


def test_vintage_by_originating_manager(figures: dict[str, dict]) -> None:
    m1, m2 = figures["M1"], figures["M2"]
    # ≥ 6 months on book by 2025-06: L1, L2, L3; L3 was 51 days past due on 2024-12-31.
    assert (m1["vintage_loans_mob6"], m1["vintage30_mob6"]) == (3, pytest.approx(1 / 3))
    assert (m1["vintage_loans_mob12"], m1["vintage90_mob12"]) == (1, 0.0)  # L1 only
    assert (m2["vintage_loans_mob6"], m2["vintage30_mob6"]) == (2, 0.5)
    assert m2["vintage90_mob12"] is None
    con = duckdb.connect()
    build(con)
    curves = manager_vintage(con, AS_OF, cohort="month")
    assert set(curves["manager_id"].to_pylist()) == {"M1", "M2"}


def test_a_manager_without_business(figures: dict[str, dict]) -> None:
    m3 = figures["M3"]
    assert (m3["applications"], m3["booked_yuan"], m3["par30"], m3["fpd_rate"]) == \
        (0, 0.0, None, None)
    assert m3["handed_over_loans"] is None and m3["handover_shock"] is None


def test_peers_of_the_same_branch(figures: dict[str, dict]) -> None:
    m1, m2, m3 = figures["M1"], figures["M2"], figures["M3"]
    assert (m1["peer_group"], m1["peers"], m3["peers"]) == ("B1", 2, 1)
    assert m1["par30_peer_median"] == pytest.approx(0.4)
    assert (m1["par30_pct"], m2["par30_pct"]) == (75.0, 25.0)
    assert (m1["par30_z"], m2["par30_z"]) == (pytest.approx(1.0), pytest.approx(-1.0))
    assert m3["new_customers_pct"] == 50.0 and m3["new_customers_z"] is None
    assert m3["par30_pct"] is None  # no figure, no rank
    for name in BENCHMARKED:
        assert f"{name}_peer_median" in m1 and f"{name}_z" in m1


def test_peers_by_branch_and_segment() -> None:
    table = pa.table({"manager_id": ["a", "b", "c"], "branch_id": ["B", "B", "B"],
                      "segment": ["enterprise", "enterprise", "business_owner"],
                      "par30": [0.1, 0.3, 0.9]})
    out = peer_benchmarks(table, peer_by="branch_segment", figures=("par30",)).to_pylist()
    assert [r["peers"] for r in out] == [2, 2, 1]
    assert out[0]["par30_peer_median"] == pytest.approx(0.2)
    assert out[2]["par30_peer_median"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="peer_by"):
        con = duckdb.connect()
        build(con)
        business_source(con, AS_OF, peer_by="region")  # type: ignore[arg-type]


def test_rows_known_after_the_day_change_nothing() -> None:
    full, cut = duckdb.connect(), duckdb.connect()
    build(full)
    build(cut, cut=True)
    assert business_source(full, AS_OF).equals(business_source(cut, AS_OF))


def test_handover_effect_over_an_explicit_table() -> None:
    con = duckdb.connect()
    build(con)
    handovers = pa.table({"manager_from": ["M1", "M1"], "manager_to": ["M2", "M2"],
                          "party_id": ["P2", "P1"],
                          "day": [D(2024, 10, 31), D(2024, 10, 31)]})
    rows = handover_effect(con, handovers, AS_OF).to_pylist()
    # On 2024-10-31 L2 and L3 have balances and are current (10-10 paid on 10-25); 90 days
    # later L3 is 80 days past due (11-10 unpaid): one new 30+ loan of the two.
    assert len(rows) == 1
    r = rows[0]
    assert (r["loans"], r["outstanding_yuan"], r["par30_before"], r["new_30dpd"]) == \
        (2, 500_000.0, 0.0, 1)
    assert r["par30_after"] == pytest.approx(0.6)
    assert r["observed_until"] == D(2025, 1, 29)
    by_manager = {r["manager_id"]: r for r in business_source(
        con, AS_OF, handovers=handovers).to_pylist()}
    assert (by_manager["M1"]["handed_over_loans"], by_manager["M1"]["handover_shock"]) == \
        (2, 0.5)
    assert by_manager["M2"]["handed_over_loans"] == 0
    with pytest.raises(ValueError, match="loan_id or party_id"):
        handover_effect(con, pa.table({"manager_from": ["M1"], "manager_to": ["M2"],
                                       "day": [AS_OF]}), AS_OF)


def test_window_must_be_positive() -> None:
    con = duckdb.connect()
    build(con)
    with pytest.raises(ValueError, match="window_days"):
        business_source(con, AS_OF, window_days=0)
