"""The batch loan state: balance, arrears, days past due, bucket and status of every loan.

Why one SQL text for a day and for month-ends: the nightly monitoring batch asks "where does
each loan stand on D?", the analytics ask the same question at every month-end of a history;
if the two were written twice they would drift. Both run :data:`_STATE_SQL`, over one date or
over a series of month-ends generated inside DuckDB (one query, not a Python loop).

Why it scales: instead of joining every loan to every instalment at every month-end (a 1M-loan
book × 36 instalments × 36 month-ends is a billion pairs), paid principal is aggregated once
per loan and month-end and accumulated with a window, and only instalments that are actually
late at some month-end are spread over the month-ends they were late at.

Definitions (as of a date D):

* outstanding principal = principal − principal of instalments paid on or before D (a prepaid
  loan's settle row carries the rest); 0 once every scheduled row is paid (settled) and before
  disbursement;
* an instalment is overdue on D when it fell due before D and was not paid by D — an
  instalment paid late counts as overdue until its ``paid_on``; one due on D itself is not
  overdue yet;
* dpd = D − the oldest overdue due date, 0 when nothing is overdue;
* bucket M0 (dpd 0), M1 (1–30), M2 (31–60), M3 (61–90), M4+ (> 90), edges configurable
  (:class:`Buckets`); NULL for a loan with no balance (settled, not yet disbursed);
* status: ``not_disbursed`` (start after D), ``settled`` (every scheduled row paid by D),
  ``matured_unpaid`` (maturity before D, balance left), otherwise ``active``.

Reads ``gov.loan`` and ``gov.repayment``; branch, manager and segment (party type) come from
``raw.bank_loans`` → ``raw.bank_applications`` when the store has them, else are NULL. Dates
and bucket edges are bound parameters; the only names formatted into SQL are checked ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.store.analytic import quote_identifier


class LoanStatus(LabelledStrEnum):
    """Where a loan stands on a date, as the post-loan analytics count it."""

    ACTIVE = "active", "在贷"
    SETTLED = "settled", "已结清"
    MATURED_UNPAID = "matured_unpaid", "到期未还清", "matured, unpaid"
    NOT_DISBURSED = "not_disbursed", "尚未放款", "not yet disbursed"


@dataclass(frozen=True)
class Buckets:
    """Delinquency buckets by days past due: M0 for 0, then one bucket per upper edge.

    ``edges=(30, 60, 90)`` gives M0, M1 (1–30), M2 (31–60), M3 (61–90), M4+ (> 90). A bank
    that collects on a longer ladder (M4–M6, M7+) passes more edges.
    """

    edges: tuple[int, ...] = (30, 60, 90)

    def __post_init__(self) -> None:
        if not self.edges or any(e <= 0 for e in self.edges) or \
                list(self.edges) != sorted(set(self.edges)):
            raise ValueError(f"bucket edges must be positive and increasing, got {self.edges}")

    @property
    def labels(self) -> tuple[str, ...]:
        """Best to worst: ``("M0", "M1", …, "M{n+1}+")``."""
        n = len(self.edges)
        return ("M0", *(f"M{i}" for i in range(1, n + 1)), f"M{n + 1}+")

    def label(self, dpd: int) -> str:
        """The bucket of one dpd value (the SQL does the same for whole tables)."""
        if dpd <= 0:
            return self.labels[0]
        for i, edge in enumerate(self.edges, start=1):
            if dpd <= edge:
                return self.labels[i]
        return self.labels[-1]


DEFAULT_BUCKETS = Buckets()

# The dates a state is computed at (column as_of): one bound day, or every month-end between
# two bound days. Only one of these two fixed texts is ever put into the query.
_ONE_DAY = "SELECT $day::DATE AS as_of"
_MONTH_ENDS = (
    "SELECT last_day(m)::DATE AS as_of FROM range(date_trunc('month', $first::DATE), "
    "$last::DATE + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m) "
    "WHERE last_day(m) BETWEEN $first::DATE AND $last::DATE"
)
# The first computed date on or after a day {x}: where a payment on {x} is first seen.
_SNAP_ONE_DAY = "b.first_date"
_SNAP_MONTH_END = "greatest(last_day({x}), b.first_date)"

_DIMS_RAW = """
    SELECT l.loan_id, l.party_id, coalesce(l.product_intent, a.product_intent) AS product,
           a.branch_id, a.manager_id, a.party_type AS segment, l.principal_yuan,
           l.start_date, l.maturity_date
    FROM gov.loan l
    LEFT JOIN (SELECT DISTINCT ON (loan_no) loan_no, application_no FROM raw.bank_loans) b
           ON b.loan_no = l.loan_id
    LEFT JOIN (SELECT DISTINCT ON (application_no) application_no, product_intent, branch_id,
                      manager_id, party_type FROM raw.bank_applications) a
           ON a.application_no = b.application_no"""
_DIMS_GOV_ONLY = """
    SELECT loan_id, party_id, product_intent AS product, NULL::VARCHAR AS branch_id,
           NULL::VARCHAR AS manager_id, NULL::VARCHAR AS segment, principal_yuan,
           start_date, maturity_date
    FROM gov.loan"""

_STATE_SQL = """
WITH dates AS ({dates}),
bounds AS (SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM dates),
dims AS ({dims}),
sched AS (  -- rows per loan, and the day the last of them was paid (NULL: some unpaid)
    SELECT loan_id, count(*) AS n_rows,
           CASE WHEN count(paid_on) = count(*) THEN max(paid_on) END AS settled_on
    FROM gov.repayment GROUP BY loan_id),
