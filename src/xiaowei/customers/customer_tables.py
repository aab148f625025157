"""The customer batch's tables in the analytic store (schema ``customers``), and the one way to
read them.

Why its own module: the batch writes them; the pages, the offers, retention, the staff
reports and the comparison with the traditional operation read them. A column renamed in one
place only would break the others quietly, and a reader that forgot to check the day's age
would send an offer on last quarter's grade. Tables:

* ``customer_day`` — one row per customer and day (:data:`DAY_COLUMNS`);
* ``lifecycle_event`` — one row per change of life-cycle stage;
* ``run`` — one row per day run (what the day found, which pack, how fresh the data was).

A day is written in one transaction that first deletes that day's rows: a rerun replaces and
never doubles.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.postloan.loan_state import fetch_arrow

DEFAULT_MAX_AGE_DAYS = 7
"""A stored day older than this (relative to the as-of asked for) is stale: refused."""

DDL = (
    "CREATE SCHEMA IF NOT EXISTS customers",
    """CREATE TABLE IF NOT EXISTS customers.customer_day (
        as_of DATE NOT NULL, party_id VARCHAR NOT NULL, party_type VARCHAR,
        grade VARCHAR NOT NULL, value_score DOUBLE, value_band VARCHAR,
        points_balance TINYINT, points_deposits TINYINT, points_contribution TINYINT,
        points_products TINYINT, points_growth TINYINT,
        risk_level VARCHAR, risk_source VARCHAR, postloan_as_of DATE,
        lifecycle_stage VARCHAR NOT NULL, previous_stage VARCHAR, stage_since DATE,
        visit_every_days INTEGER, manager_tier VARCHAR, service_package VARCHAR,
        pricing_latitude_bp INTEGER,
        balance_yuan DOUBLE, loan_rate DOUBLE, dpd INTEGER, open_loans INTEGER,
        days_to_maturity INTEGER, deposit_balance_yuan DOUBLE, deposit_avg_6m_yuan DOUBLE,
        inflow_12m_yuan DOUBLE, contribution_yuan DOUBLE, products_held INTEGER,
        related_parties INTEGER, group_exposure_yuan DOUBLE, group_deposits_yuan DOUBLE,
        manager_id VARCHAR, branch_id VARCHAR, last_visit_on DATE, visit_due BOOLEAN,
        reasons VARCHAR[], pack_version VARCHAR,
        PRIMARY KEY (as_of, party_id))""",
    """CREATE TABLE IF NOT EXISTS customers.lifecycle_event (
        as_of DATE NOT NULL, party_id VARCHAR NOT NULL, from_stage VARCHAR,
        to_stage VARCHAR NOT NULL, grade VARCHAR, manager_id VARCHAR,
        PRIMARY KEY (as_of, party_id))""",
    """CREATE TABLE IF NOT EXISTS customers.run (
        as_of DATE PRIMARY KEY, data_as_of DATE, customers BIGINT, events BIGINT,
        pack_name VARCHAR, pack_version VARCHAR, summary JSON)""",
)

DAY_COLUMNS = (
    "party_id", "party_type", "grade", "value_score", "value_band", "points_balance",
    "points_deposits", "points_contribution", "points_products", "points_growth",
    "risk_level", "risk_source", "postloan_as_of", "lifecycle_stage", "previous_stage",
    "stage_since", "visit_every_days", "manager_tier", "service_package",
    "pricing_latitude_bp", "balance_yuan", "loan_rate", "dpd", "open_loans",
    "days_to_maturity", "deposit_balance_yuan", "deposit_avg_6m_yuan", "inflow_12m_yuan",
    "contribution_yuan", "products_held", "related_parties", "group_exposure_yuan",
    "group_deposits_yuan", "manager_id", "branch_id", "last_visit_on", "visit_due", "reasons",
    "pack_version",
)
"""The columns of ``customers.customer_day`` after ``as_of``, in order."""


class StaleCustomerDay(LookupError):
    """No stored customer day recent enough for the as-of asked for; ``reasons`` say why."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


class UnknownCustomer(LookupError):
    """The party has no stored customer day (not a customer, or never run)."""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'customers' "
                        "AND table_name IN ('customer_day', 'lifecycle_event', 'run')"
                        ).fetchall()
    return found[0][0] == 3


