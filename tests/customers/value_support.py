"""Helpers of the value-mining and retention tests: a customer the offers pack sees whole,
and a copy of the tiny bank cut at a day (as if nothing after it had happened yet)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb

from xiaowei.customers.offer_rules import offers_pack
from xiaowei.customers.offers import case_inputs

GOOD_FIRM: dict[str, Any] = {
    "party_type": "enterprise", "years_in_business": 5.0, "lifecycle_stage": "mature",
    "account_count": 1.0, "has_basic_account": True, "declared_employees": 12.0,
    "account_inflow_12m": 12_000_000.0, "account_passthrough_ratio_6m": 0.95,
    "deposit_balance_avg_6m": 500_000.0, "transactions_12m": 600.0,
    "settlement_share_of_sales_12m": 0.6, "tax_credit_grade": "A",
    "invoice_amount_trend_3m": 1.3, "invoice_active_months_12m": 12.0,
    "tax_sales_trend_12m": 1.1, "supply_chain_role": "member", "anchor_tax_grade": "A",
    "days_past_due": 0.0, "max_days_late_12m": 0.0, "dishonest_debtor": False,
    "registry_revoked": False, "abnormal_listed_now": False, "loans_total": 1.0,
}
"""A firm every product's rules accept: 12 staff, idle deposits, growing invoices, grade A,
a dealer of a grade-A anchor, busy accounts, no arrears, no warnings."""


def firm_inputs(*, warn: int = 0, klass: int | None = 0, held: tuple[str, ...] = (),
                room: float | None = 1_000_000.0, **tags: Any) -> dict[str, Any]:
    """The offers pack's inputs for :data:`GOOD_FIRM` with ``tags`` changed (None removes a
    tag); the limit policy's room set directly to ``room`` (cap 8 million)."""
    values = {**GOOD_FIRM, **tags}
    inputs = case_inputs("P-TEST", {k: v for k, v in values.items() if v is not None},
                         warn_worst=warn, class_rank=klass, held=held,
                         tags=[n[4:] for n in offers_pack().inputs if n.startswith("tag.")])
    inputs.update({"lim.verified_revenue": 5_000_000.0, "lim.room": room,
                   "lim.cap": 8_000_000.0})
    return inputs


def cut_bank(analytic_file: Path, cut: dt.date) -> None:
    """Make a copied bank look as it did on ``cut``: rows known later deleted, payments made
    later unpaid, the governed as-of moved back and the Parquet snapshot dropped (rebuilt)."""
    con = duckdb.connect(str(analytic_file))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'gov' AND "
            "column_name = 'known_at'").fetchall()]
        for table in tables:
            con.execute(f"DELETE FROM gov.{table} WHERE CAST(known_at AS DATE) > ?", [cut])
        con.execute("UPDATE gov.repayment SET paid_on = NULL WHERE paid_on > ?", [cut])
        con.execute("UPDATE gov.meta SET value = ? WHERE key = 'as_of'", [cut.isoformat()])
    finally:
        con.close()
    for folder in ("governed", "tag-runs"):
        shutil.rmtree(analytic_file.parent / folder, ignore_errors=True)
