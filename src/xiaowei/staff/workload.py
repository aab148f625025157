"""Workload per customer manager (工作负荷): hours a year from the one capacity model, customers
carried against the 200 target, and the risk tier each manager may handle.

Why from the capacity table (``origination/capacity.yaml``): "customers per manager" is only a
headcount until it is turned into hours (SIMULATOR.md §4) — and the same minutes must measure
every manager, both processes and the portfolio balancing (:mod:`xiaowei.customers.balancing`).
So nothing here has a figure of its own: hours = the table's figures × the manager's counts,
the counts being what the bank's records show over the last ``window_days`` (scaled to a year):

* due diligence: applications applied in the window × ``dd_hours`` at today's level
  (``capacity.traditional.dd_level``: the simulated bank visits every applicant);
* inspections: loan-years on book in the window (from start to maturity or settlement) ×
  today's on-site and off-site inspections a year × their hours;
* collection: instalments that fell due in the window and were not paid on the day ×
  ``collection_actions_per_late_instalment``, plus loans that reached 90 days past due in the
  window × ``collection_actions_per_default``, × ``collection_action_hours``;
* maintenance and servicing: each customer carried on ``as_of`` ×
  :func:`~xiaowei.customers.balancing.customer_hours` of its grade's visit interval (the
  customer batch's ``visit_every_days`` when it ran within 35 days, else today's
  ``maintenance_visits_per_year``).

``customers`` counts what manager matching counts: distinct parties with a balance or an open
application originated by the manager; the target is ``manager_matching.yaml``'s
``target_customers``. ``capacity_hours`` is the manager's customer hours a year
(``hours_per_year × customer_work_share``); ``kpi_customers`` what the KPI formula
(:func:`~xiaowei.origination.kpis.process_kpis`) says this manager's own mix of work allows.

Risk tier: the recorded ``risk_tier`` (1–3) is what matching uses today. The staff rating
recommends one (``recommended_tier``, a table of the staff pack); :func:`manager_risk_tier`
turns the two into the tier matching may use — never above the recorded one (a promotion is
a person's decision), lowered at once when the rating says so.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.customers.balancing import customer_hours
from xiaowei.customers.customer_tables import StaleCustomerDay, customer_days
from xiaowei.origination.capacity import Capacity, load_capacity
from xiaowei.origination.kpis import DEFAULT_DPD, process_kpis, traditional_decisions
from xiaowei.origination.manager_matching import load_rules as load_matching_rules
from xiaowei.postloan.analytics.source import snapshot_source
from xiaowei.postloan.loan_state import fetch_arrow, loan_state
from xiaowei.staff.business_source import WINDOW_DAYS

_COUNTS_SQL = """
WITH apps AS (
    SELECT DISTINCT ON (application_no) application_no, manager_id,
           CAST(applied_at AS DATE) AS applied_on
    FROM raw.bank_applications WHERE CAST(applied_at AS DATE) <= $as_of),
loans AS (
    SELECT l.loan_id, l.party_id, l.start_date, l.maturity_date, a.manager_id
    FROM gov.loan l
    JOIN (SELECT DISTINCT ON (loan_no) loan_no, application_no FROM raw.bank_loans) b
      ON b.loan_no = l.loan_id
    JOIN apps a USING (application_no) WHERE l.start_date <= $as_of),
pay AS (
    SELECT r.loan_id, r.due_date, CASE WHEN r.paid_on <= $as_of THEN r.paid_on END AS paid_on
    FROM gov.repayment r JOIN loans USING (loan_id)),
settled AS (
    SELECT loan_id, CASE WHEN count(paid_on) = count(*) THEN max(paid_on) END AS settled_on
    FROM pay GROUP BY loan_id),
years AS (
    SELECT l.manager_id, sum(greatest(0, date_diff('day',
               greatest(l.start_date, $start),
               least(l.maturity_date, coalesce(s.settled_on, l.maturity_date), $as_of))))
               / 365.0 AS loan_years
    FROM loans l LEFT JOIN settled s USING (loan_id) GROUP BY l.manager_id),
late AS (
    SELECT l.manager_id, count(*) AS late_instalments FROM pay p JOIN loans l USING (loan_id)
    WHERE p.due_date > $start AND p.due_date < $as_of
      AND (p.paid_on IS NULL OR p.paid_on > p.due_date)
    GROUP BY l.manager_id),
defaults AS (
    SELECT l.manager_id, count(*) AS defaults FROM (
        SELECT loan_id, min(due_date + $dpd) AS on_day FROM pay
        WHERE due_date + $dpd <= $as_of AND (paid_on IS NULL OR paid_on > due_date + $dpd)
        GROUP BY loan_id) d JOIN loans l USING (loan_id)
    WHERE d.on_day > $start GROUP BY l.manager_id),
