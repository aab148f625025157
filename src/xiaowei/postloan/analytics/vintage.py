"""Vintage curves: of the loans booked in a month or quarter, how many had ever been 30 (or
90) days past due by each month on book.

Why vintages: a portfolio's delinquency rate mixes young and old loans, so a growing book
looks healthier than it is; comparing cohorts at the same age (months on book, MOB) shows
whether newer business is better or worse — by product, branch, manager or segment.

Basis: month-end states (a loan counts as ≥ 30 dpd at MOB m when it was ≥ 30 dpd at any
month-end up to m, as banks' delinquency reports do). MOB is counted from the origination
month: a loan booked on 20 January is MOB 0 at 31 January. At MOB m a cohort counts only the
loans already m months old at the last month-end, so the points of a quarter's last months
rest on fewer loans (column ``loans``). Cohorts booked before the first snapshot month are
left out: their early pay-offs are not in the snapshots, which would flatter them. The
balance share weighs each loan by its disbursed principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import duckdb
import pyarrow as pa

from xiaowei.postloan.analytics.source import Snapshots, group_columns, snapshot_source
from xiaowei.postloan.loan_state import fetch_arrow

Cohort = Literal["month", "quarter"]
_COHORT_SQL = {
    "month": "strftime(origination_month, '%Y-%m')",
    "quarter": "year(origination_month)::VARCHAR || 'Q' || quarter(origination_month)::VARCHAR",
}


def vintage_curves(con: duckdb.DuckDBPyConnection, snapshots: Snapshots, *,
                   cohort: Cohort = "quarter", by: Sequence[str] | str | None = None,
                   thresholds: Sequence[int] = (30, 90), max_mob: int | None = None
                   ) -> pa.Table:
    """One row per group, cohort and MOB: ``loans``, ``principal_yuan`` and for each
    threshold T ``ever_T_loans``, ``ever_T_share`` (of loans) and ``ever_T_balance_share``
    (of disbursed principal), ordered by group, cohort and MOB.

    ``snapshots`` are month-end states (``month_end_snapshots``) starting no later than the
    first cohort wanted; ``by`` names dimensions from ``source.GROUPS``.
    """
    if cohort not in _COHORT_SQL:
        raise ValueError(f"cohort must be 'month' or 'quarter', got {cohort!r}")
    limits = [int(t) for t in thresholds]
    if not limits or any(t <= 0 for t in limits) or len(set(limits)) != len(limits):
        raise ValueError(f"thresholds must be distinct positive day counts, got {thresholds}")
    groups = group_columns(by)
    keys = "".join(f"{g}, " for g in groups)
    firsts = ", ".join(f"min(mob) FILTER (WHERE dpd >= $t{t}) AS first_{t}" for t in limits)
    measures = ", ".join(
        f"count(*) FILTER (WHERE first_{t} <= mob) AS ever_{t}_loans, "
        f"count(*) FILTER (WHERE first_{t} <= mob) / count(*) AS ever_{t}_share, "
        f"coalesce(sum(principal_yuan) FILTER (WHERE first_{t} <= mob), 0) "
        f"/ nullif(sum(principal_yuan), 0) AS ever_{t}_balance_share" for t in limits)
    params: dict[str, object] = {f"t{t}": t for t in limits}
    params["max_mob"] = max_mob if max_mob is not None else 10_000
    with snapshot_source(con, snapshots) as source:
        sql = f"""
        WITH span AS (SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM {source}),
        loans AS (
            SELECT loan_id, {"".join(f"any_value({g}) AS {g}, " for g in groups)}
                   any_value(origination_month) AS origination_month,
                   any_value(principal_yuan) AS principal_yuan, {firsts}
            FROM {source} WHERE status <> 'not_disbursed' GROUP BY loan_id),
        seen AS (
            SELECT l.*, {_COHORT_SQL[cohort]} AS cohort,
                   least(date_diff('month', l.origination_month,
                                   date_trunc('month', span.last_date)), $max_mob) AS last_mob
            FROM loans l, span
            WHERE l.origination_month >= date_trunc('month', span.first_date)),
        points AS (SELECT *, unnest(range(0, last_mob + 1)) AS mob FROM seen)
        SELECT {keys}cohort, mob::INTEGER AS mob, count(*) AS loans,
               sum(principal_yuan) AS principal_yuan, {measures}
        FROM points GROUP BY ALL ORDER BY {keys}cohort, mob"""
        return fetch_arrow(con, sql, params)


def curve_series(table: pa.Table, threshold: int = 30, balance: bool = False
                 ) -> dict[str, tuple[list[int], list[float]]]:
    """``{cohort label: (mobs, shares)}`` from :func:`vintage_curves`, for charts; the label
    joins the group values and the cohort with " · "."""
    column = f"ever_{threshold}_{'balance_share' if balance else 'share'}"
    keys = [c for c in table.column_names if c in {"product", "branch_id", "manager_id",
                                                   "segment"}] + ["cohort"]
    series: dict[str, tuple[list[int], list[float]]] = {}
    for row in table.to_pylist():
        label = " · ".join(str(row[k]) for k in keys)
        xs, ys = series.setdefault(label, ([], []))
        xs.append(row["mob"])
        ys.append(row[column] if row[column] is not None else float("nan"))
    return series
