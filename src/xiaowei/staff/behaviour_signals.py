"""Behaviour signals per customer manager for a day: location, cadence, operations, threshold
gaming and collusion (issue 9 point 2), in DuckDB SQL over the analytic store.

Why this shape:
* Every signal reads three event views — `staff_checkin`, `staff_operation`, `staff_track` —
  that union the bank's loaded tables with events posted by the mobile app (`event_views`), so
  a new source of events needs no change to any signal.
* Every figure and level rule comes from `signals.yaml` (`signal_catalogue.py`); this module
  only counts events and opportunities per manager. One generic step turns (events,
  opportunities) into a level: a rate relative to the manager's own volume and, where the
  catalogue asks, to the branch's other managers.
* Only what the bank knew by the end of `as_of` is read (applications by applied_at, decisions
  by decided_at, loans by start_date, events by their time), so a run for a past day gives
  the alerts the bank would have seen that day. Ground truth is never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.staff import collusion
from xiaowei.staff.geo import install_macros
from xiaowei.staff.signal_catalogue import (
    LEVELS,
    StaffSignal,
    StaffSignalCatalogue,
    load_signal_catalogue,
)

EVIDENCE_ITEMS = 5

# The event views and their columns; extra Arrow tables must carry exactly these columns
# (staff_operation's `stated_date` may be left out: an event with no stated date).
CHECKIN_COLUMNS = {
    "event_id": "VARCHAR", "manager_id": "VARCHAR", "occurred_at": "TIMESTAMP",
    "lat": "DOUBLE", "lon": "DOUBLE", "accuracy_m": "DOUBLE", "mock_location": "BOOLEAN",
    "device_id": "VARCHAR", "purpose": "VARCHAR", "application_no": "VARCHAR"}
OPERATION_COLUMNS = {
    "event_id": "VARCHAR", "manager_id": "VARCHAR", "occurred_at": "TIMESTAMP",
    "action": "VARCHAR", "object_type": "VARCHAR", "object_id": "VARCHAR", "field": "VARCHAR",
    "row_count": "BIGINT", "stated_date": "DATE"}
TRACK_COLUMNS = {
    "event_id": "VARCHAR", "manager_id": "VARCHAR", "occurred_at": "TIMESTAMP",
    "lat": "DOUBLE", "lon": "DOUBLE", "accuracy_m": "DOUBLE", "device_id": "VARCHAR"}
OPTIONAL_OPERATION_COLUMNS = ("stated_date",)

# The bank's own tables (raw.bank_<file>) behind each view, with their column names mapped.
BANK_EVENTS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "staff_checkin": [("bank_manager_checkins", {
        "event_id": "checkin_id", "occurred_at": "checked_at"})],
    "staff_operation": [
        ("bank_manager_operations", {"event_id": "operation_id", "occurred_at": "operated_at",
                                     "row_count": "NULL", "stated_date": "NULL"}),
        ("bank_manager_audit_log", {"occurred_at": "operated_at"})],
    "staff_track": [("bank_manager_tracks", {"event_id": "track_id",
                                             "occurred_at": "recorded_at"})],
}
VIEW_COLUMNS = {"staff_checkin": CHECKIN_COLUMNS, "staff_operation": OPERATION_COLUMNS,
                "staff_track": TRACK_COLUMNS}

RESULT_SCHEMA = pa.schema([
    ("manager_id", pa.string()), ("signal", pa.string()), ("level", pa.string()),
    ("value", pa.float64()), ("threshold", pa.float64()), ("n_events", pa.int64()),
    ("evidence", pa.string()), ("category", pa.string()), ("name_zh", pa.string()),
    ("n_base", pa.int64()), ("peer_value", pa.float64()), ("as_of", pa.date32())])


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchall()
    return bool(rows[0][0])


def event_views(con: duckdb.DuckDBPyConnection, extra_checkins: pa.Table | None = None,
                extra_operations: pa.Table | None = None,
                extra_tracks: pa.Table | None = None) -> None:
    """Create the TEMP views `staff_checkin`, `staff_operation`, `staff_track`: the bank's
    loaded tables (where present) plus the extra Arrow tables (events from the mobile app)."""
    extras = {"staff_checkin": extra_checkins, "staff_operation": extra_operations,
              "staff_track": extra_tracks}
    for view, columns in VIEW_COLUMNS.items():
        parts = []
        for table, renames in BANK_EVENTS[view]:
            if table_exists(con, "raw", table):
                cols = ", ".join(f"CAST({renames.get(c, c)} AS {t}) AS {c}"
                                 for c, t in columns.items())
                parts.append(f"SELECT {cols} FROM raw.{table}")
        extra = extras[view]
        if extra is not None:
            _check_extra(view, extra, columns)
            name = f"xw_extra_{view}"
            con.register(name, extra)
            cols = ", ".join(f"CAST({c if c in extra.column_names else 'NULL'} AS {t}) AS {c}"
                             for c, t in columns.items())
            parts.append(f"SELECT {cols} FROM {name}")
        if not parts:  # no source at all: an empty view of the right shape
            cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
            parts.append(f"SELECT {cols} WHERE false")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS " + " UNION ALL ".join(parts))


def _check_extra(view: str, extra: pa.Table, columns: dict[str, str]) -> None:
    names = set(extra.column_names)
    optional = set(OPTIONAL_OPERATION_COLUMNS) if view == "staff_operation" else set()
    missing = sorted(set(columns) - names - optional)
    unknown = sorted(names - set(columns))
    if missing or unknown:
        raise ValueError(f"extra events for {view} must have the columns "
                         f"{', '.join(columns)}; missing {missing}, unknown {unknown}")


def _views_exist(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name IN "
                       "('staff_checkin', 'staff_operation', 'staff_track')").fetchall()
    return rows[0][0] == 3


# --- what the bank knew by the end of as_of -------------------------------------------------

# Full-width digits and letters (as typed on some phones) → ASCII, before comparing identifiers.
_FULL = "".join(chr(c) for c in range(0xFF10, 0xFF1A)) + "".join(
    chr(c) for c in range(0xFF21, 0xFF3B)) + "".join(chr(c) for c in range(0xFF41, 0xFF5B))
_HALF = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NORMALISE_MACROS = (
    f"CREATE OR REPLACE TEMP MACRO xw_half(s) AS translate(s, '{_FULL}', '{_HALF}')",
    "CREATE OR REPLACE TEMP MACRO xw_key(s) AS "
    "nullif(upper(regexp_replace(xw_half(s), '[\\s\\-]', '', 'g')), '')",
    "CREATE OR REPLACE TEMP MACRO xw_phone(s) AS "
    "nullif(right(regexp_replace(xw_half(s), '[^0-9]', '', 'g'), 11), '')",
    "CREATE OR REPLACE TEMP MACRO xw_addr(s) AS "
    "nullif(upper(regexp_replace(xw_half(s), '\\s', '', 'g')), '')",
)

KNOWN_SQL = {
    "xw_staff_app": """
        SELECT a.application_no, a.manager_id, a.branch_id, a.applied_at,
               a.amount_fen, xw_phone(a.phone) AS phone_n, xw_key(a.device_id) AS device_n,
               xw_addr(a.address) AS address_n, xw_key(a.id_number) AS legal_rep_n,
               xw_key(a.uscc) IS NOT NULL AS is_firm,
               coalesce(xw_key(a.uscc), xw_key(a.id_number), a.application_no) AS applicant
        FROM raw.bank_applications a WHERE a.applied_at < $end""",
    "xw_staff_decision": """
        SELECT d.application_no, d.decision, d.decided_at FROM raw.bank_decisions d
        JOIN xw_staff_app USING (application_no)
        WHERE d.decided_at IS NOT NULL AND d.decided_at < $end""",
    "xw_staff_loan": """
        SELECT l.application_no, l.start_date, l.maturity_date FROM raw.bank_loans l
        JOIN xw_staff_app USING (application_no) WHERE l.start_date <= $as_of""",
    "xw_staff_geo": """
        SELECT g.application_no, g.lat, g.lon, g.precision_m FROM raw.bank_address_geocodes g
        JOIN xw_staff_app USING (application_no)""",
    "xw_staff_guarantor": """
        SELECT g.application_no, xw_key(g.guarantor_id) AS guarantor_n,
               xw_phone(g.guarantor_phone) AS guarantor_phone_n
        FROM raw.bank_application_guarantors g JOIN xw_staff_app USING (application_no)""",
}
EMPTY_KNOWN = {
    "xw_staff_geo": "SELECT NULL::VARCHAR application_no, NULL::DOUBLE lat, NULL::DOUBLE lon, "
                    "NULL::DOUBLE precision_m WHERE false",
    "xw_staff_guarantor": "SELECT NULL::VARCHAR application_no, NULL::VARCHAR guarantor_n, "
                          "NULL::VARCHAR guarantor_phone_n WHERE false",
}
KNOWN_SOURCES = {"xw_staff_app": "bank_applications", "xw_staff_decision": "bank_decisions",
                 "xw_staff_loan": "bank_loans", "xw_staff_geo": "bank_address_geocodes",
                 "xw_staff_guarantor": "bank_application_guarantors"}


def _known_tables(con: duckdb.DuckDBPyConnection, bounds: dict[str, Any]) -> None:
    for name, sql in KNOWN_SQL.items():
        if not table_exists(con, "raw", KNOWN_SOURCES[name]):
            if name not in EMPTY_KNOWN:
                raise ValueError(f"the analytic store has no raw.{KNOWN_SOURCES[name]}: load "
                                 "the bank's records first (xiaowei load)")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {EMPTY_KNOWN[name]}")
            continue
        used = {k: v for k, v in bounds.items() if f"${k}" in sql}
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", used)


# --- per-signal counts: (manager_id, n_events, n_base, evidence[, floor]) --------------------

IN_WINDOW = "{t}.occurred_at >= $start AND {t}.occurred_at < $end"
GEOFENCE_OK = ("xw_metres(c.lat, c.lon, g.lat, g.lon) <= $radius_m + coalesce(c.accuracy_m, 0) "
               "+ g.precision_m")

SIGNAL_SQL: dict[str, str] = {
    "geofence_miss": f"""
        WITH j AS (
          SELECT c.manager_id, c.event_id, NOT ({GEOFENCE_OK}) AS miss,
                 xw_metres(c.lat, c.lon, g.lat, g.lon) AS d
          FROM staff_checkin c JOIN xw_staff_geo g USING (application_no)
          WHERE {IN_WINDOW.format(t='c')} AND c.lat IS NOT NULL
            AND g.precision_m <= $max_geocode_precision_m)
        SELECT manager_id, count(*) FILTER (WHERE miss) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY d DESC) FILTER (WHERE miss) AS evidence
        FROM j GROUP BY manager_id""",
    "gps_integrity": f"""
        WITH c AS (SELECT * FROM staff_checkin c
                   WHERE {IN_WINDOW.format(t='c')} AND c.lat IS NOT NULL),
        rep AS (SELECT manager_id, lat, lon FROM c GROUP BY ALL
                HAVING count(DISTINCT occurred_at) > 1),
        j AS (SELECT c.*, coalesce(c.mock_location, false) OR r.lat IS NOT NULL AS suspect
              FROM c LEFT JOIN rep r USING (manager_id, lat, lon))
        SELECT manager_id, count(*) FILTER (WHERE suspect) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE suspect) AS evidence
        FROM j GROUP BY manager_id""",
    "impossible_travel": f"""
        WITH c AS (
          SELECT manager_id, event_id, occurred_at, lat, lon,
                 lag(occurred_at) OVER w AS prev_at, lag(lat) OVER w AS prev_lat,
                 lag(lon) OVER w AS prev_lon
          FROM staff_checkin c WHERE {IN_WINDOW.format(t='c')} AND c.lat IS NOT NULL
          WINDOW w AS (PARTITION BY manager_id ORDER BY occurred_at, event_id)),
        p AS (
          SELECT *, xw_metres(prev_lat, prev_lon, lat, lon) AS d,
                 epoch(occurred_at) - epoch(prev_at) AS secs
          FROM c WHERE prev_at IS NOT NULL
            AND epoch(occurred_at) - epoch(prev_at) <= $max_gap_hours * 3600),
        j AS (SELECT *, d > $min_distance_m AND xw_speed_kmh(d, secs) > $max_speed_kmh AS fast
              FROM p)
        SELECT manager_id, count(*) FILTER (WHERE fast) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE fast) AS evidence
        FROM j GROUP BY manager_id""",
    "path_not_covered": f"""
        WITH c AS (SELECT * FROM staff_checkin c
                   WHERE {IN_WINDOW.format(t='c')} AND c.lat IS NOT NULL),
        cov AS (
          SELECT DISTINCT c.event_id FROM c JOIN staff_track t
            ON t.manager_id = c.manager_id
           AND t.occurred_at >= c.occurred_at - to_minutes(CAST($lookback_minutes AS INTEGER))
           AND t.occurred_at <= c.occurred_at + INTERVAL 5 MINUTE AND t.occurred_at < $end
          WHERE xw_metres(t.lat, t.lon, c.lat, c.lon)
                <= $radius_m + coalesce(t.accuracy_m, 0) + coalesce(c.accuracy_m, 0)),
        j AS (SELECT c.*, cov.event_id IS NULL AS bare FROM c LEFT JOIN cov USING (event_id))
        SELECT manager_id, count(*) FILTER (WHERE bare) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE bare) AS evidence
        FROM j
        WHERE EXISTS (SELECT 1 FROM staff_track t WHERE {IN_WINDOW.format(t='t')})
        GROUP BY manager_id""",
    "no_visit_before_approval": f"""
        WITH ap AS (
          SELECT d.application_no, a.manager_id, d.decided_at FROM xw_staff_decision d
          JOIN xw_staff_app a USING (application_no)
          WHERE d.decision = 'approve' AND d.decided_at >= $start AND d.decided_at < $end),
        ok AS (
          SELECT DISTINCT ap.application_no FROM ap
          JOIN staff_checkin c ON c.application_no = ap.application_no
           AND c.manager_id = ap.manager_id AND c.occurred_at <= ap.decided_at
          LEFT JOIN xw_staff_geo g ON g.application_no = ap.application_no
          WHERE g.lat IS NULL OR g.precision_m > $max_geocode_precision_m OR {GEOFENCE_OK})
        SELECT manager_id, count(*) FILTER (WHERE ok.application_no IS NULL) AS n_events,
               count(*) AS n_base,
               list(ap.application_no ORDER BY decided_at)
                 FILTER (WHERE ok.application_no IS NULL) AS evidence
        FROM ap LEFT JOIN ok USING (application_no) GROUP BY manager_id""",
    "no_check_after_disbursement": f"""
        WITH due AS (
          SELECT l.application_no, a.manager_id, l.start_date FROM xw_staff_loan l
          JOIN xw_staff_app a USING (application_no)
          WHERE l.start_date + CAST($due_days AS INTEGER) <= $as_of
            AND l.start_date + CAST($due_days AS INTEGER) > CAST($start AS DATE)),
        ok AS (
          SELECT DISTINCT due.application_no FROM due
          JOIN staff_checkin c ON c.application_no = due.application_no
           AND c.manager_id = due.manager_id AND CAST(c.occurred_at AS DATE) > due.start_date
           AND CAST(c.occurred_at AS DATE) <= due.start_date + CAST($due_days AS INTEGER)
          LEFT JOIN xw_staff_geo g ON g.application_no = due.application_no
          WHERE g.lat IS NULL OR g.precision_m > $max_geocode_precision_m OR {GEOFENCE_OK})
        SELECT manager_id, count(*) FILTER (WHERE ok.application_no IS NULL) AS n_events,
               count(*) AS n_base,
               list(due.application_no ORDER BY start_date)
                 FILTER (WHERE ok.application_no IS NULL) AS evidence
        FROM due LEFT JOIN ok USING (application_no) GROUP BY manager_id""",
    "inspection_overdue": f"""
        WITH act AS (
          SELECT l.application_no, a.manager_id FROM xw_staff_loan l
          JOIN xw_staff_app a USING (application_no)
          WHERE l.start_date <= CAST($start AS DATE)
            AND (l.maturity_date IS NULL OR l.maturity_date > $as_of)),
        ok AS (
          SELECT DISTINCT act.application_no FROM act
          JOIN staff_checkin c ON c.application_no = act.application_no
           AND c.manager_id = act.manager_id AND {IN_WINDOW.format(t='c')}
          LEFT JOIN xw_staff_geo g ON g.application_no = act.application_no
          WHERE g.lat IS NULL OR g.precision_m > $max_geocode_precision_m OR {GEOFENCE_OK})
        SELECT manager_id, count(*) FILTER (WHERE ok.application_no IS NULL) AS n_events,
               count(*) AS n_base,
               list(act.application_no ORDER BY act.application_no)
                 FILTER (WHERE ok.application_no IS NULL) AS evidence
        FROM act LEFT JOIN ok USING (application_no) GROUP BY manager_id""",
    "contact_change_before_disbursement": """
        WITH lo AS (
          SELECT l.application_no, a.manager_id, a.applied_at, l.start_date FROM xw_staff_loan l
          JOIN xw_staff_app a USING (application_no)
          WHERE l.start_date >= CAST($start AS DATE) AND l.start_date <= $as_of),
        ed AS (
          SELECT DISTINCT lo.application_no FROM lo JOIN staff_operation o
            ON o.object_type = 'application' AND o.object_id = lo.application_no
           AND o.action = 'edit' AND list_contains($fields, o.field) AND o.occurred_at < $end
           AND CAST(o.occurred_at AS DATE) > CAST(lo.applied_at AS DATE)
           AND CAST(o.occurred_at AS DATE) <= lo.start_date
           AND CAST(o.occurred_at AS DATE) >= lo.start_date - CAST($days_before AS INTEGER))
        SELECT manager_id, count(*) FILTER (WHERE ed.application_no IS NOT NULL) AS n_events,
               count(*) AS n_base,
               list(lo.application_no ORDER BY start_date)
                 FILTER (WHERE ed.application_no IS NOT NULL) AS evidence
        FROM lo LEFT JOIN ed USING (application_no) GROUP BY manager_id""",
    "back_dated_entries": f"""
        WITH j AS (
          SELECT *, date_diff('day', stated_date, CAST(occurred_at AS DATE)) >= $min_days_back
                 AS late
          FROM staff_operation o WHERE {IN_WINDOW.format(t='o')} AND stated_date IS NOT NULL)
        SELECT manager_id, count(*) FILTER (WHERE late) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE late) AS evidence
        FROM j GROUP BY manager_id""",
    "bulk_exports": f"""
        WITH j AS (SELECT *, coalesce(row_count, 0) >= $min_rows AS bulk FROM staff_operation o
                   WHERE {IN_WINDOW.format(t='o')} AND action = 'export')
        SELECT manager_id, count(*) FILTER (WHERE bulk) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY row_count DESC) FILTER (WHERE bulk) AS evidence
        FROM j GROUP BY manager_id""",
    "after_hours_access": f"""
        WITH j AS (SELECT *, hour(occurred_at) >= $day_ends_hour
                             OR hour(occurred_at) < $day_starts_hour AS late
                   FROM staff_operation o WHERE {IN_WINDOW.format(t='o')})
        SELECT manager_id, count(*) FILTER (WHERE late) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE late) AS evidence
        FROM j GROUP BY manager_id""",
    "outside_portfolio_views": f"""
        WITH j AS (
          SELECT o.manager_id, o.event_id, o.occurred_at, a.manager_id <> o.manager_id AS outside
          FROM staff_operation o JOIN xw_staff_app a ON a.application_no = o.object_id
          WHERE {IN_WINDOW.format(t='o')} AND o.action = 'view'
            AND o.object_type = 'application')
        SELECT manager_id, count(*) FILTER (WHERE outside) AS n_events, count(*) AS n_base,
               list(event_id ORDER BY occurred_at) FILTER (WHERE outside) AS evidence
        FROM j GROUP BY manager_id""",
    "amount_bunching": """
        WITH a AS (SELECT * FROM xw_staff_app WHERE applied_at >= $start AND applied_at < $end),
        hit AS (
          SELECT DISTINCT a.application_no FROM a
          CROSS JOIN (SELECT unnest($authority_lines_yuan) * 100 AS line_fen) l
          WHERE a.amount_fen >= l.line_fen * (1 - $band) AND a.amount_fen < l.line_fen)
        SELECT manager_id, count(*) FILTER (WHERE hit.application_no IS NOT NULL) AS n_events,
               count(*) AS n_base,
               list(a.application_no ORDER BY applied_at)
                 FILTER (WHERE hit.application_no IS NOT NULL) AS evidence
        FROM a LEFT JOIN hit USING (application_no) GROUP BY manager_id""",
    "month_end_spike": """
        WITH a AS (
          SELECT *, day(applied_at) > day(last_day(applied_at)) - $last_days AS month_end
          FROM xw_staff_app WHERE applied_at >= $start AND applied_at < $end)
        SELECT manager_id, count(*) FILTER (WHERE month_end) AS n_events, count(*) AS n_base,
               list(application_no ORDER BY applied_at) FILTER (WHERE month_end) AS evidence
        FROM a GROUP BY manager_id""",
}

LEVEL_SQL = """
WITH s AS (SELECT x.*, m.branch_id FROM xw_staff_stats x
           LEFT JOIN xw_staff_managers m USING (manager_id) WHERE x.n_base > 0),