paid AS (  -- principal and rows paid, at the first computed date on or after payment
    SELECT r.loan_id, {snap_paid} AS as_of, sum(r.principal_due_yuan) AS principal,
           count(*) AS n
    FROM gov.repayment r, bounds b
    WHERE r.paid_on <= b.last_date
    GROUP BY ALL),
grid AS (  -- the loans each date speaks about
    SELECT d.as_of, l.*, coalesce(s.n_rows, 0) AS n_rows
    FROM dims l LEFT JOIN sched s USING (loan_id), dates d, bounds b
    WHERE $all_loans OR (l.start_date <= d.as_of
          AND (s.settled_on IS NULL OR d.as_of <= {snap_settled}))),
cum AS (
    SELECT g.*,
           coalesce(sum(p.principal) OVER w, 0) AS paid_principal,
           coalesce(sum(p.n) OVER w, 0) AS paid_rows
    FROM grid g LEFT JOIN paid p ON p.loan_id = g.loan_id AND p.as_of = g.as_of
    WINDOW w AS (PARTITION BY g.loan_id ORDER BY g.as_of
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
late_rows AS (  -- instalments overdue on at least one computed date
    SELECT r.loan_id, r.due_date, r.principal_due_yuan, r.interest_due_yuan,
           coalesce(r.paid_on, DATE '9999-12-31') AS paid_on
    FROM gov.repayment r, bounds b
    WHERE r.due_date < b.last_date
      AND coalesce(r.paid_on, DATE '9999-12-31') > {snap_due}),
late AS (
    SELECT d.as_of, r.loan_id, sum(r.principal_due_yuan) AS principal,
           sum(r.interest_due_yuan) AS interest, min(r.due_date) AS oldest_due
    FROM late_rows r JOIN dates d ON d.as_of > r.due_date AND d.as_of < r.paid_on
    GROUP BY ALL),
stated AS (
    SELECT c.*, t.principal AS late_principal, t.interest AS late_interest, t.oldest_due,
           CASE WHEN c.start_date > c.as_of THEN 'not_disbursed'
                WHEN c.n_rows > 0 AND c.paid_rows >= c.n_rows THEN 'settled'
                WHEN c.maturity_date < c.as_of THEN 'matured_unpaid'
                ELSE 'active' END AS status
    FROM cum c LEFT JOIN late t ON t.loan_id = c.loan_id AND t.as_of = c.as_of),
measured AS (
    SELECT *, CASE WHEN status IN ('not_disbursed', 'settled') THEN 0
                   ELSE coalesce(date_diff('day', oldest_due, as_of), 0) END::INTEGER AS dpd
    FROM stated)
SELECT as_of, loan_id, party_id, product, branch_id, manager_id, segment,
       date_trunc('month', start_date)::DATE AS origination_month, start_date, maturity_date,
       principal_yuan,
       CASE WHEN status IN ('not_disbursed', 'settled') THEN 0.0
            ELSE greatest(round(principal_yuan - paid_principal, 2), 0.0) END
           AS outstanding_yuan,
       CASE WHEN status = 'not_disbursed' THEN 0.0
            ELSE round(coalesce(late_principal, 0.0), 2) END AS overdue_principal_yuan,
       CASE WHEN status = 'not_disbursed' THEN 0.0
            ELSE round(coalesce(late_interest, 0.0), 2) END AS overdue_interest_yuan,
       dpd,
       CASE WHEN status IN ('not_disbursed', 'settled') THEN NULL {bucket_cases} END AS bucket,
       status,
       CASE WHEN status = 'not_disbursed' THEN NULL ELSE date_diff(
           'month', date_trunc('month', start_date), date_trunc('month', as_of)) END::INTEGER
           AS mob
FROM measured
{order}"""

STATE_COLUMNS = (
    "as_of", "loan_id", "party_id", "product", "branch_id", "manager_id", "segment",
    "origination_month", "start_date", "maturity_date", "principal_yuan", "outstanding_yuan",
    "overdue_principal_yuan", "overdue_interest_yuan", "dpd", "bucket", "status", "mob",
)
"""The columns of a loan state row, in order: what the analytics may rely on."""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                       "table_name = ?", [schema, table]).fetchall()
    views = con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND "
                        "view_name = ?", [schema, table]).fetchall()
    return bool(rows[0][0] or views[0][0])


def _query(con: duckdb.DuckDBPyConnection, month_ends: bool, buckets: Buckets,
           ordered: bool) -> tuple[str, dict[str, object]]:
    """The state query for one day or for month-ends, with its bucket parameters."""
    for schema, table in (("gov", "loan"), ("gov", "repayment")):
        if not _has_table(con, schema, table):
            raise LookupError(f"the analytic store has no {schema}.{table}: load and govern "
                              "the bank's data first (`xiaowei load`, `xiaowei govern`)")
    raw = _has_table(con, "raw", "bank_loans") and _has_table(con, "raw", "bank_applications")
    snap = _SNAP_MONTH_END if month_ends else _SNAP_ONE_DAY
    cases = [f"WHEN dpd <= $edge_{i} THEN $bucket_{i}" for i in range(1, len(buckets.edges) + 1)]
    bucket_cases = " ".join(["WHEN dpd = 0 THEN $bucket_0", *cases,
                             f"ELSE $bucket_{len(buckets.edges) + 1}"])
    sql = _STATE_SQL.format(
        dates=_MONTH_ENDS if month_ends else _ONE_DAY,
        dims=_DIMS_RAW if raw else _DIMS_GOV_ONLY,
        snap_paid=snap.format(x="r.paid_on"), snap_settled=snap.format(x="s.settled_on"),
        snap_due=snap.format(x="r.due_date + 1"), bucket_cases=bucket_cases,
        order="ORDER BY as_of, loan_id" if ordered else "")
    params: dict[str, object] = {f"bucket_{i}": label for i, label in enumerate(buckets.labels)}
    params.update({f"edge_{i}": edge for i, edge in enumerate(buckets.edges, start=1)})
    return sql, params


def fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str,
                params: dict[str, object] | None = None) -> pa.Table:
    """Run SQL with named parameters and return Arrow without an extra copy of the rows."""
    relation = con.sql(sql, params=params or None)
    if relation is None:
        raise ValueError("the statement returned no rows to fetch")
    to_table = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return to_table()


def loan_state(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
               buckets: Buckets = DEFAULT_BUCKETS) -> pa.Table:
    """Every loan of the book as of ``as_of`` — settled and not yet disbursed ones included —
    one row each with the columns :data:`STATE_COLUMNS`, ordered by loan id."""
    sql, params = _query(con, month_ends=False, buckets=buckets, ordered=True)
    return fetch_arrow(con, sql, {**params, "day": as_of, "all_loans": True})


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The month-ends ``first ≤ d ≤ last`` (what :func:`month_end_snapshots` computes at)."""
    out: list[dt.date] = []
    year, month = first.year, first.month
    while True:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        end = nxt - dt.timedelta(days=1)
        if end > last:
            return out
        if end >= first:
            out.append(end)
        year, month = nxt.year, nxt.month


def month_end_snapshots(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, *,
                        buckets: Buckets = DEFAULT_BUCKETS) -> pa.Table:
    """The loan state at every month-end ``first ≤ d ≤ last``, in one query, as Arrow
    ordered by month-end and loan id.

    A loan appears from its first month-end on book to the first month-end on or after it was
    settled (that row has status ``settled``, so roll rates see the pay-off); loans not yet
    disbursed are left out. A 1M-loan book should rather :func:`write_month_end_snapshots`.
    """
    if first > last:
        raise ValueError(f"first {first} is after last {last}")
    sql, bucket_params = _query(con, month_ends=True, buckets=buckets, ordered=True)
    return fetch_arrow(con, sql, {"first": first, "last": last, "all_loans": False,
                                  **bucket_params})


def write_month_end_snapshots(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date,
                              into: str, *, buckets: Buckets = DEFAULT_BUCKETS,
                              temporary: bool = False) -> int:
    """:func:`month_end_snapshots` written to ``into`` (``"table"`` or ``"schema.table"``,
    replaced; ``temporary`` for a TEMP table, which a read-only store allows); returns the
    number of rows. The analytics read the table by name, so the rows never leave DuckDB."""
    if first > last:
        raise ValueError(f"first {first} is after last {last}")
    if temporary and "." in into:
        raise ValueError(f"a TEMP table has no schema: {into!r}")
    params = {"first": first, "last": last, "all_loans": False}
    target = qualified_name(into)
    sql, bucket_params = _query(con, month_ends=True, buckets=buckets, ordered=False)
    if "." in into and not temporary:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {target.split('.')[0]}")
    kind = "TEMP TABLE" if temporary else "TABLE"
    con.execute(f"CREATE OR REPLACE {kind} {target} AS {sql}", {**params, **bucket_params})
    return int(con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0])


def qualified_name(name: str) -> str:
    """``table`` or ``schema.table`` quoted, after refusing anything but snake-case parts."""
    parts = name.split(".")
    if len(parts) > 2:
        raise ValueError(f"a table name is 'table' or 'schema.table', got {name!r}")
    return ".".join(quote_identifier(p, "table name part") for p in parts)


__all__ = [
    "DEFAULT_BUCKETS",
    "STATE_COLUMNS",
    "Buckets",
    "LoanStatus",
    "fetch_arrow",
    "loan_state",
    "month_end_snapshots",
    "month_ends",
    "qualified_name",
    "write_month_end_snapshots",
]