applied AS (
    SELECT manager_id, count(*) AS applications FROM apps WHERE applied_on > $start
    GROUP BY manager_id)
SELECT m.manager_id, coalesce(a.applications, 0) AS applications,
       coalesce(y.loan_years, 0.0) AS loan_years,
       coalesce(t.late_instalments, 0) AS late_instalments, coalesce(d.defaults, 0) AS defaults
FROM (SELECT DISTINCT manager_id FROM raw.bank_managers) m
LEFT JOIN applied a USING (manager_id) LEFT JOIN years y USING (manager_id)
LEFT JOIN late t USING (manager_id) LEFT JOIN defaults d USING (manager_id)
ORDER BY m.manager_id"""

_CARRIED_SQL = """
WITH apps AS (
    SELECT DISTINCT ON (a.application_no) a.application_no, a.manager_id,
           coalesce(g.party_id, a.application_no) AS party_id
    FROM raw.bank_applications a
    LEFT JOIN gov.application g ON g.application_id = a.application_no
    WHERE CAST(a.applied_at AS DATE) <= $as_of),
open_apps AS (
    SELECT a.manager_id, a.party_id FROM apps a WHERE NOT EXISTS (
        SELECT 1 FROM raw.bank_decisions d WHERE d.application_no = a.application_no
        AND d.decision IN ('approve', 'reject') AND CAST(d.decided_at AS DATE) <= $as_of)),
balances AS (SELECT manager_id, party_id FROM {state} WHERE outstanding_yuan > 0)
SELECT DISTINCT manager_id, party_id FROM (SELECT * FROM open_apps UNION ALL
                                           SELECT * FROM balances)
WHERE manager_id IS NOT NULL ORDER BY manager_id, party_id"""

MAX_CUSTOMER_DAY_AGE = 35


def _visit_days(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int] | None:
    """party → the grade's visit interval from the latest fresh customer batch, or None."""
    try:
        days = customer_days(con, as_of, max_age_days=MAX_CUSTOMER_DAY_AGE,
                             columns=("party_id", "visit_every_days"))
    except StaleCustomerDay:
        return None
    return {p: int(v or 0) for p, v in zip(days["party_id"].to_pylist(),
                                          days["visit_every_days"].to_pylist(), strict=True)}


def kpi_customers(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                  capacity: Capacity) -> dict[str, float | None]:
    """manager → customers a manager could carry at this manager's own mix of work, by the
    KPI formula of the process comparison (the traditional decisions they originated)."""
    by_manager: dict[str, list[Any]] = defaultdict(list)
    for d in traditional_decisions(con, capacity, as_of):
        if d.manager_id is not None:
            by_manager[d.manager_id].append(d)
    heads = int(capacity.approvers.headcount.value)
    return {m: process_kpis(rows, capacity, heads).customers_per_manager
            for m, rows in by_manager.items()}


COLUMNS = ("manager_id", "branch_id", "risk_tier", "customers", "target_customers",
           "target_share", "applications", "dd_hours", "loan_years", "onsite_inspections",
           "offsite_inspections", "inspection_hours", "late_instalments", "defaults",
           "collection_actions", "collection_hours", "maintenance_basis", "maintenance_hours",
           "hours", "capacity_hours", "utilisation", "kpi_customers")


