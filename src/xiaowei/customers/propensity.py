"""Offer propensity (营销响应倾向): who among the customers is likely to take up new business.

What it honestly predicts. The bank has no campaign history — nobody recorded who was offered
what and who said yes — so no model can learn *response to an offer* yet. What the bank can
see is customers who took up new credit business on their own: a **new loan that is not a
renewal** (a loan starting from 30 days before to 60 days after one of the party's own loans
matures is a renewal and belongs to retention) — a first loan of a deposit customer, a new
product type, or an additional loan beside an open one. The look-alike model ranks customers
by how much they resemble those who did, within :data:`HORIZON_MONTHS` after a month-end. It
is a proxy for appetite and need, not for the effect of an offer; the campaign outcomes
recorded on offer tasks (:mod:`xiaowei.customers.operation_tasks`) are what a response model
will be fitted on once enough exist.

How it is fitted (the house way, :mod:`xiaowei.customers.oot_fit`):

* **rows**: every customer (an account or a loan at the bank; not more than 30 days past due)
  at each month-end of the window whose horizon lies inside the data known by ``known_by``;
* **features**: business-attribute tags from a tag run *as of that month-end*
  (:data:`PROPENSITY_TAGS`) — never a later one;
* **target**: took new business within the horizon;
* **out of time**: fitted on the month-ends up to a cut, judged on the last ones; registered
  as ``offer_propensity`` with maker–checker approval.

The ranking in :mod:`xiaowei.customers.offers` is **eligibility × propensity × value**.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from xiaowei.customers.offer_rules import tag_frame, tag_types
from xiaowei.customers.oot_fit import (
    LookAlikeSet,
    load_approved,
    predict,
)
from xiaowei.customers.oot_fit import (
    fit_out_of_time as fit_look_alike,
)
from xiaowei.modelling.workbench import FittedModel
from xiaowei.postloan.behaviour_features import Progress, add_months, month_end, tag_runner
from xiaowei.postloan.loan_state import month_ends
from xiaowei.store.analytic import AnalyticStore

MODEL_NAME = "offer_propensity"
HORIZON_MONTHS = 6
"""How long after a month-end new business counts (6: the small bank's 24 months of loans
leave 18 month-ends with a known outcome, against 12 with a 12-month horizon)."""
MIN_EVENTS = 20
RENEWAL_BEFORE_DAYS, RENEWAL_AFTER_DAYS = 30, 60
PROPENSITY_TAGS = (
    "party_type", "industry_section", "years_in_business", "supply_chain_role",
    "relationship_years", "account_count", "has_basic_account", "deposit_balance_avg_6m",
    "account_inflow_12m", "account_inflow_trend_6m", "transactions_12m",
    "settlement_share_of_sales_12m", "tax_sales_12m", "tax_sales_trend_12m",
    "tax_credit_grade", "invoice_amount_trend_3m", "invoice_active_months_12m",
    "declared_employees", "loans_total", "active_loans", "products_held",
    "outstanding_principal", "applications_12m", "rejections_12m", "hard_inquiries_3m",
    "other_bank_loans", "debt_to_sales", "late_payments_12m",
)
CATEGORICAL = ("party_type", "industry_section", "supply_chain_role", "tax_credit_grade")
POPULATION_TAGS = ("account_count", "loans_total", "days_past_due")

_LABEL_SQL = """
WITH ends AS (SELECT unnest($ends)::DATE AS m),
renewal AS (
    SELECT DISTINCT n.loan_id FROM gov.loan n JOIN gov.loan o
      ON o.party_id = n.party_id AND o.loan_id <> n.loan_id AND o.start_date < n.start_date
     AND n.start_date BETWEEN o.maturity_date - CAST($before AS INTEGER)
                          AND o.maturity_date + CAST($after AS INTEGER)),
new_business AS (
    SELECT party_id, start_date FROM gov.loan
    WHERE loan_id NOT IN (SELECT loan_id FROM renewal))
SELECT DISTINCT e.m AS as_of, b.party_id
FROM ends e JOIN new_business b
  ON b.start_date > e.m AND b.start_date <= e.m + to_months(CAST($h AS INTEGER))
"""


def model_columns(frame: pa.Table, features: tuple[str, ...]) -> pa.Table:
    """The model's view of a tag frame: booleans as 0/1 numbers, the rest as they are."""
    columns = {}
    for name in features:
        column = frame[name]
        if pa.types.is_boolean(column.type):
            column = column.cast(pa.int8()).cast(pa.float64())
        columns[name] = column
    return pa.table(columns)


def feature_labels(tags: tuple[str, ...] = PROPENSITY_TAGS) -> dict[str, tuple[str, str]]:
    from xiaowei.data.tags.service import bank_catalogue

    defined = bank_catalogue().tags
    return {t: (defined[t].definition.label.zh, defined[t].definition.label.en) for t in tags}


def took_new_business(con: duckdb.DuckDBPyConnection, ends: list[dt.date],
                      horizon: int) -> set[tuple[dt.date, str]]:
    """(month-end, party) pairs where the party started new non-renewal business in the
    ``horizon`` months after the month-end."""
    rows = con.execute(_LABEL_SQL, {"ends": ends, "h": horizon, "before": RENEWAL_BEFORE_DAYS,
                                    "after": RENEWAL_AFTER_DAYS}).fetchall()
    return {(m, p) for m, p in rows}


