"""Five-class migration: how loans moved between 正常/关注/次级/可疑/损失 over a period, and the
regulator's migration rate of each class.

Why the classes come from outside: five-level classification is its own domain calculation
(objective floors, debtor-level contagion, restructuring; DOMAIN.md §1) written elsewhere.
Here a caller passes either ``classify_dpd(dpd_array) -> class_array`` or the name of a class
column already in both state tables; ``dpd_ladder`` builds a plain DPD ladder for callers
that have nothing better (it gives objective floors only, not a classification).

Migration rate of class X (the regulator's formula, DOMAIN.md §1):

    moved-down amount ÷ (class-X balance at period start − reductions of it in the period)

* moved-down amount: of the loans that were X at the start, the period-end balance of those
  classed worse than X at the end (the 1104 definitions measure it at period end [check]);
* reductions: the fall in those loans' balance through repayment, pay-off, disposal or
  write-off, Σ max(start balance − end balance, 0) (0 at end for a loan paid off) [check].

``count_rate`` is the same by number of loans: moved down ÷ (loans at start − paid off).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from xiaowei.postloan.analytics.source import group_columns
from xiaowei.postloan.loan_state import LoanStatus, fetch_arrow, loan_state

FIVE_CLASSES = ("正常", "关注", "次级", "可疑", "损失")
"""Best to worst; 次级 + 可疑 + 损失 are non-performing (不良)."""
NON_PERFORMING = ("次级", "可疑", "损失")
SETTLED = LoanStatus.SETTLED.value
ClassifyDpd = Callable[[np.ndarray], np.ndarray]


def dpd_ladder(edges: Sequence[int], classes: Sequence[str] = FIVE_CLASSES) -> ClassifyDpd:
    """A classifier by days past due alone: ``classes[i]`` for dpd in (edges[i-1], edges[i]].

    ``dpd_ladder((0, 90, 270, 360))`` is the objective floor of DOMAIN.md §1 (0 → 正常,
    1–90 → 关注, 91–270 → 次级, 271–360 → 可疑, > 360 → 损失).
    """
    cut = np.asarray(edges, dtype=np.int64)
    names = np.asarray(list(classes), dtype=object)
    if len(names) != len(cut) + 1 or np.any(np.diff(cut) <= 0):
        raise ValueError("need increasing edges and one class more than edges")
    return lambda dpd: names[np.searchsorted(cut, np.asarray(dpd), side="left")]


def class_column_of(state: pa.Table, classify_dpd: ClassifyDpd | None,
                    class_column: str | None, classes: Sequence[str]) -> pa.Array:
    """The five-level class of every row of ``state``, checked against ``classes``."""
    if (classify_dpd is None) == (class_column is None):
        raise ValueError("pass exactly one of classify_dpd and class_column")
    if class_column is not None:
        if class_column not in state.column_names:
            raise ValueError(f"the state table has no column {class_column!r}")
        values = state[class_column].combine_chunks()
    else:
        dpd = state["dpd"].to_numpy(zero_copy_only=False)
        values = pa.array([str(v) for v in classify_dpd(dpd)], pa.string())
    unknown = set(values.drop_null().unique().to_pylist()) - set(classes)
    if unknown or values.null_count:
        raise ValueError(f"classes outside {list(classes)}: {sorted(unknown) or 'null'}")
    return values


@dataclass(frozen=True)
class Migration:
    """Class-to-class movement of the loans on book at ``start`` until ``end``."""

    start: dt.date | None
    end: dt.date | None
    classes: tuple[str, ...]
    matrix: pa.Table
    """[groups], from_class, to_class (a class or ``settled``), loans, start_balance_yuan,
    end_balance_yuan."""
    rates: pa.Table
    """[groups], class, loans, balance_yuan, reduction_yuan, moved_down_loans,
    moved_down_balance_yuan, settled_loans, migration_rate, count_rate."""


def migration(start_state: pa.Table, end_state: pa.Table, *,
              classify_dpd: ClassifyDpd | None = None, class_column: str | None = None,
              classes: Sequence[str] = FIVE_CLASSES, by: Sequence[str] | str | None = None
              ) -> Migration:
    """Migration between two loan-state tables (``loan_state`` at two dates, or two
    month-ends of the snapshots): the loans with a balance at the start, followed to the end;
    one missing at the end, or without a balance there, counts as paid off (``settled``)."""
    classes = tuple(classes)
    groups = group_columns(by)
    start = _on_book(start_state)
    end = _on_book(end_state)
    start = start.append_column("class", class_column_of(start, classify_dpd, class_column,
                                                         classes))
    end = end.append_column("class", class_column_of(end, classify_dpd, class_column, classes))
    rank = pa.table({"class": list(classes), "rank": list(range(len(classes)))})
    con = duckdb.connect()
    names = {f"xw_{k}_{uuid.uuid4().hex[:8]}": t for k, t in
             (("start", start), ("end", end), ("rank", rank))}
    s, e, r = names
    for name, table in names.items():
        con.register(name, table)
    keys = "".join(f"s.{g}, " for g in groups)
    pairs = f"""
        SELECT {keys}s.class AS from_class, coalesce(e.class, $settled) AS to_class,
               s.outstanding_yuan AS start_balance, coalesce(e.outstanding_yuan, 0) AS end_balance,
               rs.rank AS from_rank, coalesce(re.rank, -1) AS to_rank
        FROM {s} s LEFT JOIN {e} e USING (loan_id)
        JOIN {r} rs ON rs.class = s.class LEFT JOIN {r} re ON re.class = e.class"""
    plain = keys.replace("s.", "")
    matrix = fetch_arrow(con, f"""
        SELECT {plain}from_class, to_class, count(*) AS loans,
               sum(start_balance) AS start_balance_yuan, sum(end_balance) AS end_balance_yuan
        FROM ({pairs}) GROUP BY ALL
        ORDER BY {plain}min(from_rank), CASE WHEN min(to_rank) < 0 THEN 99 ELSE min(to_rank) END
        """, {"settled": SETTLED})
    rates = fetch_arrow(con, f"""
        SELECT {plain}from_class AS class, count(*) AS loans,
               sum(start_balance) AS balance_yuan,
               sum(greatest(start_balance - end_balance, 0)) AS reduction_yuan,
               count(*) FILTER (WHERE to_rank > from_rank) AS moved_down_loans,
               coalesce(sum(end_balance) FILTER (WHERE to_rank > from_rank), 0)
                   AS moved_down_balance_yuan,
               count(*) FILTER (WHERE to_rank < 0) AS settled_loans,
               CASE WHEN min(from_rank) < $worst THEN
                   coalesce(sum(end_balance) FILTER (WHERE to_rank > from_rank), 0)
                   / nullif(sum(start_balance) - sum(greatest(start_balance - end_balance, 0)),
                            0) END AS migration_rate,
               CASE WHEN min(from_rank) < $worst THEN
                   count(*) FILTER (WHERE to_rank > from_rank)
                   / nullif(count(*) - count(*) FILTER (WHERE to_rank < 0), 0) END AS count_rate
        FROM ({pairs}) GROUP BY ALL ORDER BY {plain}min(from_rank)
        """, {"settled": SETTLED, "worst": len(classes) - 1})
    con.close()
    when = start_state["as_of"][0].as_py() if start_state.num_rows else None
    until = end_state["as_of"][0].as_py() if end_state.num_rows else None
    return Migration(when, until, classes, matrix, rates)


def _on_book(state: pa.Table) -> pa.Table:
    """Rows with a balance (active or matured unpaid)."""
    import pyarrow.compute as pc

    return state.filter(pc.greater(state["outstanding_yuan"], 0))


def migration_between(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, *,
                      classify_dpd: ClassifyDpd, classes: Sequence[str] = FIVE_CLASSES,
                      by: Sequence[str] | str | None = None) -> Migration:
    """Migration from ``start`` to ``end``, each state computed with ``loan_state``."""
    if start >= end:
        raise ValueError(f"start {start} must be before end {end}")
    return migration(loan_state(con, start), loan_state(con, end), classify_dpd=classify_dpd,
                     classes=classes, by=by)
