"""A first look at a loaded bank: what the demo prints and `--json` returns.

Figures come from the transactional store (the bank's records) and the analytic store (the
sources), by SQL, so they are the same whatever loaded the data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from xiaowei.store.analytic import AnalyticStore

DPD_BUCKETS = (("M0", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M4+", 91, 10**6))


def summarise(engine: Engine, analytic: AnalyticStore, as_of: dt.date) -> dict[str, Any]:
    with engine.connect() as con:
        def one(sql: str, **p: Any) -> Any:
            return con.execute(text(sql), p).scalar()

        def pairs(sql: str, **p: Any) -> dict[str, Any]:
            return {str(k): v for k, v in con.execute(text(sql), p).all()}

        parties = pairs("SELECT party_type, COUNT(*) FROM party GROUP BY party_type")
        apps = pairs("SELECT status, COUNT(*) FROM application GROUP BY status")
        channels = pairs("SELECT channel, COUNT(*) FROM application GROUP BY channel")
        # Grouped by month in Python: date functions differ between SQLite and PostgreSQL.
        months = con.execute(text("SELECT applied_at FROM application")).scalars().all()
        loans = pairs("SELECT status, COUNT(*) FROM loan GROUP BY status")
        # Sums in integer fen: SQLite keeps NUMERIC as a float, so SUM would drift.
        principal = _yuan(one("SELECT COALESCE(SUM(CAST(ROUND(principal * 100) AS BIGINT)), 0) "
                              "FROM loan"))
        outstanding = _yuan(one(
            "SELECT COALESCE(SUM(CAST(ROUND(principal_due * 100) AS BIGINT)), 0) "
            "FROM repayment WHERE paid_on IS NULL"))
        oldest_unpaid = con.execute(text(
            "SELECT loan_id, MIN(due_date) FROM repayment WHERE paid_on IS NULL "
            "AND due_date <= :d GROUP BY loan_id"), {"d": as_of}).all()
        active_customers = one(
            "SELECT COUNT(DISTINCT party_id) FROM loan WHERE status IN ('active', 'overdue')")
        managers = one("SELECT COUNT(*) FROM customer_manager")
        branches = one("SELECT COUNT(*) FROM branch")
        quarantine = pairs("SELECT table_name, COUNT(*) FROM quarantined_row GROUP BY "
                           "table_name")
    per_month: dict[str, int] = {}
    for applied_at in months:
        key = str(applied_at)[:7]
        per_month[key] = per_month.get(key, 0) + 1
    buckets = dict.fromkeys((b[0] for b in DPD_BUCKETS), 0)
    for _loan, due in oldest_unpaid:
        dpd = (as_of - _as_date(due)).days
        for name, lo, hi in DPD_BUCKETS:
            if lo <= dpd <= hi:
                buckets[name] += 1
    n_loans_open = (loans.get("active", 0) + loans.get("overdue", 0))
    buckets["M0"] = n_loans_open - sum(v for k, v in buckets.items() if k != "M0")
    decided = apps.get("approved", 0) + apps.get("rejected", 0)
    sources = {name: analytic.row_count(name, "raw") for name in analytic.tables("raw")
               if not name.startswith("bank_")}
    return {
        "as_of": as_of.isoformat(),
        "parties": parties,
        "applications": {"total": sum(apps.values()), "by_status": apps,
                         "by_channel": channels, "by_month": dict(sorted(per_month.items())),
                         "approval_rate": round(apps.get("approved", 0) / decided, 4)
                         if decided else None},
        "loans": {"total": sum(loans.values()), "by_status": loans,
                  "principal_granted": str(principal), "outstanding_principal": str(outstanding),
                  "dpd_buckets": buckets},
        "staff": {"managers": managers, "branches": branches,
                  "customers_with_open_loans": active_customers,
                  "customers_per_manager": round(active_customers / managers, 1)
                  if managers else None},
        "sources": sources,
        "quarantined": quarantine,
    }


def _yuan(fen: Any) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
