"""The nightly staff batch (员工日批): signals, ratings, workload and alerts for a day, stored.

Why one batch and stored rows: the supervisor's pages, ``xiaowei staff show`` and the detection
figures must show the same answer for the same day, and a day's alerts must be comparable with
the days before (an alert is raised once, not every night while the signal lasts). So a run
computes everything the domain knows about each manager as of the day and stores it in the
analytic store's ``staff`` schema, one transaction per day; a rerun replaces that day.

* ``staff.signal`` — the behaviour signals that hold a level (:mod:`behaviour_signals`);
* ``staff.manager_day`` — rating and radar (:mod:`ability`), workload against the 200 target
  (:mod:`workload`), business-source figures (:mod:`business_source`), the day's alert level;
* ``staff.alert`` — per manager, the signals at alert level (:data:`ALERT_LEVELS`) with
  ``new`` true when the manager had no alert at that level or worse in the
  :data:`REPEAT_DAYS` days before — only new alerts open supervisor tasks.

Events posted by the mobile app (transactional store, :mod:`event_intake`) join the bank's
loaded events through :func:`behaviour_signals.event_views` when an engine is given.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine

from xiaowei.staff.ability import rate_managers
from xiaowei.staff.behaviour_signals import event_views, manager_signals
from xiaowei.staff.business_source import business_source
from xiaowei.staff.signal_catalogue import load_signal_catalogue
from xiaowei.staff.workload import manager_workload

Progress = Callable[[str, int, int], None]
SCHEMA = "staff"
ALERT_LEVELS = ("orange", "red")
"""Signal levels that alert a supervisor (高危); yellow signals are shown, not alerted."""
LEVEL_RANK = {"none": 0, "yellow": 1, "orange": 2, "red": 3}
COLLUSION_VERDICT = ("collusion_suspected", "red")
"""The signal and level that say "suspected of colluding" (疑似内外勾结): the manager's shared-
identifier groups combined with the manager's own conduct on them (signals.yaml)."""
REPEAT_DAYS = 90
"""An alert at a level is new unless the manager had one at that level or worse this long ago."""

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.signal (
    as_of DATE, manager_id VARCHAR, signal VARCHAR, category VARCHAR, level VARCHAR,
    value DOUBLE, threshold DOUBLE, n_events BIGINT, evidence VARCHAR, name_zh VARCHAR,
    name_en VARCHAR);
CREATE TABLE IF NOT EXISTS {SCHEMA}.manager_day (
    as_of DATE, manager_id VARCHAR, branch_id VARCHAR, rating VARCHAR, rating_zh VARCHAR,
    score DOUBLE, dim_volume DOUBLE, dim_quality DOUBLE, dim_risk DOUBLE, dim_conduct DOUBLE,
    dim_professional DOUBLE, dim_workload DOUBLE, driver_zh VARCHAR, assessment_zh VARCHAR,
    customers BIGINT, target_customers BIGINT, hours DOUBLE, capacity_hours DOUBLE,
    utilisation DOUBLE, recorded_tier BIGINT, recommended_tier BIGINT, par30 DOUBLE,
    par90 DOUBLE, fpd_rate DOUBLE, renewal_rate DOUBLE, conversion_rate DOUBLE,
    new_customers BIGINT, outstanding_yuan DOUBLE, alert_level VARCHAR,
    collusion_suspected BOOLEAN);
CREATE TABLE IF NOT EXISTS {SCHEMA}.alert (
    as_of DATE, manager_id VARCHAR, branch_id VARCHAR, level VARCHAR, categories VARCHAR,
    signals VARCHAR, new BOOLEAN);
"""

MANAGER_DAY_COLUMNS = (
    "as_of", "manager_id", "branch_id", "rating", "rating_zh", "score", "dim_volume",
    "dim_quality", "dim_risk", "dim_conduct", "dim_professional", "dim_workload", "driver_zh",
    "assessment_zh", "customers", "target_customers", "hours", "capacity_hours", "utilisation",
    "recorded_tier", "recommended_tier", "par30", "par90", "fpd_rate", "renewal_rate",
    "conversion_rate", "new_customers", "outstanding_yuan", "alert_level",
    "collusion_suspected")
SIGNAL_COLUMNS = ("as_of", "manager_id", "signal", "category", "level", "value", "threshold",
                  "n_events", "evidence", "name_zh", "name_en")
ALERT_COLUMNS = ("as_of", "manager_id", "branch_id", "level", "categories", "signals", "new")


@dataclass
class StaffRun:
    """What one day's batch found and stored."""

    as_of: dt.date
    managers: int
    signals: int
    alerts: list[dict[str, Any]]
    ratings: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, Any] | None = None
    tier_caps: dict[str, int] | None = None  # manager → cap written (None: none written)

    @property
    def new_alerts(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a["new"]]

    def to_json(self) -> dict[str, Any]:
        by_level: dict[str, int] = {}
        for a in self.alerts:
            by_level[a["level"]] = by_level.get(a["level"], 0) + 1
        return {"as_of": self.as_of.isoformat(), "managers": self.managers,
                "signals": self.signals, "alerts": len(self.alerts),
                "new_alerts": len(self.new_alerts), "alerts_by_level": by_level,
                "collusion_suspected": sorted(a["manager_id"] for a in self.alerts
                                              if suspected(a)),
                "ratings": self.ratings, "seconds": self.seconds,
                **({"tasks": self.tasks} if self.tasks is not None else {}),
                **({"tier_caps": self.tier_caps} if self.tier_caps is not None else {})}