def training_set(analytic: AnalyticStore, *, months: int = 18, horizon: int = HORIZON_MONTHS,
                 known_by: dt.date | None = None,
                 progress: Progress | None = None) -> LookAlikeSet:
    """One row per customer per month-end (see the module docstring), the outcome known by
    ``known_by`` (default: the end of the data) — a plan fitted as of a day passes that day."""
    from xiaowei.data.tags.service import bank_catalogue, data_as_of, governed_snapshot

    if not (isinstance(horizon, int) and 1 <= horizon <= 24):
        raise ValueError(f"horizon must be a whole number of months in 1..24, got {horizon!r}")
    if not (isinstance(months, int) and months >= 2):
        raise ValueError(f"months must be a whole number ≥ 2, got {months!r}")
    started = time.perf_counter()
    con = analytic.connection
    data_end = data_as_of(analytic)
    known = min(known_by or data_end, data_end)
    earliest = con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
    if earliest is None:
        raise LookupError("the analytic store holds no loans (gov.loan is empty)")
    last = add_months(month_end(known), -horizon)
    if add_months(last, horizon) > known:
        last = add_months(last, -1)
    ends = month_ends(month_end(earliest), last)[-months:]
    if len(ends) < 2:
        raise ValueError(f"the data known by {known} holds {len(ends)} month-end(s) with a "
                         f"{horizon}-month outcome; the propensity needs at least 2")
    events = took_new_business(con, ends, horizon)
    tags = tuple(dict.fromkeys((*PROPENSITY_TAGS, *POPULATION_TAGS)))
    tag_types(tags)
    catalogue = bank_catalogue()
    runner, run = tag_runner(catalogue, governed_snapshot(analytic, catalogue), tags)
    parts = []
    with runner:
        for i, end in enumerate(ends):
            if progress:
                progress("month-ends", i, len(ends))
            parts.append(_month_rows(run(end), end, events))
    if progress:
        progress("month-ends", len(ends), len(ends))
    table = pa.concat_tables(parts)
    return LookAlikeSet(table, tuple(ends), PROPENSITY_TAGS, CATEGORICAL, "party_id", known,
                        time.perf_counter() - started)


def _month_rows(rows: pa.Table, end: dt.date, events: set[tuple[dt.date, str]]) -> pa.Table:
    """The customers of one month-end with their features and outcome."""
    con = duckdb.connect()
    try:
        con.register("tag_rows", rows)
        parties = [r[0] for r in con.execute("""
            SELECT entity_id FROM tag_rows GROUP BY entity_id
            HAVING max(CASE WHEN tag IN ('account_count', 'loans_total')
                            THEN coalesce(value_int, 0) END) >= 1
               AND coalesce(max(CASE WHEN tag = 'days_past_due' THEN value_int END), 0) <= 30
               AND max(CASE WHEN tag = 'party_type' THEN value_string END) IS NOT NULL
            ORDER BY entity_id""").fetchall()]
    finally:
        con.close()
    frame = model_columns(tag_frame(rows, PROPENSITY_TAGS, parties), PROPENSITY_TAGS)
    bad = np.array([(end, p) in events for p in parties], dtype=np.int64)
    keys = pa.table({"as_of": pa.array([end] * len(parties), pa.date32()),
                     "party_id": pa.array(parties, pa.string())})
    out = keys
    for name in frame.column_names:
        out = out.append_column(name, frame[name])
    return out.append_column("bad", pa.array(bad, pa.int64()))


def fit_out_of_time(analytic: AnalyticStore, out: Path, *, months: int = 18,
                    oot_months: int = 4, horizon: int = HORIZON_MONTHS,
                    known_by: dt.date | None = None, minimum: int = MIN_EVENTS,
                    training: LookAlikeSet | None = None,
                    progress: Progress | None = None) -> dict[str, Any]:
    """Fit the propensity on the month-ends up to the cut and judge it on the last
    ``oot_months``; write the model directory ``out`` and return the summary (``auc_oot`` …).
    Too few customers who took new business in either sample is refused naming the counts."""
    training = training or training_set(analytic, months=months, horizon=horizon,
                                        known_by=known_by, progress=progress)
    return fit_look_alike(
        training, out, oot_months=oot_months, minimum=minimum, what="an offer propensity",
        labels=feature_labels(),
        describe={"model": MODEL_NAME, "horizon_months": horizon,
                  "population": "customers (account or loan), days past due <= 30",
                  "target": "a new loan that is not a renewal within the horizon"})


class OfferPropensity:
    """A fitted propensity: P(new business within the horizon) per customer."""

    def __init__(self, fitted: FittedModel, ref: str | None = None) -> None:
        self.fitted = fitted
        self.ref = ref or str(fitted.directory)
        self.tags = tuple(fitted.features)

    def predict_frame(self, frame: pa.Table) -> np.ndarray:
        """Probability per row of a tag frame (:func:`~xiaowei.customers.offer_rules.tag_frame`)
        holding the model's tags."""
        return predict(self.fitted, model_columns(frame, self.tags))


def load_offer_propensity(model_dir: Path | None = None) -> OfferPropensity | None:
    """A model directory, else ``offer_propensity@approved`` from the registry, else None."""
    from xiaowei.modelling.workbench import load

    if model_dir is not None:
        return OfferPropensity(load(Path(model_dir)))
    fitted = load_approved(MODEL_NAME)
    return None if fitted is None else OfferPropensity(fitted, f"{MODEL_NAME}@approved")


__all__ = ["CATEGORICAL", "HORIZON_MONTHS", "MIN_EVENTS", "MODEL_NAME", "PROPENSITY_TAGS",
           "OfferPropensity", "fit_out_of_time", "load_offer_propensity", "model_columns",
           "took_new_business", "training_set"]