def manager_workload(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                     capacity: Capacity | None = None, target_customers: int | None = None,
                     window_days: int = WINDOW_DAYS) -> pa.Table:
    """One row per manager hired by ``as_of`` with the columns :data:`COLUMNS` (hours are per
    year; see the module docstring for every figure)."""
    if window_days < 1:
        raise ValueError(f"window_days must be ≥ 1, got {window_days}")
    capacity = capacity or load_capacity()
    target = target_customers if target_customers is not None else \
        load_matching_rules().target_customers
    if target < 1:
        raise ValueError(f"target_customers must be ≥ 1, got {target}")
    practice = capacity.traditional
    per_year = 365.0 / window_days
    params = {"as_of": as_of, "start": as_of - dt.timedelta(days=window_days),
              "dpd": DEFAULT_DPD}
    counts = {r["manager_id"]: r for r in fetch_arrow(con, _COUNTS_SQL, params).to_pylist()}
    with snapshot_source(con, loan_state(con, as_of)) as state:
        carried = con.execute(_CARRIED_SQL.format(state=state), {"as_of": as_of}).fetchall()
    parties: dict[str, list[str]] = defaultdict(list)
    for manager, party in carried:
        parties[manager].append(party)
    visits = _visit_days(con, as_of)
    default_every = round(365 / practice.maintenance_visits_per_year) \
        if practice.maintenance_visits_per_year else 0
    kpi = kpi_customers(con, as_of, capacity)
    ih = capacity.inspection_hours
    limit = capacity.manager_customer_hours
    out: list[dict[str, Any]] = []
    for manager, branch, tier in con.execute(
            "SELECT DISTINCT ON (manager_id) manager_id, branch_id, risk_tier "
            "FROM raw.bank_managers WHERE hired_on IS NULL OR hired_on <= ? "
            "ORDER BY manager_id", [as_of]).fetchall():
        c = counts.get(manager, {"applications": 0, "loan_years": 0.0,
                                 "late_instalments": 0, "defaults": 0})
        mine = parties.get(manager, [])
        dd = c["applications"] * capacity.dd_hours_for(practice.dd_level) * per_year
        onsite = c["loan_years"] * practice.onsite_inspections_per_year * per_year
        offsite = c["loan_years"] * practice.offsite_inspections_per_year * per_year
        inspection = onsite * ih.onsite.value + offsite * ih.offsite.value
        actions = (c["late_instalments"] * practice.collection_actions_per_late_instalment
                   + c["defaults"] * practice.collection_actions_per_default) * per_year
        collection = actions * capacity.collection_action_hours.value
        maintenance = sum(customer_hours(visits.get(p, default_every) if visits is not None
                                         else default_every, capacity) for p in mine)
        hours = dd + inspection + collection + maintenance
        out.append({
            "manager_id": manager, "branch_id": branch, "risk_tier": tier,
            "customers": len(mine), "target_customers": target,
            "target_share": len(mine) / target, "applications": c["applications"],
            "dd_hours": dd, "loan_years": float(c["loan_years"]),
            "onsite_inspections": onsite, "offsite_inspections": offsite,
            "inspection_hours": inspection, "late_instalments": c["late_instalments"],
            "defaults": c["defaults"], "collection_actions": actions,
            "collection_hours": collection,
            "maintenance_basis": "customer_day" if visits is not None else "traditional",
            "maintenance_hours": maintenance, "hours": hours, "capacity_hours": limit,
            "utilisation": hours / limit, "kpi_customers": kpi.get(manager)})
    schema = pa.schema([(n, pa.string()) if n in ("manager_id", "branch_id",
                                                  "maintenance_basis")
                        else (n, pa.int64()) if n in ("risk_tier", "customers",
                                                      "target_customers", "applications",
                                                      "late_instalments", "defaults")
                        else (n, pa.float64()) for n in COLUMNS])
    return pa.Table.from_pylist(out, schema=schema)


@dataclass(frozen=True)
class TierAdvice:
    """The risk tier manager matching may use for one manager, and why (zh / en)."""

    manager_id: str
    recorded: int
    recommended: int | None
    effective: int
    zh: str
    en: str


def manager_risk_tier(ratings: pa.Table, manager_id: str) -> TierAdvice:
    """The tier for ``manager_id`` from a ratings table (``ability.rate_managers``): the
    recorded ``risk_tier`` capped by ``recommended_tier`` (never raised: a promotion goes
    through a person). Matching's hook: use ``effective`` where it reads ``risk_tier``."""
    rows = [r for r in ratings.select(["manager_id", "risk_tier", "recommended_tier",
                                       "rating"]).to_pylist() if r["manager_id"] == manager_id]
    if not rows:
        raise LookupError(f"manager {manager_id!r} has no rating")
    r = rows[0]
    recorded, recommended = int(r["risk_tier"] or 1), r["recommended_tier"]
    if recommended is None or int(recommended) >= recorded:
        return TierAdvice(manager_id, recorded, recommended, recorded,
                          f"评级 {r['rating']}，维持风险等级 {recorded}",
                          f"rating {r['rating']}: risk tier {recorded} kept")
    effective = int(recommended)
    return TierAdvice(manager_id, recorded, effective, effective,
                      f"评级 {r['rating']}，风险等级由 {recorded} 降为 {effective}（待主管复核）",
                      f"rating {r['rating']}: risk tier lowered from {recorded} to "
                      f"{effective} (for the supervisor to confirm)")


def risk_tiers(ratings: pa.Table) -> dict[str, int]:
    """manager → effective tier for every rated manager (what matching would look up)."""
    return {m: manager_risk_tier(ratings, m).effective
            for m in ratings["manager_id"].to_pylist()}


__all__ = ["COLUMNS", "TierAdvice", "kpi_customers", "manager_risk_tier", "manager_workload",
           "risk_tiers"]