b AS (SELECT branch_id, sum(n_events) AS e, sum(n_base) AS n, count(*) AS k FROM s
      WHERE branch_id IS NOT NULL GROUP BY branch_id),
v AS (
  SELECT s.*,
         CASE WHEN $measure = 'count' THEN n_events::DOUBLE
              ELSE n_events::DOUBLE / n_base END AS value,
         CASE WHEN b.k > 1 AND $measure = 'count' THEN (b.e - s.n_events)::DOUBLE / (b.k - 1)
              WHEN b.k > 1 AND b.n > s.n_base
              THEN (b.e - s.n_events)::DOUBLE / (b.n - s.n_base) END AS peer_value
  FROM s LEFT JOIN b USING (branch_id)),
f AS (
  SELECT *, greatest(coalesce(floor, 0),
                     coalesce($peer_multiple * peer_value, 0)) AS bar
  FROM v),
l AS (
  SELECT *,
    CASE WHEN $red_at IS NOT NULL AND n_events >= $red_min AND value >= $red_at
              AND value >= bar AND value > 0 THEN 'red'
         WHEN $orange_at IS NOT NULL AND n_events >= $orange_min AND value >= $orange_at
              AND value >= bar AND value > 0 THEN 'orange'
         WHEN $yellow_at IS NOT NULL AND n_events >= $yellow_min AND value >= $yellow_at
              AND value >= bar AND value > 0 THEN 'yellow' END AS level
  FROM f)
