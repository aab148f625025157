"""Collusion and ghost clients: groups of one manager's applicants that share identifiers,
and the manager's own conduct on them.

Why the combination: fraud rings also apply through honest managers, and honest firms share
phones, addresses and devices too (families, market halls), so "the applicants share a phone"
alone would accuse honest managers. What a colluding manager adds is conduct on exactly those
applications — visits that were not made, contact details changed after intake, work on the
files at night, visit records written up days later. The verdict therefore compares the
manager's conduct on the grouped applications with the same manager's conduct on the rest.

Groups are the connected components of a graph whose nodes are one manager's applicants and
whose edges are shared identifier values (networkx), built from the bank's records only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import networkx as nx
import pyarrow as pa

from xiaowei.staff.signal_catalogue import StaffSignal, StaffSignalCatalogue

GROUP_SIGNAL = "shared_identifier_groups"
# Guarantor and legal representative are both a person's ID number: one namespace, so a person
# who runs firm B and guarantees firm A joins them.
IDS_SQL = """
WITH allids AS (
  SELECT manager_id, applicant, application_no, applied_at, 'phone' AS kind, phone_n AS value
  FROM xw_staff_app WHERE phone_n IS NOT NULL
  UNION ALL SELECT manager_id, applicant, application_no, applied_at, 'device', device_n
  FROM xw_staff_app WHERE device_n IS NOT NULL
  UNION ALL SELECT manager_id, applicant, application_no, applied_at, 'address', address_n
  FROM xw_staff_app WHERE address_n IS NOT NULL
  UNION ALL SELECT a.manager_id, a.applicant, a.application_no, a.applied_at, 'guarantor',
                   g.guarantor_n
  FROM xw_staff_app a JOIN xw_staff_guarantor g USING (application_no)
  WHERE g.guarantor_n IS NOT NULL AND g.guarantor_n <> a.applicant
  UNION ALL SELECT manager_id, applicant, application_no, applied_at, 'legal_rep', legal_rep_n
  FROM xw_staff_app WHERE is_firm AND legal_rep_n IS NOT NULL),
keyed AS (
  SELECT *, CASE WHEN kind IN ('guarantor', 'legal_rep') THEN 'person' ELSE kind END AS space
  FROM allids WHERE list_contains($identifiers, kind)),
common AS (SELECT space, value FROM keyed GROUP BY ALL
           HAVING count(DISTINCT applicant) > $max_sharing),
w AS (SELECT k.* FROM keyed k ANTI JOIN common USING (space, value)
      WHERE k.applied_at >= $start),
shared AS (SELECT manager_id, space, value FROM w GROUP BY ALL
           HAVING count(DISTINCT applicant) >= 2)