def replace_day(con: duckdb.DuckDBPyConnection, as_of: dt.date, day: pa.Table,
                events: pa.Table, run: dict[str, Any]) -> None:
    """Write the day's customer rows, events and run row, replacing that day's earlier ones."""
    con.register("cu_day", day.select(list(DAY_COLUMNS)))
    con.register("cu_events", events)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for table in ("customer_day", "lifecycle_event", "run"):
                con.execute(f"DELETE FROM customers.{table} WHERE as_of = ?", [as_of])
            columns = ", ".join(DAY_COLUMNS)
            con.execute(f"INSERT INTO customers.customer_day (as_of, {columns}) "
                        f"SELECT $d, {columns} FROM cu_day", {"d": as_of})
            con.execute("INSERT INTO customers.lifecycle_event (as_of, party_id, from_stage, "
                        "to_stage, grade, manager_id) SELECT $d, party_id, from_stage, "
                        "to_stage, grade, manager_id FROM cu_events", {"d": as_of})
            con.execute("INSERT INTO customers.run VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [as_of, run["data_as_of"], run["customers"], run["events"],
                         run["pack_name"], run["pack_version"],
                         json.dumps(run["summary"], ensure_ascii=False, default=str)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("cu_day")
        con.unregister("cu_events")


def latest_day(con: duckdb.DuckDBPyConnection, as_of: dt.date,
               max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> dt.date:
    """The latest batch day on or before ``as_of``; :class:`StaleCustomerDay` when there is
    none or it is more than ``max_age_days`` older than ``as_of``."""
    if max_age_days < 0:
        raise ValueError(f"max_age_days must be ≥ 0, got {max_age_days}")
    if not has_tables(con):
        raise StaleCustomerDay(["the customer batch has never run: run `xiaowei customers "
                                "run` first"])
    found = con.execute("SELECT max(as_of) FROM customers.run WHERE as_of <= ?",
                        [as_of]).fetchall()
    day = found[0][0]
    if day is None:
        raise StaleCustomerDay([f"no customer batch ran on or before {as_of}"])
    age = (as_of - day).days
    if age > max_age_days:
        raise StaleCustomerDay([f"the latest customer batch on or before {as_of} ran for "
                                f"{day}, {age} days earlier (limit {max_age_days}): its "
                                f"grades and stages are stale"])
    return day


def customer_days(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                  max_age_days: int = DEFAULT_MAX_AGE_DAYS,
                  columns: tuple[str, ...] = DAY_COLUMNS) -> pa.Table:
    """Every customer's grade, stage and strategy as of ``as_of``: the rows of the latest
    batch day on or before it (refused when stale, see :func:`latest_day`), with ``as_of``
    (the batch day) first, ordered by party."""
    day = latest_day(con, as_of, max_age_days)
    bad = sorted(set(columns) - set(DAY_COLUMNS))
    if bad:
        raise ValueError(f"unknown customer_day columns {bad}")
    return fetch_arrow(con, f"SELECT as_of, {', '.join(columns)} FROM customers.customer_day "
                            f"WHERE as_of = $d ORDER BY party_id", {"d": day})


def customer_day(con: duckdb.DuckDBPyConnection, party_id: str, as_of: dt.date, *,
                 max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> dict[str, Any]:
    """One customer's row of the latest batch day on or before ``as_of``;
    :class:`StaleCustomerDay` when that day is stale, :class:`UnknownCustomer` when the
    customer has no row on it."""
    day = latest_day(con, as_of, max_age_days)
    cursor = con.execute(f"SELECT as_of, {', '.join(DAY_COLUMNS)} FROM customers.customer_day "
                         "WHERE as_of = ? AND party_id = ?", [day, party_id])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        raise UnknownCustomer(f"{party_id!r} is not a customer on the batch day {day} "
                              f"(no account, application or loan known by then)")
    return dict(zip(names, rows[0], strict=True))


def run_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any] | None:
    """The stored summary of the day's run, or None."""
    if not has_tables(con):
        return None
    rows = con.execute("SELECT summary FROM customers.run WHERE as_of = ?", [as_of]).fetchall()
    return json.loads(rows[0][0]) if rows else None


__all__ = ["DAY_COLUMNS", "DDL", "DEFAULT_MAX_AGE_DAYS", "StaleCustomerDay", "UnknownCustomer",
           "customer_day", "customer_days", "ensure_tables", "has_tables", "latest_day",
           "replace_day", "run_summary"]
