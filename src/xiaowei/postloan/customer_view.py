"""What post-loan monitoring knows of one customer: each loan's latest day (class, ECL stage,
track, stratum, arrears, next step) and the warnings raised for the borrower, newest first.

Why a read of the batch's tables and not a computation: the customer page must show what the
nightly batch decided and the managers acted on — the same rows the reports count — not a
fresh opinion that could disagree with them. Returns None when the batch has not run yet.
"""

from __future__ import annotations

from typing import Any

import duckdb

LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}


def _has_batch(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'postloan' "
                        "AND table_name IN ('loan_day', 'warning')").fetchone()
    return bool(found and found[0] == 2)


def postloan_summary(con: duckdb.DuckDBPyConnection, governed_party_id: str,
                     warnings: int = 12) -> dict[str, Any] | None:
    """The customer's loans on their latest monitored day and their latest warnings."""
    if not _has_batch(con):
        return None
    loans = con.execute("""
        SELECT loan_id, as_of, dpd, bucket, outstanding_yuan, track, stratum, class, stage,
               ecl_yuan, inspection_mode, inspection_every_days, collection_step, pd_12m
        FROM postloan.loan_day WHERE party_id = ?
        QUALIFY as_of = max(as_of) OVER (PARTITION BY loan_id)
        ORDER BY loan_id""", [governed_party_id]).fetchall()
    keys = ("loan_id", "as_of", "dpd", "bucket", "outstanding", "track", "stratum", "class",
            "stage", "ecl", "inspection_mode", "inspection_every_days", "collection_step",
            "pd_12m")
    raised = con.execute("""
        SELECT raised_on, signal, level, value, threshold, respond_by
        FROM postloan.warning WHERE party_id = ?
        ORDER BY raised_on DESC, level_rank DESC, signal LIMIT ?""",
                         [governed_party_id, warnings]).fetchall()
    wkeys = ("raised_on", "signal", "level", "value", "threshold", "respond_by")
    return {"loans": [dict(zip(keys, r, strict=True)) for r in loans],
            "warnings": [dict(zip(wkeys, r, strict=True)) for r in raised]}


__all__ = ["postloan_summary"]
