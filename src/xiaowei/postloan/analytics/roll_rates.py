"""Roll rates: how loans move between delinquency buckets from one month-end to the next.

Why: collection capacity is planned on flows — what share of M1 rolls into M2 next month,
what share of M3 cures — and a change in roll-forward rates warns months before the
non-performing ratio moves. Each transition pairs a loan's bucket at a month-end (only loans
with a balance) with its state at the next month-end: a bucket, or ``settled`` when it was
paid off in between. Counts and balances (the balance at the earlier month-end) both.

Rates per from-bucket: ``roll_forward`` (to a worse bucket), ``stay``, ``improve`` (to a
better bucket that is still past due), ``cure`` (back to M0 or paid off); the ``_balance``
twins weigh by balance. A rate that cannot happen (M0 curing, the last bucket rolling
forward) is None.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from xiaowei.postloan.analytics.source import Snapshots, group_columns, snapshot_source
from xiaowei.postloan.loan_state import DEFAULT_BUCKETS, Buckets, LoanStatus, fetch_arrow

SETTLED = LoanStatus.SETTLED.value


@dataclass(frozen=True)
class RollRates:
    """Roll rates over the month-end pairs whose later month-end is in ``first … last``."""

    buckets: tuple[str, ...]
    """From-states, best to worst; to-states are these plus ``settled``."""
    first: dt.date | None
    last: dt.date | None
    transitions: pa.Table
    """month_end (the later one), [groups], from_state, to_state, loans, balance_yuan."""
    matrix: pa.Table
    """[groups], from_state, to_state, loans, balance_yuan, share, balance_share — all months
    summed; shares are of the from-state's row."""
    rates: pa.Table
    """[groups], from_state, loans, balance_yuan and the rates of the module docstring."""

    @property
    def states(self) -> tuple[str, ...]:
        return (*self.buckets, SETTLED)


def roll_rates(con: duckdb.DuckDBPyConnection, snapshots: Snapshots, *,
               buckets: Buckets = DEFAULT_BUCKETS, first: dt.date | None = None,
               last: dt.date | None = None, by: Sequence[str] | str | None = None
               ) -> RollRates:
    """Bucket-to-bucket transitions of month-end ``snapshots`` (``month_end_snapshots``,
    made with the same ``buckets``), summed into a matrix and rates."""
    groups = group_columns(by)
    keys = "".join(f"p.{g}, " for g in groups)
    with snapshot_source(con, snapshots) as source:
        sql = f"""
        WITH span AS (SELECT max(as_of) AS last_date FROM {source}),
        prev AS (
            SELECT p.*, last_day(p.as_of + 1) AS month_end FROM {source} p, span
            WHERE p.bucket IS NOT NULL AND p.as_of < span.last_date),
        pairs AS (
            SELECT p.month_end, {keys}p.bucket AS from_state,
                   CASE WHEN c.loan_id IS NULL OR c.status = $settled THEN $settled
                        ELSE c.bucket END AS to_state, p.outstanding_yuan
            FROM prev p LEFT JOIN {source} c
                 ON c.loan_id = p.loan_id AND c.as_of = p.month_end
            WHERE ($first::DATE IS NULL OR p.month_end >= $first::DATE)
              AND ($last::DATE IS NULL OR p.month_end <= $last::DATE))
        SELECT month_end, {keys.replace("p.", "")}from_state, to_state, count(*) AS loans,
               sum(outstanding_yuan) AS balance_yuan
        FROM pairs GROUP BY ALL ORDER BY ALL"""
        transitions = fetch_arrow(con, sql, {"settled": SETTLED, "first": first, "last": last})
    matrix, rates = _summarise(transitions, groups, buckets.labels)
    return RollRates(buckets.labels, first, last, transitions, matrix, rates)


def _summarise(transitions: pa.Table, groups: list[str], labels: tuple[str, ...]
               ) -> tuple[pa.Table, pa.Table]:
    rank = {label: i for i, label in enumerate(labels)}
    rank[SETTLED] = -1
    cells: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0])
    for row in transitions.to_pylist():
        key = (*(row[g] for g in groups), row["from_state"], row["to_state"])
        cells[key][0] += row["loans"]
        cells[key][1] += row["balance_yuan"] or 0.0
    totals: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0])
    for key, (n, bal) in cells.items():
        totals[key[:-1]][0] += n
        totals[key[:-1]][1] += bal
    order = sorted(cells, key=lambda k: (*map(str, k[:-2]), rank[k[-2]], rank[k[-1]] % 99))
    matrix = [{**dict(zip(groups, k[:-2], strict=True)), "from_state": k[-2], "to_state": k[-1],
               "loans": int(cells[k][0]), "balance_yuan": cells[k][1],
               "share": cells[k][0] / totals[k[:-1]][0],
               "balance_share": _ratio(cells[k][1], totals[k[:-1]][1])} for k in order]
    rates = []
    for head in sorted(totals, key=lambda k: (*map(str, k[:-1]), rank[k[-1]])):
        frm = rank[head[-1]]
        moved: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for (*rest, to), (n, bal) in cells.items():
            if tuple(rest) != head:
                continue
            kind = ("roll_forward" if rank[to] > frm else "stay" if rank[to] == frm
                    else "cure" if rank[to] <= 0 else "improve")
            moved[kind][0] += n
            moved[kind][1] += bal
        n_all, bal_all = totals[head]
        row = {**dict(zip(groups, head[:-1], strict=True)), "from_state": head[-1],
               "loans": int(n_all), "balance_yuan": bal_all}
        for kind in ("roll_forward", "stay", "improve", "cure"):
            possible = not ((kind == "roll_forward" and frm == len(labels) - 1)
                            or (kind in ("cure", "improve") and frm == 0)
                            or (kind == "improve" and frm == 1))
            row[kind] = moved[kind][0] / n_all if possible else None
            row[f"{kind}_balance"] = _ratio(moved[kind][1], bal_all) if possible else None
        rates.append(row)
    return _table(matrix, groups, _MATRIX_TYPES), _table(rates, groups, _RATE_TYPES)


_MATRIX_TYPES = {"from_state": pa.string(), "to_state": pa.string(), "loans": pa.int64(),
                 "balance_yuan": pa.float64(), "share": pa.float64(),
                 "balance_share": pa.float64()}
_RATE_TYPES = {"from_state": pa.string(), "loans": pa.int64(), "balance_yuan": pa.float64(),
               **{f"{k}{s}": pa.float64() for k in ("roll_forward", "stay", "improve", "cure")
                  for s in ("", "_balance")}}


def _table(rows: list[dict], groups: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    schema = pa.schema([*((g, pa.string()) for g in groups), *types.items()])
    return pa.Table.from_pylist(rows, schema=schema)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None