def suspected(alert: dict[str, Any]) -> bool:
    """Whether an alert carries the collusion verdict (:data:`COLLUSION_VERDICT`)."""
    return any((s["signal"], s["level"]) == COLLUSION_VERDICT for s in alert["signals"])


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def _register_app_events(con: duckdb.DuckDBPyConnection, engine: Engine | None) -> None:
    """The event views over the bank's tables and, with an engine, the app's posted events."""
    if engine is None:
        event_views(con)
        return
    from xiaowei.staff.event_intake import events_table

    def shaped(kind: str, columns: tuple[str, ...]) -> pa.Table | None:
        table = events_table(engine, kind)
        return table.select(list(columns)) if table.num_rows else None

    from xiaowei.staff.behaviour_signals import CHECKIN_COLUMNS, TRACK_COLUMNS
    operations = events_table(engine, "operation")
    event_views(con, extra_checkins=shaped("checkin", tuple(CHECKIN_COLUMNS)),
                extra_operations=operations if operations.num_rows else None,
                extra_tracks=shaped("track_point", tuple(TRACK_COLUMNS)))


def day_alerts(signals: pa.Table, branches: dict[str, str], earlier: dict[str, int]
               ) -> list[dict[str, Any]]:
    """Per manager, the signals at an alert level; ``earlier``: each manager's worst alert rank
    in the :data:`REPEAT_DAYS` before (a lower or equal level then makes today's not new)."""
    names = {s.name: s.en for s in load_signal_catalogue().signals}
    per: dict[str, list[dict[str, Any]]] = {}
    for r in signals.to_pylist():
        if r["level"] in ALERT_LEVELS:
            per.setdefault(r["manager_id"], []).append(r)
    out = []
    for manager, rows in sorted(per.items()):
        worst = max(rows, key=lambda r: LEVEL_RANK[r["level"]])["level"]
        listed = [{"signal": r["signal"], "category": r["category"], "level": r["level"],
                   "value": r["value"], "threshold": r["threshold"], "name_zh": r["name_zh"],
                   "name_en": names.get(r["signal"], r["signal"]),
                   "evidence": json.loads(r["evidence"] or "[]")}
                  for r in sorted(rows, key=lambda r: (-LEVEL_RANK[r["level"]], r["signal"]))]
        out.append({"manager_id": manager, "branch_id": branches.get(manager),
                    "level": worst,
                    "categories": ",".join(sorted({r["category"] for r in rows})),
                    "signals": listed,
                    "new": earlier.get(manager, 0) < LEVEL_RANK[worst]})
    return out