SELECT manager_id, $signal AS signal, level, value,
       greatest(CASE level WHEN 'red' THEN $red_at WHEN 'orange' THEN $orange_at
                           ELSE $yellow_at END, bar) AS threshold,
       n_events, to_json(evidence[1:$evidence_items]) AS evidence, $category AS category,
       $zh AS name_zh, n_base, peer_value, CAST($as_of AS DATE) AS as_of
FROM l WHERE level IS NOT NULL ORDER BY manager_id"""


def _level_params(s: StaffSignal, as_of: dt.date) -> dict[str, Any]:
    out: dict[str, Any] = {"signal": s.name, "category": s.category, "zh": s.zh,
                           "measure": s.measure, "peer_multiple": s.peer_multiple,
                           "as_of": as_of, "evidence_items": EVIDENCE_ITEMS}
    for level in LEVELS:
        rule = s.rule(level)
        out[f"{level}_at"] = rule.at if rule else None
        out[f"{level}_min"] = rule.min_events if rule else None
    return out


def window(as_of: dt.date, days: int) -> dict[str, Any]:
    """Bound parameters of a window of `days` days ending with `as_of` (inclusive)."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    return {"as_of": as_of, "end": end, "start": end - dt.timedelta(days=days)}


def _signal_params(s: StaffSignal, as_of: dt.date) -> dict[str, Any]:
    out = window(as_of, s.window_days)
    for key, value in s.params.items():
        out[key] = value
    return out


