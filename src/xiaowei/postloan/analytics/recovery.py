"""Collection recovery by bucket: of the balance that entered each delinquency bucket, how much
was cured, paid off or collected within N months.

Why: each collection stage (DOMAIN.md §4) costs more than the one before — calls, visits,
lawyers, courts — and is judged by what comes back; a bucket whose entries rarely recover is
where restructuring or early transfer pays.

An *entry* into bucket B (M1 or worse) at a month-end: the loan is in B there and, at the
month-end before, was in a better bucket or not yet on book. Only entries with N month-ends
of history after them count. Within the N month-ends after entry:

* ``cured``: the loan was back in M0 or paid off at one of them;
* ``settled``: it was paid off;
* ``collected``: entering balance − balance at the N-th month-end (0 if paid off).

Shares are of the entering balance (``*_share``) and, for cured and settled, of the number of
entries (``*_loan_share``).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from xiaowei.postloan.analytics.source import Snapshots, snapshot_source
from xiaowei.postloan.loan_state import DEFAULT_BUCKETS, Buckets, LoanStatus, fetch_arrow


def recovery_by_bucket(con: duckdb.DuckDBPyConnection, snapshots: Snapshots, *,
                       months: int = 3, buckets: Buckets = DEFAULT_BUCKETS) -> pa.Table:
    """Per bucket M1 … (worst): entries, entering_balance_yuan, cured_share,
    cured_loan_share, settled_share, settled_loan_share, collected_share (see above)."""
    if months <= 0:
        raise ValueError(f"months must be positive, got {months}")
    labels = list(buckets.labels)
    rank = pa.table({"bucket": labels, "rank": list(range(len(labels)))})
    con.register("xw_bucket_rank", rank)
    try:
        with snapshot_source(con, snapshots) as source:
            return fetch_arrow(con, f"""
            WITH span AS (SELECT max(as_of) AS last_date FROM {source}),
            s AS (SELECT s.loan_id, s.as_of, s.bucket, s.status, s.outstanding_yuan, r.rank
                  FROM {source} s LEFT JOIN xw_bucket_rank r USING (bucket)),
            entries AS (
                SELECT c.loan_id, c.as_of, c.bucket, c.rank, c.outstanding_yuan,
                       last_day(c.as_of + to_months($n)) AS horizon
                FROM s c LEFT JOIN s p
                     ON p.loan_id = c.loan_id AND p.as_of = c.as_of - day(c.as_of)::INTEGER
                , span
                WHERE c.rank >= 1 AND (p.loan_id IS NULL OR p.rank < c.rank)
                  AND last_day(c.as_of + to_months($n)) <= span.last_date),
            outcome AS (
                SELECT e.loan_id, e.as_of, any_value(e.bucket) AS bucket,
                       any_value(e.rank) AS rank, any_value(e.outstanding_yuan) AS entering,
                       bool_or(f.status = $settled OR f.rank = 0) AS cured,
                       bool_or(f.status = $settled) AS settled,
                       coalesce(any_value(f.outstanding_yuan) FILTER (
                           WHERE f.as_of = e.horizon), 0) AS horizon_balance
                FROM entries e LEFT JOIN s f
                     ON f.loan_id = e.loan_id AND f.as_of > e.as_of AND f.as_of <= e.horizon
                GROUP BY e.loan_id, e.as_of)
            SELECT bucket, count(*) AS entries, sum(entering) AS entering_balance_yuan,
                   coalesce(sum(entering) FILTER (WHERE cured), 0) / nullif(sum(entering), 0)
                       AS cured_share,
                   count(*) FILTER (WHERE cured) / count(*) AS cured_loan_share,
                   coalesce(sum(entering) FILTER (WHERE settled), 0)
                       / nullif(sum(entering), 0) AS settled_share,
                   count(*) FILTER (WHERE settled) / count(*) AS settled_loan_share,
                   (sum(entering) - sum(horizon_balance)) / nullif(sum(entering), 0)
                       AS collected_share
            FROM outcome GROUP BY bucket ORDER BY min(rank)
            """, {"n": int(months), "settled": LoanStatus.SETTLED.value})
    finally:
        con.unregister("xw_bucket_rank")
