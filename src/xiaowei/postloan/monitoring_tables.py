"""The monitoring batch's tables in the analytic store (schema ``postloan``).

Why its own module: the batch, the reports and the pages all read these tables, and a column
renamed in one place only would break the others quietly. A day is written in one transaction
that first deletes that day's rows, so a rerun replaces and never doubles; whether a warning
is *raised* today depends only on warnings raised on earlier days, so a rerun also raises the
same warnings again.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from xiaowei.postloan.loan_state import fetch_arrow
from xiaowei.postloan.warning_catalogue import WarningCatalogue

LEVEL_NAMES = ("none", "yellow", "orange", "red")

DDL = (
    "CREATE SCHEMA IF NOT EXISTS postloan",
    """CREATE TABLE IF NOT EXISTS postloan.warning (
        raised_on DATE NOT NULL, party_id VARCHAR NOT NULL, signal VARCHAR NOT NULL,
        level VARCHAR NOT NULL, level_rank TINYINT NOT NULL, value DOUBLE, threshold DOUBLE,
        respond_by TIMESTAMPTZ, inspection VARCHAR,
        PRIMARY KEY (raised_on, party_id, signal))""",
    """CREATE TABLE IF NOT EXISTS postloan.loan_day (
        as_of DATE NOT NULL, loan_id VARCHAR NOT NULL, party_id VARCHAR, product VARCHAR,
        branch_id VARCHAR, manager_id VARCHAR, dpd INTEGER, bucket VARCHAR,
        outstanding_yuan DOUBLE, track VARCHAR, stratum VARCHAR, inspection_mode VARCHAR,
        inspection_every_days INTEGER, inspection_due BOOLEAN, collection_step VARCHAR,
        pd_12m DOUBLE, worst_level TINYINT, reasons VARCHAR[], class VARCHAR,
        class_reasons VARCHAR[], stage TINYINT, ecl_yuan DOUBLE,
        PRIMARY KEY (as_of, loan_id))""",
)
LOAN_DAY_COLUMNS = (
    "loan_id", "party_id", "product", "branch_id", "manager_id", "dpd", "bucket",
    "outstanding_yuan", "track", "stratum", "inspection_mode", "inspection_every_days",
    "inspection_due", "collection_step", "pd_12m", "worst_level", "reasons", "class",
    "class_reasons", "stage", "ecl_yuan")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def new_warnings(con: duckdb.DuckDBPyConnection, hits: pa.Table, as_of: dt.date,
                 catalogue: WarningCatalogue) -> pa.Table:
    """Today's hits that count as raised: no warning for the same borrower and signal at the
    same level or worse in the ``reraise_after_days`` before today; with the response due."""
    cal = catalogue.calendar.calendar()
    con.register("pl_hits", hits)
    try:
        raised = fetch_arrow(con, """
            SELECT h.entity_id AS party_id, h.signal, h.level AS level_rank, h.value,
                   h.threshold
            FROM pl_hits h
            WHERE NOT EXISTS (
                SELECT 1 FROM postloan.warning w
                WHERE w.party_id = h.entity_id AND w.signal = h.signal
                  AND w.level_rank >= h.level AND w.raised_on < $day
                  AND w.raised_on > $day - CAST($days AS INTEGER))
            ORDER BY party_id, signal""", {"day": as_of,
                                           "days": catalogue.reraise_after_days})
    finally:
        con.unregister("pl_hits")
    # Raised at the start of the bank's working day (08:30 local) in which the batch ran.
    start = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(8, 30),
                                tzinfo=cal.zone)
    levels = [LEVEL_NAMES[int(x)] for x in raised["level_rank"].to_pylist()]
    due = {key: catalogue.levels[key].respond_within.due(start, cal)  # type: ignore[index]
           for key in set(levels)}
    return (raised.append_column("level", pa.array(levels, pa.string()))
            .append_column("respond_by", pa.array([due[k] for k in levels],
                                                  pa.timestamp("us", tz="UTC")))
            .append_column("inspection", pa.array(
                [catalogue.levels[k].inspection for k in levels],  # type: ignore[index]
                pa.string())))


def replace_day(con: duckdb.DuckDBPyConnection, as_of: dt.date, day: pa.Table,
                raised: pa.Table) -> None:
    """Write the day's loan rows and raised warnings, replacing that day's earlier rows."""
    con.register("pl_day", day.select(list(LOAN_DAY_COLUMNS)))
    con.register("pl_raised", raised)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM postloan.loan_day WHERE as_of = $d", {"d": as_of})
            con.execute("DELETE FROM postloan.warning WHERE raised_on = $d", {"d": as_of})
            columns = ", ".join(LOAN_DAY_COLUMNS)
            con.execute(f"INSERT INTO postloan.loan_day (as_of, {columns}) "
                        f"SELECT $d, {columns} FROM pl_day", {"d": as_of})
            con.execute("INSERT INTO postloan.warning (raised_on, party_id, signal, level, "
                        "level_rank, value, threshold, respond_by, inspection) "
                        "SELECT $d, party_id, signal, level, level_rank, value, threshold, "
                        "respond_by, inspection FROM pl_raised", {"d": as_of})
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("pl_day")
        con.unregister("pl_raised")