SELECT DISTINCT w.manager_id, w.space, w.value, w.kind, w.applicant
FROM w JOIN shared USING (manager_id, space, value)
ORDER BY w.manager_id, w.space, w.value, w.applicant"""

GROUPS_SCHEMA = pa.schema([("manager_id", pa.string()), ("group_no", pa.int64()),
                           ("applicant", pa.string()), ("group_size", pa.int64()),
                           ("kinds", pa.string())])


def _window(as_of: dt.date, days: int) -> dict[str, Any]:
    from xiaowei.staff.behaviour_signals import window

    return window(as_of, days)


def applicant_groups(con: duckdb.DuckDBPyConnection, as_of: dt.date, s: StaffSignal
                     ) -> pa.Table:
    """Groups of at least `min_group_size` applicants of one manager (applied in the window)
    joined by shared identifiers; one row per (group, applicant). Needs `prepare` first."""
    params = {"start": _window(as_of, s.window_days)["start"],
              "identifiers": s.words("identifiers"), "max_sharing": s.number("max_sharing")}
    rows = con.execute(IDS_SQL, params).fetchall()
    graph: nx.Graph = nx.Graph()
    kinds: dict[tuple[str, str, str], set[str]] = {}
    last: tuple[str, str, str] | None = None
    previous: tuple[str, str] | None = None
    for manager, space, value, kind, applicant in rows:
        node = (manager, applicant)
        graph.add_node(node)
        kinds.setdefault((manager, space, value), set()).add(kind)
        if last == (manager, space, value) and previous is not None and previous != node:
            if graph.has_edge(previous, node):
                graph.edges[previous, node]["values"].add((space, value))
            else:
                graph.add_edge(previous, node, values={(space, value)})
        last, previous = (manager, space, value), node
    out: dict[str, list[Any]] = {name: [] for name in GROUPS_SCHEMA.names}
    minimum = int(s.number("min_group_size"))
    components = sorted((sorted(c) for c in nx.connected_components(graph)
                         if len(c) >= minimum), key=lambda c: c[0])
    for number, members in enumerate(components):
        joined = sorted({k for a, b, values in graph.subgraph(members).edges(data="values")
                         for space_value in values for k in kinds[(a[0], *space_value)]})
        for manager, applicant in members:
            out["manager_id"].append(manager)
            out["group_no"].append(number)
            out["applicant"].append(applicant)
            out["group_size"].append(len(members))
            out["kinds"].append(",".join(joined))
    return pa.table(out, schema=GROUPS_SCHEMA)


def _register_groups(con: duckdb.DuckDBPyConnection, cat: StaffSignalCatalogue,
                     as_of: dt.date) -> None:
    groups = applicant_groups(con, as_of, cat.signal(GROUP_SIGNAL))
    con.register("xw_staff_groups_in", groups)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE xw_staff_groups AS "
                    "SELECT * FROM xw_staff_groups_in")
    finally:
        con.unregister("xw_staff_groups_in")


GROUP_STATS_SQL = """
WITH a AS (SELECT * FROM xw_staff_app WHERE applied_at >= $start),
ev AS (SELECT a.manager_id, list(a.application_no ORDER BY g.group_no, a.application_no)
              AS evidence
       FROM a JOIN xw_staff_groups g USING (manager_id, applicant) GROUP BY a.manager_id),
n AS (SELECT a.manager_id, count(DISTINCT a.applicant) AS n_base,
             count(DISTINCT g.applicant) AS n_events
      FROM a LEFT JOIN xw_staff_groups g USING (manager_id, applicant) GROUP BY a.manager_id)
SELECT n.manager_id, n.n_events, n.n_base, ev.evidence, NULL::DOUBLE AS floor
FROM n LEFT JOIN ev USING (manager_id)"""

STAFF_PHONE_SQL = """
WITH a AS (SELECT * FROM xw_staff_app WHERE applied_at >= $start),
staff AS (SELECT DISTINCT xw_phone(phone) AS p FROM xw_staff_managers
          WHERE xw_phone(phone) IS NOT NULL),
hit AS (SELECT DISTINCT a.application_no FROM a
        LEFT JOIN xw_staff_guarantor g USING (application_no)
        WHERE a.phone_n IN (SELECT p FROM staff) OR g.guarantor_phone_n IN (SELECT p FROM staff))
SELECT manager_id, count(hit.application_no) AS n_events, count(*) AS n_base,
       list(a.application_no ORDER BY a.applied_at)
         FILTER (WHERE hit.application_no IS NOT NULL) AS evidence, NULL::DOUBLE AS floor
FROM a LEFT JOIN hit USING (application_no) GROUP BY manager_id"""

GUARANTOR_SQL = """
WITH ga AS (
  SELECT a.manager_id, g.guarantor_n, a.applicant, a.application_no FROM xw_staff_app a
  JOIN xw_staff_guarantor g USING (application_no)
  WHERE a.applied_at >= $start AND g.guarantor_n IS NOT NULL AND g.guarantor_n <> a.applicant),
per AS (SELECT manager_id, guarantor_n, count(DISTINCT applicant) AS k,
               list(application_no ORDER BY application_no) AS apps
        FROM ga GROUP BY ALL)
SELECT manager_id, count(*) FILTER (WHERE k >= $min_applicants) AS n_events,
       count(*) AS n_base,
       flatten(list(apps ORDER BY guarantor_n) FILTER (WHERE k >= $min_applicants)) AS evidence,
       NULL::DOUBLE AS floor
