"""Business-source analysis per customer manager (客户经理业务来源分析), as of one day.

Why per *originating* manager: pay and promotion tied to volume raise volume and defaults alike
(Agarwal & Ben-David 2018; DOMAIN.md §7), so each manager's business is shown with the quality
it brought, against peers of the same branch (and segment): a figure alone says little, a
figure beside the branch median says whether this manager is unusual. The manager of a loan is
the manager of its application (``raw.bank_applications.manager_id``; ``gov.application`` has
the same key); the simulator never reassigns portfolios, so hand-overs are measured over a table
the caller passes (:func:`handover_effect`).

Only what the bank knew on ``as_of`` counts: applications applied by then, decisions decided
by then, loans started by then, payments paid by then (a later ``paid_on`` is "unpaid"). Flow
figures cover the window ``(as_of − window_days, as_of]``; stock figures are as of the day.

Definitions (columns of :func:`business_source`, one row per manager hired by ``as_of``):

* ``applications``, ``decided``, ``approved``: applications applied in the window; of them,
  decided (approve / reject) by ``as_of``; approved. ``conversion_rate`` = approved ÷ decided.
* ``new_customers``: parties whose first application at the bank falls in the window (a
  renewal is never new); ``new_<channel>`` splits them by that application's channel;
  ``new_conversion_rate`` = new customers approved ÷ new customers decided.
* ``loans_booked``, ``booked_yuan``: loans started in the window.
* ``outstanding_yuan``, ``active_loans``: as of the day (the post-loan loan state).
* ``par30`` / ``par90``: outstanding of loans more than 30 / 90 days past due ÷ outstanding.
* ``renewal_rate`` = renewed ÷ eligible matured: loans maturing in the window shifted back by
  ``RENEWAL_GAP_DAYS`` (so each has had time to renew) and never more than
  ``GOOD_STANDING_DAYS`` late; renewed when the party started another loan from
  ``RENEWAL_BEFORE_DAYS`` before to ``RENEWAL_GAP_DAYS`` after the maturity — the churn
  definition of the customer operations (docs/simulator.md §9), copied, not imported.
* ``recovery_rate``: instalments that fell overdue (unpaid on the due date) with a due date in
  the window shifted back by ``RECOVERY_GRACE_DAYS``; amount paid by ``as_of`` ÷ amount due.
* ``npl_loans``, ``npl_balance_yuan``, ``npl_cash_yuan``, ``npl_cash_recovery_rate``: loans
  that reached 90 days past due on or before ``as_of`` (ever); principal outstanding on that
  day; cash (principal + interest of instalments) paid after it; cash ÷ balance. The simulator
  has no post-default recoveries yet, so on simulated banks it is 0 where defined.
* ``fpd_loans``, ``fpd_rate``: loans whose first instalment's 30 days ran out in the window;
  share whose first instalment was more than 30 days past due (first-payment default).
* ``vintage30_mob6`` / ``vintage90_mob12``: of the manager's loans at least 6 (12) months on
  book, the share ever 30+ (90+) days past due at a month-end by MOB 6 (12) — the post-loan
  vintage curves grouped by manager (:func:`manager_vintage`); ``vintage_loans_mob6`` behind it.
* ``top1_share``: the largest borrower's share of the outstanding (concentration);
  ``young_share``: outstanding to firms under two years old at disbursement;
  ``avg_rate``: balance-weighted annual rate (the price says how much risk was seen).
* Peers: ``segment`` is the party type most of the manager's applications have; the peer group
  is the branch (``peer_by="branch"``) or branch and segment; for each figure in
  :data:`BENCHMARKED`: ``<f>_peer_median``, ``<f>_pct`` (mid-rank percentile in the group,
  0–100, 50 alone; higher value → higher percentile whatever "good" means) and ``<f>_z``
  (population z-score; null with fewer than two peers).
* ``handed_over_loans`` / ``handover_shock``: with a ``handovers`` table, loans the manager
  handed over and the share that went 30+ days past due within ``HANDOVER_HORIZON_DAYS``
  (see :func:`handover_effect`); null without one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa

from xiaowei.entities.lending import Channel
from xiaowei.postloan.analytics.source import snapshot_source
from xiaowei.postloan.analytics.vintage import vintage_curves
from xiaowei.postloan.loan_state import fetch_arrow, loan_state, write_month_end_snapshots

WINDOW_DAYS = 365
RENEWAL_BEFORE_DAYS, RENEWAL_GAP_DAYS, GOOD_STANDING_DAYS = 30, 60, 30
RECOVERY_GRACE_DAYS = 30
FPD_DAYS, NPL_DAYS = 30, 90
HANDOVER_HORIZON_DAYS = 90
NEW_CHANNELS = tuple(c.value for c in Channel if c is not Channel.RENEWAL)
BENCHMARKED = ("new_customers", "booked_yuan", "conversion_rate", "renewal_rate",
               "recovery_rate", "par30", "par90", "fpd_rate", "vintage30_mob6",
               "npl_cash_recovery_rate")
"""Figures shown against the peer group (median, percentile, z-score)."""
PeerBy = Literal["branch", "branch_segment"]

_BASE = """
WITH apps AS (
    SELECT a.application_no, a.manager_id, a.channel, a.party_type,
           CAST(a.applied_at AS DATE) AS applied_on,
           coalesce(g.party_id, a.application_no) AS party_id
    FROM (SELECT DISTINCT ON (application_no) * FROM raw.bank_applications) a
    LEFT JOIN (SELECT DISTINCT ON (application_id) application_id, party_id
               FROM gov.application) g ON g.application_id = a.application_no
    WHERE CAST(a.applied_at AS DATE) <= $as_of),
