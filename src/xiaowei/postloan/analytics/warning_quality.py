"""Warning quality: were the early warnings right, did they catch the defaults, how early?

Why: a warning costs a manager's visit; warnings that rarely come true waste capacity and get
ignored, and a default no warning foresaw is the failure the monitoring exists to prevent.
So every warning level (or signal) is scored against what the loan book later showed.

Definitions, per party (warnings are raised on parties), with horizon H days:

* a default is a party's first month-end at which one of its loans is at least ``dpd`` days
  past due (90 by default; :func:`defaults_from_snapshots`);
* a warning *foresaw* a default when it was raised 1 … H days before it (same-day warnings
  foresaw nothing);
* precision: of the parties warned (at that level) in ``[since, as_of − H]`` before they
  defaulted, the share whose default was foreseen by one of those warnings — warnings after
  ``as_of − H`` are left out, their H days are not over yet;
* recall: of the defaults in ``[since + H, as_of]``, the share foreseen by a warning (at that
  level) — earlier defaults had no full H days of warnings behind them;
* lead time of a foreseen default: default day − its earliest foreseeing warning.

``since`` defaults to the first warning day. Row ``*`` scores all levels together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from xiaowei.postloan.analytics.source import Snapshots, snapshot_source
from xiaowei.postloan.loan_state import fetch_arrow

ALL = "*"


def defaults_from_snapshots(con: duckdb.DuckDBPyConnection, snapshots: Snapshots, *,
                            dpd: int = 90) -> pa.Table:
    """Each party's first month-end with a loan ≥ ``dpd`` days past due:
    ``party_id, loan_id, defaulted_on``, ordered by day and party."""
    with snapshot_source(con, snapshots) as source:
        return fetch_arrow(con, f"""
            SELECT party_id, arg_min(loan_id, (as_of, loan_id)) AS loan_id,
                   min(as_of) AS defaulted_on
            FROM {source} WHERE dpd >= $dpd GROUP BY party_id ORDER BY defaulted_on, party_id
            """, {"dpd": int(dpd)})


@dataclass(frozen=True)
class WarningQuality:
    """Precision, recall and lead times per warning level (or signal)."""

    horizon_days: int
    since: dt.date | None
    as_of: dt.date
    by: str
    lead_target_days: int
    summary: pa.Table
    """level, warned_parties, foreseen_parties, precision, defaults, recalled, recall,
    lead_median_days, lead_p25_days, lead_p75_days, lead_share_target (of recalled
    defaults, the share foreseen ≥ ``lead_target_days`` ahead); the level column is named
    after ``by``."""
    leads: pa.Table
    """level, party_id, defaulted_on, first_warning_on, lead_days — one row per recalled
    default and level."""


def warning_quality(warnings: pa.Table, defaults: pa.Table, *, as_of: dt.date,
                    horizon_days: int = 180, since: dt.date | None = None,
                    by: str = "level", lead_target_days: int = 30) -> WarningQuality:
    """Score ``warnings`` (``party_id, raised_on, level`` [, ``signal``]) against
    ``defaults`` (``party_id, defaulted_on``); see the module docstring."""
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    for need, table, name in (({"party_id", "raised_on", by}, warnings, "warnings"),
                              ({"party_id", "defaulted_on"}, defaults, "defaults")):
        missing = need - set(table.column_names)
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(sorted(missing))}")
    con = duckdb.connect()
    con.register("w_in", warnings.select(["party_id", "raised_on", by]).rename_columns(
        ["party_id", "raised_on", "level"]))
    con.register("d_in", defaults.select(["party_id", "defaulted_on"]))
    if since is None:
        since = con.execute("SELECT min(raised_on::DATE) FROM w_in WHERE raised_on::DATE <= ?",
                            [as_of]).fetchall()[0][0]
    params: dict[str, object] = {"as_of": as_of, "h": int(horizon_days), "since": since,
                                 "all": ALL}
    base = """
        WITH d AS (SELECT party_id, min(defaulted_on)::DATE AS defaulted_on FROM d_in
                   GROUP BY party_id),
        w0 AS (SELECT party_id, raised_on::DATE AS raised_on, level::VARCHAR AS level
               FROM w_in WHERE raised_on::DATE <= $as_of),
        win AS (SELECT $since::DATE AS since),
        w AS (SELECT * FROM w0 UNION ALL SELECT party_id, raised_on, $all FROM w0),
        levels AS (SELECT DISTINCT level FROM w),
        pairs AS (  -- warning, and the party's default, if any
            SELECT w.*, d.defaulted_on,
                   d.defaulted_on IS NOT NULL
                   AND date_diff('day', w.raised_on, d.defaulted_on) BETWEEN 1 AND $h
                   AS foresaw
            FROM w LEFT JOIN d USING (party_id)),
        prec AS (
            SELECT level, count(DISTINCT party_id) AS warned_parties,
                   count(DISTINCT party_id) FILTER (WHERE foresaw) AS foreseen_parties
            FROM pairs, win
            WHERE raised_on >= win.since AND raised_on <= $as_of::DATE - $h::INTEGER
              AND (defaulted_on IS NULL OR raised_on < defaulted_on)
            GROUP BY level),
        leads AS (
            SELECT p.level, p.party_id, p.defaulted_on, min(p.raised_on) AS first_warning_on,
                   date_diff('day', min(p.raised_on), p.defaulted_on) AS lead_days
            FROM pairs p, win
            WHERE p.foresaw AND p.defaulted_on BETWEEN win.since + $h::INTEGER AND $as_of
            GROUP BY p.level, p.party_id, p.defaulted_on),
        due AS (
            SELECT count(*) AS defaults FROM d, win
            WHERE d.defaulted_on BETWEEN win.since + $h::INTEGER AND $as_of)"""
    summary = fetch_arrow(con, base + """,
        lead_stats AS (
            SELECT level, count(*) AS recalled, median(lead_days)::DOUBLE AS lead_median_days,
                   quantile_cont(lead_days, 0.25) AS lead_p25_days,
                   quantile_cont(lead_days, 0.75) AS lead_p75_days,
                   count(*) FILTER (WHERE lead_days >= $target) / count(*) AS lead_share_target
            FROM leads GROUP BY level)
        SELECT l.level, coalesce(p.warned_parties, 0) AS warned_parties,
               coalesce(p.foreseen_parties, 0) AS foreseen_parties,
               p.foreseen_parties / nullif(p.warned_parties, 0) AS precision,
               due.defaults, coalesce(x.recalled, 0) AS recalled,
               coalesce(x.recalled, 0) / nullif(due.defaults, 0) AS recall,
               x.lead_median_days, x.lead_p25_days, x.lead_p75_days, x.lead_share_target
        FROM levels l CROSS JOIN due LEFT JOIN prec p ON p.level = l.level
        LEFT JOIN lead_stats x ON x.level = l.level
        ORDER BY l.level = $all DESC, l.level""", {**params, "target": int(lead_target_days)})
    leads = fetch_arrow(con, base + " SELECT * FROM leads ORDER BY level, defaulted_on, "
                        "party_id", params)
    con.close()
    if by != "level":
        summary = summary.rename_columns([by, *summary.column_names[1:]])
        leads = leads.rename_columns([by, *leads.column_names[1:]])
    return WarningQuality(int(horizon_days), since, as_of, by, int(lead_target_days), summary,
                          leads)