def _earlier_alerts(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    rows = con.execute(
        f"SELECT manager_id, level FROM {SCHEMA}.alert WHERE as_of < ? AND as_of >= ?",
        [as_of, as_of - dt.timedelta(days=REPEAT_DAYS)]).fetchall()
    worst: dict[str, int] = {}
    for manager, level in rows:
        worst[manager] = max(worst.get(manager, 0), LEVEL_RANK.get(level, 0))
    return worst


def _by_manager(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["manager_id"]: r for r in table.to_pylist()}


def _manager_days(as_of: dt.date, ratings: pa.Table, workload: pa.Table, business: pa.Table,
                  alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    w, b = _by_manager(workload), _by_manager(business)
    alerted = {a["manager_id"]: a for a in alerts}
    rows = []
    for r in ratings.to_pylist():
        m = r["manager_id"]
        wm, bm, alert = w.get(m, {}), b.get(m, {}), alerted.get(m)
        rows.append({
            "as_of": as_of, "manager_id": m, "branch_id": r["branch_id"],
            "rating": r["rating"], "rating_zh": r["rating_zh"], "score": r["score"],
            **{k: r[k] for k in ("dim_volume", "dim_quality", "dim_risk", "dim_conduct",
                                 "dim_professional", "dim_workload", "driver_zh",
                                 "assessment_zh")},
            "customers": wm.get("customers"), "target_customers": wm.get("target_customers"),
            "hours": wm.get("hours"), "capacity_hours": wm.get("capacity_hours"),
            "utilisation": wm.get("utilisation"), "recorded_tier": r["risk_tier"],
            "recommended_tier": r["recommended_tier"], "par30": bm.get("par30"),
            "par90": bm.get("par90"), "fpd_rate": bm.get("fpd_rate"),
            "renewal_rate": bm.get("renewal_rate"), "conversion_rate": bm.get("conversion_rate"),
            "new_customers": bm.get("new_customers"),
            "outstanding_yuan": bm.get("outstanding_yuan"),
            "alert_level": alert["level"] if alert else "none",
            "collusion_suspected": bool(alert and suspected(alert))})
    return rows


def write_tier_caps(engine: Engine, days: list[dict[str, Any]]) -> dict[str, int]:
    """Write the day's advice into ``customer_manager.staff_tier_cap`` (one transaction): the
    recommended tier where it is below the granted ``risk_tier``, else no cap — so matching
    (:mod:`xiaowei.origination.manager_matching`) never hands a manager cases above what their
    rating, portfolio quality and behaviour advise, and a cap lifts when the advice recovers.
    Managers the store does not know are left alone. Returns the caps now in force."""
    from sqlalchemy import select

    from xiaowei.store.database import transaction
    from xiaowei.store.tables import CustomerManager

    advice = {d["manager_id"]: d["recommended_tier"] for d in days}
    caps: dict[str, int] = {}
    with transaction(engine) as session:
        for manager in session.scalars(select(CustomerManager).where(
                CustomerManager.manager_id.in_(list(advice)))):
            tier = advice[manager.manager_id]
            cap = int(tier) if tier is not None and int(tier) < manager.risk_tier else None
            manager.staff_tier_cap = cap
            if cap is not None:
                caps[manager.manager_id] = cap
    return caps


def _store(con: duckdb.DuckDBPyConnection, as_of: dt.date, signals: list[dict[str, Any]],
           days: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
    """Replace the day's rows of the three tables in one transaction."""
    tables = (("signal", SIGNAL_COLUMNS, signals), ("manager_day", MANAGER_DAY_COLUMNS, days),
              ("alert", ALERT_COLUMNS, alerts))
    con.execute("BEGIN TRANSACTION")
    try:
        for name, columns, rows in tables:
            con.execute(f"DELETE FROM {SCHEMA}.{name} WHERE as_of = ?", [as_of])
            if rows:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"INSERT INTO {SCHEMA}.{name} ({', '.join(columns)}) "
                                f"VALUES ({marks})",
                                [[row.get(c) for c in columns] for row in rows])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def run_staff(con: duckdb.DuckDBPyConnection, as_of: dt.date, *, engine: Engine | None = None,
              open_tasks: bool = False, rate: bool = True,
              progress: Progress | None = None) -> StaffRun:
    """The staff batch for ``as_of`` (module docstring). ``engine``: the transactional store
    (the app's events; the supervisors' tasks with ``open_tasks``); ``rate`` False skips
    ratings, workload and business source (the detection backfill needs only signals and
    alerts)."""
    if open_tasks and engine is None:
        raise ValueError("open_tasks needs the transactional store (engine)")
    steps, started, seconds = 5, time.perf_counter(), {}

    def step(name: str, i: int) -> None:
        seconds[name] = round(time.perf_counter() - started - sum(seconds.values()), 2)
        if progress:
            progress("staff", i, steps)

    ensure_tables(con)
    _register_app_events(con, engine)
    signals = manager_signals(con, as_of)
    step("signals", 1)
    branches = dict(con.execute(
        "SELECT manager_id, any_value(branch_id) FROM raw.bank_managers GROUP BY 1").fetchall())
    alerts = day_alerts(signals, branches, _earlier_alerts(con, as_of))
    names = {s.name: s.en for s in load_signal_catalogue().signals}
    signal_rows = [{**r, "as_of": as_of, "name_en": names.get(r["signal"], r["signal"])}
                   for r in signals.to_pylist()]
    days: list[dict[str, Any]] = []
    ratings: dict[str, int] = {}
    if rate:
        workload = manager_workload(con, as_of)
        business = business_source(con, as_of)
        step("workload_and_business", 2)
        rated = rate_managers(con, as_of, signals=signals, business=business,
                              workload=workload)
        step("ratings", 3)
        days = _manager_days(as_of, rated, workload, business, alerts)
        for r in rated["rating"].to_pylist():
            ratings[r] = ratings.get(r, 0) + 1
    store_alerts = [{**a, "as_of": as_of, "signals": json.dumps(a["signals"],
                                                                 ensure_ascii=False)}
                    for a in alerts]
    _store(con, as_of, signal_rows, days, store_alerts)
    step("store", 4)
    capped = write_tier_caps(engine, days) if rate and engine is not None else None
    tasks = None
    if open_tasks and engine is not None:
        from xiaowei.staff.alert_tasks import open_alert_tasks

        tasks = open_alert_tasks(engine, [a for a in store_alerts if a["new"]], as_of)
    step("tasks", steps)
    managers = len(branches)
    return StaffRun(as_of, managers, signals.num_rows, alerts, ratings, seconds, tasks, capped)


__all__ = ["ALERT_LEVELS", "COLLUSION_VERDICT", "REPEAT_DAYS", "SCHEMA", "StaffRun",
           "day_alerts", "ensure_tables", "run_staff", "suspected", "write_tier_caps"]
