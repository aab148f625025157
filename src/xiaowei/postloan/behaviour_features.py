"""What the behaviour score reads about a loan at a point in time, and what it is asked to foresee.

Why one module for features and target: the training set and the nightly batch must compute a
loan's behaviour the same way, or the model is scored on columns it was never fitted on. Both
go through :func:`behaviour_rows` (one window query over month-end loan states) and
:func:`attach_tags` (the borrower's tags from a tag run *as of that point*).

The point of observation is a month-end ``m`` for training, any day ``D`` for the batch; the
history is that point plus the 5 month-ends before it (6 points, as the bank's "last 6 months").

* **population**: loans with a balance (``active`` or ``matured_unpaid``) and dpd ≤ 90 — a loan
  already more than 90 days past due is in default, not a candidate for predicting it;
* **loan behaviour**: dpd now, the worst dpd and the number of points with dpd > 0 among the
  last 6, months on book, outstanding ÷ principal, product and segment (party type);
* **borrower tags**: the warning catalogue's tags (tax, invoices, power, flows, courts,
  registry, bureau, relations) plus ``days_past_due`` and ``late_payments_12m`` over all the
  borrower's loans, each from a run as of the point — never a later one (the tag engine reads
  only rows with ``known_at`` ≤ as-of);
* **target** (``bad``): dpd > 90 at any of the next 6 month-ends. Only points whose 6 months lie
  inside the data get a target; a loan that settles in the window is good.

Only what the bank records is read (``gov.loan``, ``gov.repayment``, the governed tag sources);
never the simulator's truth (SIMULATOR.md §1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from xiaowei.engine.tags.batch import DuckDBTagRunner, Sources
from xiaowei.engine.tags.catalogue import Catalogue
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.postloan.loan_state import (
    fetch_arrow,
    loan_state,
    month_end_snapshots,
    month_ends,
)
from xiaowei.postloan.warning_catalogue import load_warning_catalogue

Progress = Callable[[str, int, int], None]

DEFAULT_DPD = 90
"""More than this many days past due is the default the score predicts (the bank's 90+)."""
HORIZON_MONTHS = 6
"""How many month-ends ahead a default counts (the 6-month performance window)."""
HISTORY_POINTS = 6
"""The point of observation and the 5 month-ends before it: the "last 6 months"."""
ON_BOOK = ("active", "matured_unpaid")

LOAN_FEATURES = ("dpd_now", "max_dpd_6m", "months_late_6m", "mob", "outstanding_ratio",
                 "product", "segment")
CATEGORICAL = ("product", "segment")
EXTRA_TAGS = ("bureau_overdue_now", "days_past_due", "late_payments_12m")
"""Tags read beside the warning catalogue's: the borrower's arrears over all its loans."""

LOAN_LABELS: Mapping[str, tuple[str, str]] = {
    "dpd_now": ("当前逾期天数", "Days past due now"),
    "max_dpd_6m": ("近6个月最大逾期天数", "Worst days past due, last 6 month-ends"),
    "months_late_6m": ("近6个月逾期月数", "Month-ends past due, last 6"),
    "mob": ("账龄(月)", "Months on book"),
    "outstanding_ratio": ("剩余本金占比", "Outstanding ÷ principal"),
    "product": ("产品", "Product"),
    "segment": ("客群", "Segment"),
}


def tag_features() -> tuple[str, ...]:
    """The tags a newly trained score may read: the warning catalogue's, then :data:`EXTRA_TAGS`
    (a fitted model keeps its own list in its manifest, so editing the catalogue later does not
    change what an approved model reads)."""
    return tuple(dict.fromkeys((*load_warning_catalogue().tags, *EXTRA_TAGS)))


def feature_labels() -> dict[str, tuple[str, str]]:
    """(Chinese, English) name of every feature, for reason codes: tags from their catalogue."""
    from xiaowei.data.tags.service import bank_catalogue

    defined = bank_catalogue().tags
    labels = dict(LOAN_LABELS)
    for name in tag_features():
        if name in defined:
            label = defined[name].definition.label
            labels[name] = (label.zh, label.en)
    return labels


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The month-end ``months`` months after (before, when negative) ``day``'s month."""
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return month_end(dt.date(y, m + 1, 1))


def last_labelled(data_end: dt.date, horizon: int = HORIZON_MONTHS) -> dt.date:
    """The last month-end whose ``horizon`` following month-ends all lie on or before
    ``data_end`` — the latest point a target can be known for."""
    last = month_end(data_end)
    if last > data_end:
        last = add_months(last, -1)
    return add_months(last, -horizon)


_ROWS_SQL = """
WITH w AS (
    SELECT *,
           max(dpd) OVER past AS max_dpd_6m,
           sum(CASE WHEN dpd > 0 THEN 1 ELSE 0 END) OVER past AS months_late_6m,
           max(dpd) OVER ahead AS worst_dpd_ahead
    FROM points
    WINDOW past AS (PARTITION BY loan_id ORDER BY mi
                    RANGE BETWEEN {back} PRECEDING AND CURRENT ROW),
           ahead AS (PARTITION BY loan_id ORDER BY mi
                     RANGE BETWEEN 1 FOLLOWING AND {ahead} FOLLOWING))
SELECT as_of, loan_id, party_id,
       dpd::DOUBLE AS dpd_now, max_dpd_6m::DOUBLE AS max_dpd_6m,
       months_late_6m::DOUBLE AS months_late_6m, mob::DOUBLE AS mob,
       outstanding_yuan / nullif(principal_yuan, 0) AS outstanding_ratio,
       product, segment,
       CASE WHEN coalesce(worst_dpd_ahead, 0) > $bad_dpd THEN 1 ELSE 0 END AS bad
FROM w
WHERE as_of BETWEEN $first AND $last AND outstanding_yuan > 0 AND dpd <= $bad_dpd
  AND status IN ('active', 'matured_unpaid')
ORDER BY as_of, loan_id
"""
_POINT_COLUMNS = ("as_of", "loan_id", "party_id", "product", "segment", "principal_yuan",
                  "outstanding_yuan", "dpd", "status", "mob")


def behaviour_rows(states: pa.Table, first: dt.date, last: dt.date, *,
                   horizon: int = HORIZON_MONTHS, bad_dpd: int = DEFAULT_DPD) -> pa.Table:
    """One row per loan in the population at each point ``first ≤ as_of ≤ last`` of ``states``
    (loan-state rows, :data:`~xiaowei.postloan.loan_state.STATE_COLUMNS`), with the loan
    features and ``bad``.

    ``states`` must hold the history before ``first`` and, for a meaningful ``bad``, the
    ``horizon`` month-ends after ``last``: the window query looks back and ahead by calendar
    month, one point per month (a month-end, or the batch's day in its own month).
    """
    if not (isinstance(horizon, int) and 1 <= horizon <= 36):
        raise ValueError(f"horizon must be a whole number of months in 1..36, got {horizon!r}")
    con = duckdb.connect()
    try:
        con.register("states", states.select(list(_POINT_COLUMNS)))
        con.execute("CREATE TEMP TABLE points AS SELECT *, year(as_of) * 12 + month(as_of) AS mi"
                    " FROM states")
        sql = _ROWS_SQL.format(back=HISTORY_POINTS - 1, ahead=horizon)
        return fetch_arrow(con, sql, {"first": first, "last": last, "bad_dpd": bad_dpd})
    finally:
        con.close()


def attach_tags(rows: pa.Table, tags: Sequence[str],
                tag_run: Callable[[dt.date], pa.Table],
                progress: Progress | None = None) -> pa.Table:
    """``rows`` with one float column per tag: each row's borrower's value from the run
    ``tag_run(as_of)`` of that row's own point (NaN where the borrower has none).

    Why per point: a tag at month-end ``m`` must be what the bank could compute on ``m``; a
    single run at the end of the data would leak the future into every earlier row.
    """
    as_of = rows["as_of"].to_numpy(zero_copy_only=False)
    parties = np.asarray(rows["party_id"].to_pylist(), dtype=object)
    columns = {t: np.full(rows.num_rows, np.nan) for t in tags}
    points = list(dict.fromkeys(as_of.tolist()))
    for i, point in enumerate(points):
        if progress:
            progress("month-ends", i, len(points))
        at = np.flatnonzero(as_of == np.datetime64(point))
        unique, inverse = np.unique(parties[at].astype(str), return_inverse=True)
        day = point if isinstance(point, dt.date) else dt.date.fromisoformat(str(point)[:10])
        _, values = tag_columns(tag_run(day), list(tags), unique.tolist())
        for t in tags:
            columns[t][at] = values[t][inverse]
    if progress:
        progress("month-ends", len(points), len(points))
    out = rows
    for t in tags:
        out = out.append_column(t, pa.array(columns[t], pa.float64()))
    return out


def training_rows(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, *,
                  horizon: int = HORIZON_MONTHS) -> pa.Table:
    """The loan part of the training set: :func:`behaviour_rows` at the month-ends
    ``first … last`` from one month-end snapshot query over the history and the horizon."""
    states = month_end_snapshots(con, add_months(first, -(HISTORY_POINTS - 1)),
                                 add_months(last, horizon))
    return behaviour_rows(states, first, last, horizon=horizon)


def rows_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date,
               state: pa.Table | None = None) -> pa.Table:
    """The loan features of every loan in the population on ``as_of`` (any day), in the
    order of ``state`` when it is given (the batch's loan state of that day), else by loan id.

    History is the 5 month-ends before ``as_of``'s month; the current point is the state on
    ``as_of`` itself, so a mid-month run sees today's arrears, not last month-end's.
    """
    current = state if state is not None else loan_state(con, as_of)
    history = month_end_snapshots(con, add_months(as_of, -(HISTORY_POINTS - 1)),
                                  add_months(as_of, -1))
    cols = list(_POINT_COLUMNS)
    now = current.select(cols).set_column(
        0, "as_of", pa.array([as_of] * current.num_rows, pa.date32()))
    states = pa.concat_tables([history.select(cols).cast(now.schema), now])
    rows = behaviour_rows(states, as_of, as_of)
    return rows.drop_columns(["bad"])