StatsFn = Callable[[duckdb.DuckDBPyConnection, StaffSignal, StaffSignalCatalogue, dt.date],
                   None]


def _sql_stats(con: duckdb.DuckDBPyConnection, s: StaffSignal, _c: StaffSignalCatalogue,
               as_of: dt.date) -> None:
    sql = SIGNAL_SQL[s.name]
    params = {k: v for k, v in _signal_params(s, as_of).items() if f"${k}" in sql}
    con.execute("CREATE OR REPLACE TEMP TABLE xw_staff_stats AS SELECT *, NULL::DOUBLE AS floor "
                f"FROM ({sql})", params)


def _stats_fn(name: str) -> StatsFn:
    """The collusion signals need a graph (collusion.py); every other one is one SQL text."""
    return collusion.STATS.get(name, _sql_stats)


def prepare(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Macros, event views (unless the caller made them with extra events) and the tables of
    what was known by the end of `as_of`."""
    install_macros(con)
    for sql in NORMALISE_MACROS:
        con.execute(sql)
    if not _views_exist(con):
        event_views(con)
    _known_tables(con, window(as_of, 1))
    con.execute("CREATE OR REPLACE TEMP TABLE xw_staff_managers AS "
                "SELECT manager_id, any_value(branch_id) AS branch_id, "
                "any_value(phone) AS phone FROM raw.bank_managers GROUP BY manager_id")


def manager_signals(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                    catalogue: StaffSignalCatalogue | None = None) -> pa.Table:
    """Every signal that holds a level for a manager on `as_of`: one row per (manager,
    signal) with level, value, threshold, events, evidence (JSON ids) and category."""
    cat = catalogue or load_signal_catalogue()
    prepare(con, as_of)
    tables = []
    for s in cat.signals:
        _stats_fn(s.name)(con, s, cat, as_of)
        tables.append(con.sql(LEVEL_SQL, params=_level_params(s, as_of)).to_arrow_table())
    con.execute("DROP TABLE IF EXISTS xw_staff_stats")
    if not tables:
        return RESULT_SCHEMA.empty_table()
    return pa.concat_tables([t.cast(RESULT_SCHEMA) for t in tables])