decided AS (
    SELECT DISTINCT ON (application_no) application_no, decision FROM raw.bank_decisions
    WHERE decision IN ('approve', 'reject') AND CAST(decided_at AS DATE) <= $as_of),
loans AS (
    SELECT l.loan_id, l.party_id, l.principal_yuan, l.start_date, l.maturity_date,
           b.annual_rate, a.manager_id
    FROM gov.loan l
    JOIN (SELECT DISTINCT ON (loan_no) loan_no, application_no, annual_rate
          FROM raw.bank_loans) b ON b.loan_no = l.loan_id
    JOIN apps a USING (application_no)
    WHERE l.start_date <= $as_of),
pay AS (
    SELECT r.loan_id, r.period, r.due_date, r.principal_due_yuan, r.interest_due_yuan,
           CASE WHEN r.paid_on <= $as_of THEN r.paid_on END AS paid_on
    FROM gov.repayment r JOIN loans USING (loan_id))"""

_ORIGINATION = _BASE + """,
firsts AS (SELECT party_id, min(applied_on) AS first_on FROM apps GROUP BY party_id),
win AS (
    SELECT a.*, d.decision, a.applied_on = f.first_on AND a.channel <> 'renewal' AS is_new
    FROM apps a JOIN firsts f USING (party_id) LEFT JOIN decided d USING (application_no)
    WHERE a.applied_on > $start)
SELECT manager_id, channel, count(*) AS applications, count(decision) AS decided,
       count(*) FILTER (WHERE decision = 'approve') AS approved,
       count(DISTINCT party_id) FILTER (WHERE is_new) AS new_customers,
       count(DISTINCT party_id) FILTER (WHERE is_new AND decision IS NOT NULL) AS new_decided,
       count(DISTINCT party_id) FILTER (WHERE is_new AND decision = 'approve') AS new_approved
FROM win GROUP BY GROUPING SETS ((manager_id, channel), (manager_id))
ORDER BY manager_id, channel NULLS FIRST"""

_FLOWS = _BASE + """,
booked AS (
    SELECT manager_id, count(*) AS loans_booked, sum(principal_yuan) AS booked_yuan
    FROM loans WHERE start_date > $start GROUP BY manager_id),
late AS (
    SELECT loan_id, max(date_diff('day', due_date, coalesce(paid_on, $as_of))) AS worst
    FROM pay WHERE due_date <= $as_of GROUP BY loan_id),
eligible AS (
    SELECT l.loan_id, l.party_id, l.manager_id, l.maturity_date FROM loans l
    LEFT JOIN late USING (loan_id)
    WHERE l.maturity_date > $start - $gap AND l.maturity_date <= $as_of - $gap
      AND coalesce(late.worst, 0) <= $good_late),
renewal AS (
    SELECT e.manager_id, count(*) AS eligible_matured,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM loans n WHERE n.party_id = e.party_id AND n.loan_id <> e.loan_id
               AND n.start_date BETWEEN e.maturity_date - $before
                                    AND e.maturity_date + $gap)) AS renewed
    FROM eligible e GROUP BY e.manager_id),