FROM per GROUP BY manager_id"""

# One row per application of the window: which of the manager's own conduct marks it carries,
# and the ghost-client marker a manager's own doing leaves (a staff phone on the file).
MARKS_SQL = """
WITH a AS (SELECT * FROM xw_staff_app WHERE applied_at >= $start),
ck AS (SELECT * FROM staff_checkin c
       WHERE c.occurred_at >= $start AND c.occurred_at < $end AND c.lat IS NOT NULL),
rep AS (SELECT manager_id, lat, lon FROM ck GROUP BY ALL
        HAVING count(DISTINCT occurred_at) > 1),
visit AS (
  SELECT DISTINCT a.application_no FROM a
  JOIN ck c ON c.application_no = a.application_no AND c.manager_id = a.manager_id
  LEFT JOIN xw_staff_geo g ON g.application_no = a.application_no
  LEFT JOIN rep r ON r.manager_id = c.manager_id AND r.lat = c.lat AND r.lon = c.lon
  WHERE coalesce(c.mock_location, false) OR r.lat IS NOT NULL
     OR (g.precision_m <= $max_geocode_precision_m
         AND xw_metres(c.lat, c.lon, g.lat, g.lon)
             > $radius_m + coalesce(c.accuracy_m, 0) + g.precision_m)),
ops AS (SELECT * FROM staff_operation o
        WHERE o.occurred_at >= $start AND o.occurred_at < $end AND o.object_id IS NOT NULL),
edit AS (
  SELECT DISTINCT a.application_no FROM a JOIN ops o ON o.object_id = a.application_no
  WHERE o.action = 'edit' AND list_contains($fields, o.field)
    AND CAST(o.occurred_at AS DATE) > CAST(a.applied_at AS DATE)),
late AS (
  SELECT DISTINCT a.application_no FROM a
  JOIN ops o ON o.object_id = a.application_no AND o.manager_id = a.manager_id
  WHERE hour(o.occurred_at) >= $day_ends_hour OR hour(o.occurred_at) < $day_starts_hour),
back AS (
  SELECT DISTINCT a.application_no FROM a JOIN ops o ON o.object_id = a.application_no
  WHERE o.stated_date IS NOT NULL
    AND date_diff('day', o.stated_date, CAST(o.occurred_at AS DATE)) >= $min_days_back),
staff AS (SELECT DISTINCT xw_phone(phone) AS p FROM xw_staff_managers
          WHERE xw_phone(phone) IS NOT NULL),
ghost AS (
  SELECT DISTINCT a.application_no FROM a LEFT JOIN xw_staff_guarantor g USING (application_no)
  WHERE a.phone_n IN (SELECT p FROM staff) OR g.guarantor_phone_n IN (SELECT p FROM staff))
SELECT a.manager_id, a.application_no, a.applicant, a.applied_at,
       visit.application_no IS NOT NULL AS visit_mark,
       edit.application_no IS NOT NULL AS edit_mark,
       late.application_no IS NOT NULL AS after_hours_mark,
       back.application_no IS NOT NULL AS back_dated_mark,
       ghost.application_no IS NOT NULL AS staff_phone_mark
FROM a LEFT JOIN visit USING (application_no) LEFT JOIN edit USING (application_no)
LEFT JOIN late USING (application_no) LEFT JOIN back USING (application_no)
LEFT JOIN ghost USING (application_no)"""

VERDICT_SQL = """
WITH m AS (
  SELECT x.*, g.group_no IS NOT NULL AS grouped,
         visit_mark OR edit_mark OR after_hours_mark OR back_dated_mark OR staff_phone_mark
           AS marked
  FROM xw_staff_marks x LEFT JOIN (SELECT DISTINCT manager_id, applicant, group_no
                                   FROM xw_staff_groups) g USING (manager_id, applicant)),
per AS (
  SELECT manager_id,
         count(*) FILTER (WHERE grouped AND marked) AS n_events,
         count(*) FILTER (WHERE grouped) AS n_base,
         count(*) FILTER (WHERE NOT grouped AND marked) AS other_marked,
         count(*) FILTER (WHERE NOT grouped) AS other_n,
         list(application_no ORDER BY applied_at) FILTER (WHERE grouped AND marked) AS evidence
  FROM m GROUP BY manager_id)