def tag_runner(catalogue: Catalogue, sources: Sources, tags: Sequence[str]
               ) -> tuple[DuckDBTagRunner, Callable[[dt.date], pa.Table]]:
    """One DuckDB tag runner kept open over all points (its views are built once) and the
    function that runs ``tags`` as of a day with it."""
    runner = DuckDBTagRunner(catalogue, sources, tags=list(tags))
    return runner, lambda day: runner.run(day).table


def labelled_month_ends(data_end: dt.date, months: int, *, earliest: dt.date,
                        horizon: int = HORIZON_MONTHS) -> list[dt.date]:
    """The last ``months`` month-ends from ``earliest`` whose horizon lies inside the data."""
    if not (isinstance(months, int) and months >= 2):
        raise ValueError(f"months must be a whole number ≥ 2, got {months!r}")
    ends = month_ends(earliest, last_labelled(data_end, horizon))
    return ends[-months:]


__all__ = [
    "CATEGORICAL",
    "DEFAULT_DPD",
    "EXTRA_TAGS",
    "HISTORY_POINTS",
    "HORIZON_MONTHS",
    "LOAN_FEATURES",
    "add_months",
    "attach_tags",
    "behaviour_rows",
    "feature_labels",
    "labelled_month_ends",
    "last_labelled",
    "month_end",
    "rows_as_of",
    "tag_features",
    "tag_runner",
    "training_rows",
]