overdue AS (
    SELECT l.manager_id, sum(p.principal_due_yuan + p.interest_due_yuan) AS overdue_yuan,
           coalesce(sum(p.principal_due_yuan + p.interest_due_yuan)
                    FILTER (WHERE p.paid_on IS NOT NULL), 0) AS recovered_yuan
    FROM pay p JOIN loans l USING (loan_id)
    WHERE p.due_date > $start - $grace AND p.due_date <= $as_of - $grace
      AND (p.paid_on IS NULL OR p.paid_on > p.due_date)
    GROUP BY l.manager_id),
npl_day AS (
    SELECT loan_id, min(due_date + $npl) AS npl_on FROM pay
    WHERE due_date + $npl <= $as_of AND (paid_on IS NULL OR paid_on > due_date + $npl)
    GROUP BY loan_id),
npl AS (
    SELECT l.manager_id, count(*) AS npl_loans,
           sum(l.principal_yuan - coalesce((SELECT sum(p.principal_due_yuan) FROM pay p
               WHERE p.loan_id = n.loan_id AND p.paid_on <= n.npl_on), 0)) AS npl_balance_yuan,
           sum(coalesce((SELECT sum(p.principal_due_yuan + p.interest_due_yuan) FROM pay p
               WHERE p.loan_id = n.loan_id AND p.paid_on > n.npl_on), 0)) AS npl_cash_yuan
    FROM npl_day n JOIN loans l USING (loan_id) GROUP BY l.manager_id),
firstpay AS (
    SELECT loan_id, due_date, paid_on FROM pay
    QUALIFY row_number() OVER (PARTITION BY loan_id ORDER BY period) = 1),
fpd AS (
    SELECT l.manager_id, count(*) AS fpd_loans,
           count(*) FILTER (WHERE f.paid_on IS NULL OR f.paid_on > f.due_date + $fpd)
               AS fpd_defaults
    FROM firstpay f JOIN loans l USING (loan_id)
    WHERE f.due_date + $fpd > $start AND f.due_date + $fpd <= $as_of
    GROUP BY l.manager_id),
segment AS (
    SELECT manager_id, mode() WITHIN GROUP (ORDER BY party_type) AS segment
    FROM apps GROUP BY manager_id),
ids AS (SELECT DISTINCT manager_id FROM apps)
SELECT ids.manager_id, s.segment, b.loans_booked, b.booked_yuan, r.eligible_matured,
       r.renewed, o.overdue_yuan, o.recovered_yuan, n.npl_loans, n.npl_balance_yuan,
       n.npl_cash_yuan, f.fpd_loans, f.fpd_defaults
FROM ids LEFT JOIN segment s USING (manager_id) LEFT JOIN booked b USING (manager_id)
LEFT JOIN renewal r USING (manager_id) LEFT JOIN overdue o USING (manager_id)
LEFT JOIN npl n USING (manager_id) LEFT JOIN fpd f USING (manager_id)
ORDER BY ids.manager_id"""

_STOCK = """
WITH s AS (SELECT * FROM {state} WHERE outstanding_yuan > 0),
rate AS (SELECT DISTINCT ON (loan_no) loan_no, annual_rate FROM raw.bank_loans),
born AS (SELECT party_id, max(established_on) AS established_on FROM gov.party_profile
         WHERE known_at IS NULL OR known_at <= $as_of GROUP BY party_id),
per_party AS (SELECT manager_id, party_id, sum(outstanding_yuan) AS o FROM s GROUP BY ALL)
SELECT s.manager_id, sum(s.outstanding_yuan) AS outstanding_yuan, count(*) AS active_loans,
       coalesce(sum(s.outstanding_yuan) FILTER (WHERE s.dpd > 30), 0)
           / sum(s.outstanding_yuan) AS par30,
       coalesce(sum(s.outstanding_yuan) FILTER (WHERE s.dpd > 90), 0)
           / sum(s.outstanding_yuan) AS par90,
       sum(s.outstanding_yuan * r.annual_rate) / nullif(sum(s.outstanding_yuan)
           FILTER (WHERE r.annual_rate IS NOT NULL), 0) AS avg_rate,
       coalesce(sum(s.outstanding_yuan) FILTER (
           WHERE date_diff('day', b.established_on, s.start_date) < 730), 0)
           / sum(s.outstanding_yuan) AS young_share,
       (SELECT max(o) FROM per_party p WHERE p.manager_id = s.manager_id)
           / sum(s.outstanding_yuan) AS top1_share