SELECT manager_id, n_events, n_base, evidence,
       CASE WHEN other_n > 0 THEN $min_lift * other_marked::DOUBLE / other_n END AS floor
FROM per WHERE n_base > 0"""


def marks_params(cat: StaffSignalCatalogue, as_of: dt.date, days: int) -> dict[str, Any]:
    """The figures of the signals whose marks the verdict counts (one definition each)."""
    geofence = cat.signal("geofence_miss")
    hours = cat.signal("after_hours_access")
    return {**{k: v for k, v in _window(as_of, days).items() if k != "as_of"},
            "radius_m": geofence.number("radius_m"),
            "max_geocode_precision_m": geofence.number("max_geocode_precision_m"),
            "fields": cat.signal("contact_change_before_disbursement").words("fields"),
            "day_starts_hour": hours.number("day_starts_hour"),
            "day_ends_hour": hours.number("day_ends_hour"),
            "min_days_back": cat.signal("back_dated_entries").number("min_days_back")}


def _stats(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> None:
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    con.execute(f"CREATE OR REPLACE TEMP TABLE xw_staff_stats AS {sql}", used)


def group_stats(con: duckdb.DuckDBPyConnection, s: StaffSignal, cat: StaffSignalCatalogue,
                as_of: dt.date) -> None:
    _register_groups(con, cat, as_of)
    _stats(con, GROUP_STATS_SQL, _window(as_of, s.window_days))


def staff_phone_stats(con: duckdb.DuckDBPyConnection, s: StaffSignal,
                      _cat: StaffSignalCatalogue, as_of: dt.date) -> None:
    _stats(con, STAFF_PHONE_SQL, _window(as_of, s.window_days))


def guarantor_stats(con: duckdb.DuckDBPyConnection, s: StaffSignal,
                    _cat: StaffSignalCatalogue, as_of: dt.date) -> None:
    _stats(con, GUARANTOR_SQL, {**_window(as_of, s.window_days),
                                "min_applicants": s.number("min_applicants")})


def verdict_stats(con: duckdb.DuckDBPyConnection, s: StaffSignal, cat: StaffSignalCatalogue,
                  as_of: dt.date) -> None:
    _register_groups(con, cat, as_of)
    params = marks_params(cat, as_of, s.window_days)
    con.execute("CREATE OR REPLACE TEMP TABLE xw_staff_marks AS " + MARKS_SQL,
                {k: v for k, v in params.items() if f"${k}" in MARKS_SQL})
    _stats(con, VERDICT_SQL, {"min_lift": s.number("min_lift")})


STATS = {GROUP_SIGNAL: group_stats, "applicant_phone_is_staff": staff_phone_stats,
         "guarantor_concentration": guarantor_stats, "collusion_suspected": verdict_stats}


def collusion_groups(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                     catalogue: StaffSignalCatalogue | None = None) -> pa.Table:
    """The groups behind the collusion signals on `as_of`, one row per application, with the
    identifiers that joined the group and the manager's conduct marks — what a supervisor
    opens from a red alert."""
    from xiaowei.staff.behaviour_signals import prepare
    from xiaowei.staff.signal_catalogue import load_signal_catalogue

    cat = catalogue or load_signal_catalogue()
    prepare(con, as_of)
    _register_groups(con, cat, as_of)
    days = cat.signal("collusion_suspected").window_days
    params = marks_params(cat, as_of, days)
    con.execute("CREATE OR REPLACE TEMP TABLE xw_staff_marks AS " + MARKS_SQL,
                {k: v for k, v in params.items() if f"${k}" in MARKS_SQL})
    return con.sql("""
        SELECT g.manager_id, g.group_no, g.group_size, g.kinds, m.application_no, g.applicant,
               m.applied_at, m.visit_mark, m.edit_mark, m.after_hours_mark, m.back_dated_mark,
               m.staff_phone_mark
        FROM xw_staff_groups g JOIN xw_staff_marks m USING (manager_id, applicant)
        ORDER BY g.manager_id, g.group_no, m.applied_at""").to_arrow_table()
