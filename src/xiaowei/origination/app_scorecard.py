"""The application scorecard fitted out of time: trained on the past, judged on the future.

Why a cut date: a scorecard scored on the applications it was trained on looks better than it
will ever be in production (it has seen their outcomes). The honest test is the one a bank
lives through: fit on what was known on a day (applications before the cut, with the outcomes
the repayment records showed *on that day*), then decide the applications after it. So the
label here is what the bank's records showed by the cut — an instalment more than 30 days
late, or still unpaid 30 days after its due date — never what happened later, and never the
simulator's truth.

Features: the application's own fields and the applicant's tags at the snapshot of the
application's month (the same point-in-time values the pack sees when it decides, from
:class:`~xiaowei.origination.history.PointInTimeTags`), restricted to tags the pack declares as
inputs — the model resolver can only hand a model what the pack reads.

Registration: the fitted directory is registered in the model registry as a draft by the
modeller and approved by a second person (maker–checker), so that ``app_score@approved`` in the
pack resolves through the same path a bank's production would take.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.modelling.workbench import fit
from xiaowei.origination.history import HistoricalApplication, PointInTimeTags
from xiaowei.store.analytic import AnalyticStore

MIN_OUTCOMES = 5
"""Fewer bads (or goods) than this and a scorecard's bins mean nothing."""
STAND_IN_SHARE = 0.85
"""The stand-in target marks loans above this quantile of amount ÷ declared revenue."""
LATE_DAYS = 30
"""An instalment this many days late (or unpaid that long) makes a bad, as decide.py's demo."""

TAG_FEATURES = (
    "years_in_business", "registered_capital", "legal_rep_age", "relationship_years",
    "tax_sales_12m", "tax_months_filed_12m", "tax_sales_trend_6m", "declared_to_tax_sales",
    "invoice_void_ratio_12m", "invoice_active_months_12m", "account_inflow_12m",
    "account_passthrough_ratio_6m", "account_inflow_trend_6m", "electricity_trend_6m",
    "debt_to_sales", "other_bank_loans", "bureau_worst_overdue_24m",
    "bureau_overdue_reports_12m", "max_days_late_12m", "late_payments_12m", "fraud_ring_score",
    "related_risk_two_hop", "shared_phone_parties", "court_cases_defendant_12m",
    "enforcements_36m", "negative_news_6m", "applications_12m", "rejections_12m",
)
"""Numeric tags the scorecard may use (each must be a ``tag.*`` input of the default pack)."""
APP_FEATURES = ("amount", "declared_revenue", "employees")

_LABEL_SQL = f"""
SELECT l.application_no,
       MAX(CASE WHEN r.due_date + INTERVAL {LATE_DAYS} DAY < $cut
                 AND (r.paid_on IS NULL OR r.paid_on > r.due_date + INTERVAL {LATE_DAYS} DAY)
                THEN 1 ELSE 0 END) AS bad
FROM raw.bank_loans l JOIN raw.bank_repayments r USING (loan_no)
WHERE l.start_date < $cut
GROUP BY l.application_no
"""


def labels_as_of(analytic: AnalyticStore, cut: dt.date) -> dict[str, int]:
    """Each loan booked before ``cut``: 1 if the records showed it bad on that day, else 0.

    A payment made after the cut was not known on the cut day, so an instalment due more than
    30 days before the cut and paid later counts as late — as the bank saw it then.
    """
    rows = analytic.connection.execute(_LABEL_SQL, {"cut": cut}).fetchall()
    return {str(app): int(bad) for app, bad in rows}


def training_table(applications: Sequence[HistoricalApplication], tags: PointInTimeTags,
                   labels: dict[str, int], cut: dt.date, *, min_months: int = 3) -> pa.Table:
    """One row per approved application before ``cut`` whose loan ran ``min_months`` by then.

    Why ``min_months``: a loan booked a week before the cut cannot yet show a late instalment;
    counting it as good would teach the model that recent applicants are safe.
    """
    latest = _months_before(cut, min_months)
    columns: dict[str, list[Any]] = {f: [] for f in (*APP_FEATURES, *TAG_FEATURES, "bad")}
    for app in applications:
        if app.applied_on >= latest or app.application_id not in labels:
            continue
        values = tags.values(app.party_id, app.applied_on)
        for f in APP_FEATURES:
            raw = app.payload.get(f)
            columns[f].append(None if raw is None else float(raw))
        for f in TAG_FEATURES:
            v = values.get(f)
            columns[f].append(None if v is None or isinstance(v, str | bool) else float(v))
        columns["bad"].append(labels[app.application_id])
    return pa.table({k: pa.array(v, pa.int64() if k == "bad" else pa.float64())
                     for k, v in columns.items()})


def _months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, 1)


def fit_out_of_time(analytic: AnalyticStore, applications: Sequence[HistoricalApplication],
                    tags: PointInTimeTags, cut: dt.date, out: Path, *,
                    allow_synthetic: bool = False) -> dict[str, Any]:
    """Fit the scorecard on applications before ``cut`` (tags loaded for them already).

    Returns the workbench's summary plus the cut and the training rows' bad count. With fewer
    than :data:`MIN_OUTCOMES` bads (or goods) it refuses, unless ``allow_synthetic`` (the
    ``tiny`` test bank): then the target is a stand-in (the loans asking most against their
    declared revenue, top 15 %) and the summary says ``synthetic: true``.
    """
    before = [a for a in applications if a.applied_on < cut]
    table = training_table(before, tags, labels_as_of(analytic, cut), cut)
    bads = sum(table.column("bad").to_pylist())
    synthetic = bads < MIN_OUTCOMES or table.num_rows - bads < MIN_OUTCOMES
    if synthetic and not allow_synthetic:
        raise ValueError(f"too few outcomes before {cut} to fit a scorecard: {bads} bad of "
                         f"{table.num_rows} loans (need {MIN_OUTCOMES} of each)")
    if synthetic:  # a tiny test bank: the demo's stand-in target, said so in the summary
        if table.num_rows < 2 * MIN_OUTCOMES:
            raise ValueError(f"too few loans before {cut} to fit even a stand-in scorecard: "
                             f"{table.num_rows}")
        ratio = pc.divide(table.column("amount"), pc.add(table.column("declared_revenue"), 1.0))
        top = pc.quantile(ratio, q=STAND_IN_SHARE)[0]
        stand_in = pc.cast(pc.greater(ratio, top), pa.int64())
        table = table.set_column(table.column_names.index("bad"), "bad", stand_in)
    out.mkdir(parents=True, exist_ok=True)
    data = out.parent / f"{out.name}-train.parquet"
    pq.write_table(table, data)
    summary = fit(data, "bad", out)
    return {**summary, "cut": cut.isoformat(), "bads": bads, "synthetic": synthetic}


def register_and_approve(model_dir: Path, *, maker: str = "demo.modeller",
                         checker: str = "demo.validator", name: str = "app_score",
                         note: str = "out-of-time application scorecard") -> str:
    """Register ``model_dir`` as ``name`` and approve it by a second person; its reference.

    Registering the same content again returns the version already there (idempotent), and an
    approved version is not approved twice.
    """
    from xiaowei.modelling.registry import open_registry

    with open_registry() as registry:
        record = registry.register(model_dir, name, maker, note=note).record
        if str(record.status) != "approved":
            record = registry.approve(record.ref, checker, note="maker–checker: demo validator")
        return record.ref


__all__ = ["APP_FEATURES", "MIN_OUTCOMES", "TAG_FEATURES", "fit_out_of_time", "labels_as_of",
           "register_and_approve", "training_table"]