FROM s LEFT JOIN rate r ON r.loan_no = s.loan_id LEFT JOIN born b USING (party_id)
WHERE s.manager_id IS NOT NULL GROUP BY s.manager_id ORDER BY s.manager_id"""


def _params(as_of: dt.date, window_days: int) -> dict[str, Any]:
    if window_days < 1:
        raise ValueError(f"window_days must be ≥ 1, got {window_days}")
    return {"as_of": as_of, "start": as_of - dt.timedelta(days=window_days)}


def origination_by_channel(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                           window_days: int = WINDOW_DAYS) -> pa.Table:
    """Per manager and channel (and a ``channel`` NULL row per manager for the totals):
    ``applications, decided, approved, new_customers, new_decided, new_approved``."""
    return fetch_arrow(con, _ORIGINATION, _params(as_of, window_days))


def manager_vintage(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                    cohort: Literal["month", "quarter"] = "quarter") -> pa.Table:
    """The post-loan vintage curves (:func:`vintage_curves`) by originating manager, over
    month-end states up to ``as_of`` from the first month any loan was booked."""
    first = con.execute("SELECT min(start_date) FROM gov.loan WHERE start_date <= ?",
                        [as_of]).fetchone()
    if first is None or first[0] is None:
        return vintage_curves(con, loan_state(con, as_of).slice(0, 0), cohort=cohort,
                              by="manager")
    name = f"xw_staff_snaps_{uuid.uuid4().hex[:12]}"
    write_month_end_snapshots(con, first[0].replace(day=1), as_of, name, temporary=True)
    try:
        return vintage_curves(con, name, cohort=cohort, by="manager")
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _vintage_points(curves: pa.Table, mob: int, threshold: int) -> dict[str, tuple[int, int]]:
    """manager → (loans at least ``mob`` old, of them ever ``threshold``+ by ``mob``)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in curves.to_pylist():
        if row["mob"] == mob and row["manager_id"] is not None:
            out[row["manager_id"]][0] += row["loans"]
            out[row["manager_id"]][1] += row[f"ever_{threshold}_loans"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def _ratio(num: Any, den: Any) -> float | None:
    return None if num is None or not den else float(num) / float(den)


def business_source(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                    window_days: int = WINDOW_DAYS, peer_by: PeerBy = "branch",
                    handovers: pa.Table | None = None) -> pa.Table:
    """One row per manager hired by ``as_of`` (``raw.bank_managers``) with the figures of the
    module docstring, ordered by manager id."""
    if peer_by not in ("branch", "branch_segment"):
        raise ValueError(f"peer_by must be 'branch' or 'branch_segment', got {peer_by!r}")
    params = _params(as_of, window_days)
    rows: dict[str, dict[str, Any]] = {}
    for mid, branch, tier in con.execute(
            "SELECT DISTINCT ON (manager_id) manager_id, branch_id, risk_tier "
            "FROM raw.bank_managers WHERE hired_on IS NULL OR hired_on <= ? "
            "ORDER BY manager_id", [as_of]).fetchall():
        rows[mid] = {"manager_id": mid, "branch_id": branch, "risk_tier": tier}
    for r in origination_by_channel(con, as_of, window_days=window_days).to_pylist():
        row = rows.get(r["manager_id"])
        if row is None:
            continue
        if r["channel"] is None:
            row.update({k: r[k] for k in ("applications", "decided", "approved",
                                          "new_customers")})
            row["conversion_rate"] = _ratio(r["approved"], r["decided"])
            row["new_conversion_rate"] = _ratio(r["new_approved"], r["new_decided"])
        elif r["channel"] in NEW_CHANNELS:
            row[f"new_{r['channel']}"] = r["new_customers"]
    flows = fetch_arrow(con, _FLOWS, {**params, "before": RENEWAL_BEFORE_DAYS,
                                      "gap": RENEWAL_GAP_DAYS, "good_late": GOOD_STANDING_DAYS,
                                      "grace": RECOVERY_GRACE_DAYS, "npl": NPL_DAYS,
                                      "fpd": FPD_DAYS})
    for r in flows.to_pylist():
        row = rows.get(r["manager_id"])
        if row is None:
            continue
        row.update(r)
        row["renewal_rate"] = _ratio(r["renewed"], r["eligible_matured"])
        row["recovery_rate"] = _ratio(r["recovered_yuan"], r["overdue_yuan"])
        row["npl_cash_recovery_rate"] = _ratio(r["npl_cash_yuan"], r["npl_balance_yuan"])
        row["fpd_rate"] = _ratio(r["fpd_defaults"], r["fpd_loans"])
    with snapshot_source(con, loan_state(con, as_of)) as state:
        stock = fetch_arrow(con, _STOCK.format(state=state), {"as_of": as_of})
    for r in stock.to_pylist():
        if r["manager_id"] in rows:
            rows[r["manager_id"]].update(r)
    curves = manager_vintage(con, as_of, cohort="month")
    for mob, threshold, column in ((6, 30, "vintage30_mob6"), (12, 90, "vintage90_mob12")):
        for mid, (n, bad) in _vintage_points(curves, mob, threshold).items():
            if mid in rows:
                rows[mid][column] = _ratio(bad, n)
                rows[mid][f"vintage_loans_mob{mob}"] = n
    if handovers is not None:
        shocked: dict[str, int] = defaultdict(int)
        for row in rows.values():
            row["handed_over_loans"] = 0
        for r in handover_effect(con, handovers, as_of).to_pylist():
            if r["manager_from"] in rows:
                rows[r["manager_from"]]["handed_over_loans"] += r["loans"]
                shocked[r["manager_from"]] += r["new_30dpd"]
        for mid, row in rows.items():
            row["handover_shock"] = _ratio(shocked[mid], row["handed_over_loans"])
    table = _assemble(list(rows.values()))
    return peer_benchmarks(table, peer_by=peer_by)


_COUNTS = ("applications", "decided", "approved", "new_customers",
           *(f"new_{c}" for c in NEW_CHANNELS), "loans_booked", "eligible_matured", "renewed",
           "npl_loans", "fpd_loans", "fpd_defaults", "active_loans", "vintage_loans_mob6",
           "vintage_loans_mob12")
_AMOUNTS = ("booked_yuan", "outstanding_yuan", "overdue_yuan", "recovered_yuan",
            "npl_balance_yuan", "npl_cash_yuan")
_RATES = ("conversion_rate", "new_conversion_rate", "renewal_rate", "recovery_rate",
          "npl_cash_recovery_rate", "fpd_rate", "par30", "par90", "vintage30_mob6",
          "vintage90_mob12", "top1_share", "young_share", "avg_rate", "handover_shock")
COLUMNS = ("manager_id", "branch_id", "risk_tier", "segment", *_COUNTS, "handed_over_loans",
           *_AMOUNTS, *_RATES)
"""The figures' columns, before the peer columns :func:`peer_benchmarks` adds."""


def _assemble(rows: list[dict[str, Any]]) -> pa.Table:
    """Counts are 0 where nothing happened; amounts 0.0; rates null where undefined."""
    def col(name: str) -> pa.Array:
        values = [r.get(name) for r in rows]
        if name in _COUNTS:
            return pa.array([int(v or 0) for v in values], pa.int64())
        if name in _AMOUNTS:
            return pa.array([round(float(v or 0.0), 2) for v in values], pa.float64())
        if name in _RATES:
            return pa.array([None if v is None else float(v) for v in values], pa.float64())
        if name in ("risk_tier", "handed_over_loans"):  # null: unknown / no table given
            return pa.array([None if v is None else int(v) for v in values], pa.int64())
        return pa.array(values, pa.string())
    return pa.table({name: col(name) for name in COLUMNS})


def _percentile(values: np.ndarray, x: float) -> float:
    below, equal = float(np.sum(values < x)), float(np.sum(values == x))
    return 100.0 * (below + 0.5 * equal) / len(values)


def peer_benchmarks(table: pa.Table, *, peer_by: PeerBy = "branch",
                    figures: tuple[str, ...] = BENCHMARKED) -> pa.Table:
    """``table`` with ``peer_group``, ``peers`` and, per figure, ``<f>_peer_median``,
    ``<f>_pct`` and ``<f>_z`` over the managers of the same group (the manager included;
    peers whose figure is null are left out)."""
    branch = table["branch_id"].to_pylist()
    segment = table["segment"].to_pylist()
    groups = [f"{b}/{s}" if peer_by == "branch_segment" else str(b)
              for b, s in zip(branch, segment, strict=True)]
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    out = table.append_column("peer_group", pa.array(groups, pa.string()))
    out = out.append_column("peers", pa.array([len(members[g]) for g in groups], pa.int64()))
    for name in figures:
        values = table[name].to_pylist()
        median, pct, z = [], [], []
        for i, g in enumerate(groups):
            peer = np.array([values[j] for j in members[g] if values[j] is not None], float)
            x = values[i]
            median.append(float(np.median(peer)) if len(peer) else None)
            pct.append(None if x is None else _percentile(peer, float(x)))
            sd = float(np.std(peer)) if len(peer) >= 2 else None
            z.append(None if x is None or sd is None else
                     (0.0 if sd == 0 else (float(x) - float(np.mean(peer))) / sd))
        for suffix, data in (("peer_median", median), ("pct", pct), ("z", z)):
            out = out.append_column(f"{name}_{suffix}", pa.array(data, pa.float64()))
    return out


HANDOVER_COLUMNS = ("manager_from", "manager_to", "day", "loans", "outstanding_yuan",
                    "par30_before", "par30_after", "new_30dpd", "observed_until")


def handover_effect(con: duckdb.DuckDBPyConnection, handovers: pa.Table, as_of: dt.date, *,
                    horizon_days: int = HANDOVER_HORIZON_DAYS) -> pa.Table:
    """Rotation shock (DOMAIN.md §7): per hand-over (``manager_from``, ``manager_to``,
    ``loan_id`` or ``party_id``, ``day``) made by ``as_of``, the handed-over loans with a
    balance on ``day``, their PAR30 then and ``horizon_days`` later (or on ``as_of`` if
    sooner: ``observed_until``), and how many were ≤ 30 days past due on ``day`` and > 30 by
    then (``new_30dpd``) — bad news the previous manager had not reported yet.

    The simulator never hands portfolios over, so this runs on the table the bank passes."""
    names = set(handovers.column_names)
    if not {"manager_from", "manager_to", "day"} <= names or not names & {"loan_id",
                                                                          "party_id"}:
        raise ValueError("handovers needs manager_from, manager_to, day and loan_id or "
                         f"party_id; got {sorted(names)}")
    rows = [r for r in handovers.to_pylist() if r["day"] is not None and r["day"] <= as_of]
    states: dict[dt.date, dict[str, dict[str, Any]]] = {}

    def state(day: dt.date) -> dict[str, dict[str, Any]]:
        if day not in states:
            states[day] = {r["loan_id"]: r for r in loan_state(con, day).to_pylist()}
        return states[day]

    groups: dict[tuple[str, str, dt.date], set[str]] = defaultdict(set)
    for r in rows:
        before = state(r["day"])
        for lid, s in before.items():
            if s["outstanding_yuan"] > 0 and (lid == r.get("loan_id")
                                              or s["party_id"] == r.get("party_id")):
                groups[(r["manager_from"], r["manager_to"], r["day"])].add(lid)
    out: list[dict[str, Any]] = []
    for (src, dst, day), loans in sorted(groups.items()):
        until = min(day + dt.timedelta(days=horizon_days), as_of)
        before, after = state(day), state(until)
        bal = sum(before[lid]["outstanding_yuan"] for lid in loans)
        late_before = sum(before[lid]["outstanding_yuan"] for lid in loans
                          if before[lid]["dpd"] > 30)
        bal_after = sum(after[lid]["outstanding_yuan"] for lid in loans)
        late_after = sum(after[lid]["outstanding_yuan"] for lid in loans
                         if after[lid]["dpd"] > 30)
        new = sum(1 for lid in loans if before[lid]["dpd"] <= 30 < after[lid]["dpd"])
        out.append({"manager_from": src, "manager_to": dst, "day": day, "loans": len(loans),
                    "outstanding_yuan": round(bal, 2), "par30_before": _ratio(late_before, bal),
                    "par30_after": _ratio(late_after, bal_after), "new_30dpd": new,
                    "observed_until": until})
    schema = pa.schema([("manager_from", pa.string()), ("manager_to", pa.string()),
                        ("day", pa.date32()), ("loans", pa.int64()),
                        ("outstanding_yuan", pa.float64()), ("par30_before", pa.float64()),
                        ("par30_after", pa.float64()), ("new_30dpd", pa.int64()),
                        ("observed_until", pa.date32())])
    return pa.Table.from_pylist(out, schema=schema)


__all__ = ["BENCHMARKED", "COLUMNS", "HANDOVER_COLUMNS", "NEW_CHANNELS", "WINDOW_DAYS",
           "business_source", "handover_effect", "manager_vintage", "origination_by_channel",
           "peer_benchmarks"]
