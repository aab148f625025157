"""Churn at maturity (到期流失): the chance that a good borrower leaves when its loan matures.

Why a model: good customers leave at maturity because nobody called; the renewal pipeline
(:mod:`xiaowei.customers.renewal`) must spend its managers' hours on the loans most likely to
be lost, and the score says which.

Definitions (what the bank can see — ``gov.loan``, ``gov.repayment`` and the governed tag
sources, never the simulator's truth):

* **point of observation** of a loan maturing on ``M``: the first month-end at most 90 days
  before ``M`` (``last_day(M − 90 days)``) — the month-end run at which the loan first enters
  the 90-day renewal window;
* **population**: loans with a balance at that point, not more than 30 days past due then, that
  were **repaid** (every instalment paid by ``M`` + 30 days) — a loan that defaults is a
  collection case, not a churn case;
* **target** (``bad`` = churned): the borrower started no other loan from the point of
  observation to ``M`` + 60 days; known 60 days after maturity, so only loans with
  ``M`` + 60 ≤ the day the data is known by are labelled;
* **features** at the point: the loan's history (:data:`LOAN_FEATURES`: product, principal,
  term, share still outstanding, worst lateness and late instalments so far) and the borrower's
  tags from a tag run as of that month-end (:data:`CHURN_TAGS`).

Fitted out of time with :mod:`xiaowei.customers.oot_fit` (split by month-end of observation)
and registered as ``churn_at_maturity``. :class:`ChurnModel` scores any day's maturing loans in
one vectorised pass (the point of observation is then that day).
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
from xiaowei.customers.oot_fit import LookAlikeSet, load_approved, predict
from xiaowei.customers.oot_fit import fit_out_of_time as fit_look_alike
from xiaowei.customers.propensity import model_columns
from xiaowei.modelling.workbench import FittedModel
from xiaowei.postloan.behaviour_features import Progress, month_end, tag_runner
from xiaowei.postloan.loan_state import fetch_arrow, month_ends
from xiaowei.store.analytic import AnalyticStore

MODEL_NAME = "churn_at_maturity"
WINDOW_DAYS = 90
RENEWED_WITHIN_DAYS = 60
REPAID_WITHIN_DAYS = 30
PERFORMING_DPD = 30
MIN_EVENTS = 10
SCORECARD_PARAMS = {"min_bin_share": 0.05, "max_bins": 4, "max_features": 8}
"""Coarser than the propensity's: a few hundred loans a year, so wide bins and few features.
On ``small`` six settings tried moved the out-of-time AUC only within noise (0.56–0.58); the
coarse one is kept for the smaller training gap (docs/customers_value_retention.md)."""
LOAN_FEATURES = ("product", "principal_yuan", "term_months", "outstanding_ratio",
                 "worst_late_days", "late_instalments")
CHURN_TAGS = (
    "party_type", "industry_section", "years_in_business", "relationship_years",
    "has_basic_account", "deposit_balance_avg_6m", "account_inflow_12m",
    "account_inflow_trend_3m", "account_inflow_trend_6m", "transactions_12m",
    "settlement_share_of_sales_12m", "tax_sales_12m", "tax_sales_trend_6m",
    "tax_sales_trend_12m", "invoice_amount_trend_3m", "tax_credit_grade",
    "electricity_trend_6m", "loans_total", "renewals", "products_held", "other_bank_loans",
    "other_bank_balance", "hard_inquiries_3m", "applications_12m", "late_payments_12m",
    "max_days_late_12m", "supply_chain_role",
)
CATEGORICAL = ("product", "party_type", "industry_section", "tax_credit_grade",
               "supply_chain_role")
LABELS: dict[str, tuple[str, str]] = {
    "product": ("产品", "Product"), "principal_yuan": ("贷款本金", "Principal"),
    "term_months": ("期限(月)", "Term (months)"),
    "outstanding_ratio": ("剩余本金占比", "Outstanding ÷ principal"),
    "worst_late_days": ("本笔最长逾期天数", "Worst lateness on this loan (days)"),
    "late_instalments": ("本笔逾期期数", "Late instalments on this loan"),
}

_FEATURES_SQL = """
WITH r AS (
    SELECT p.loan_id, p.obs,
           sum(CASE WHEN r.paid_on IS NULL OR r.paid_on > p.obs
                    THEN r.principal_due_yuan ELSE 0 END) AS outstanding,
           coalesce(max(CASE WHEN r.due_date < p.obs THEN greatest(date_diff('day', r.due_date,
                    least(coalesce(r.paid_on, p.obs), p.obs)), 0) END), 0) AS worst_late_days,
           sum(CASE WHEN r.due_date < p.obs AND (r.paid_on IS NULL OR r.paid_on > r.due_date)
                    THEN 1 ELSE 0 END) AS late_instalments,
           coalesce(max(CASE WHEN r.due_date < p.obs AND (r.paid_on IS NULL OR r.paid_on > p.obs)
                    THEN date_diff('day', r.due_date, p.obs) END), 0) AS dpd
    FROM points p JOIN gov.repayment r ON r.loan_id = p.loan_id
    GROUP BY p.loan_id, p.obs)
SELECT p.obs AS as_of, p.loan_id, l.party_id, l.product_intent AS product,
       l.principal_yuan::DOUBLE AS principal_yuan,
       date_diff('month', l.start_date, l.maturity_date)::DOUBLE AS term_months,
       (r.outstanding / nullif(l.principal_yuan, 0))::DOUBLE AS outstanding_ratio,
       r.worst_late_days::DOUBLE AS worst_late_days,
       r.late_instalments::DOUBLE AS late_instalments,
       r.dpd::INTEGER AS dpd, r.outstanding::DOUBLE AS outstanding_yuan,
       l.start_date, l.maturity_date
FROM points p JOIN gov.loan l ON l.loan_id = p.loan_id
JOIN r ON r.loan_id = p.loan_id AND r.obs = p.obs
ORDER BY p.obs, p.loan_id
"""

_POPULATION_SQL = """
WITH l AS (
    SELECT loan_id, party_id, start_date, maturity_date,
           last_day(maturity_date - INTERVAL 90 DAY)::DATE AS obs
    FROM gov.loan),
settled AS (
    SELECT loan_id, count(*) = count(paid_on) AND max(paid_on) <= any_value(m) + $repaid
           AS repaid
    FROM (SELECT r.loan_id, r.paid_on, l.maturity_date AS m FROM gov.repayment r
          JOIN gov.loan l USING (loan_id)) GROUP BY loan_id)
SELECT l.loan_id, l.obs,
       NOT EXISTS (SELECT 1 FROM gov.loan n WHERE n.party_id = l.party_id
                   AND n.loan_id <> l.loan_id AND n.start_date > l.obs
                   AND n.start_date <= l.maturity_date + $renewed) AS churned
FROM l JOIN settled s USING (loan_id)
WHERE s.repaid AND l.start_date <= l.obs AND l.obs BETWEEN $first AND $last
  AND l.maturity_date + $renewed <= $known
ORDER BY l.obs, l.loan_id
"""


def loan_features(con: duckdb.DuckDBPyConnection, points: pa.Table) -> pa.Table:
    """The loan history of each (``loan_id``, ``obs``) point as of ``obs`` — only what was
    known then (payments by ``obs``, lateness so far)."""
    cur = con.cursor()
    try:
        cur.register("points", points.select(["loan_id", "obs"]))
        return fetch_arrow(cur, _FEATURES_SQL)
    finally:
        cur.close()


def feature_labels() -> dict[str, tuple[str, str]]:
    from xiaowei.customers.propensity import feature_labels as tag_labels

    return {**LABELS, **tag_labels(CHURN_TAGS)}


def _join_tags(rows: pa.Table, tag_rows: pa.Table, tags: tuple[str, ...]) -> pa.Table:
    frame = model_columns(tag_frame(tag_rows, tags, rows["party_id"].to_pylist()), tags)
    out = rows
    for name in tags:
        out = out.append_column(name, frame[name])
    return out


def training_set(analytic: AnalyticStore, *, months: int = 12, known_by: dt.date | None = None,
                 progress: Progress | None = None) -> LookAlikeSet:
    """The labelled maturing loans (see the module docstring) of the last ``months``
    month-ends of observation whose every loan's outcome is known by ``known_by``."""
    from xiaowei.data.tags.service import bank_catalogue, data_as_of, governed_snapshot

    if not (isinstance(months, int) and months >= 2):
        raise ValueError(f"months must be a whole number ≥ 2, got {months!r}")
    started = time.perf_counter()
    con = analytic.connection
    data_end = data_as_of(analytic)
    known = min(known_by or data_end, data_end)
    earliest = con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
    if earliest is None:
        raise LookupError("the analytic store holds no loans (gov.loan is empty)")
    # the latest month-end whose whole cohort (maturing up to 91 days later) is labelled
    limit = known - dt.timedelta(days=WINDOW_DAYS + RENEWED_WITHIN_DAYS)
    last = limit if month_end(limit) == limit else limit.replace(day=1) - dt.timedelta(days=1)
    ends = month_ends(month_end(earliest), last)[-months:]
    if len(ends) < 2:
        raise ValueError(f"the data known by {known} holds {len(ends)} month-end(s) whose "
                         f"maturing loans' outcomes are known; the churn model needs at "
                         "least 2")
    population = fetch_arrow(con, _POPULATION_SQL, {
        "first": ends[0], "last": ends[-1], "known": known, "repaid": REPAID_WITHIN_DAYS,
        "renewed": RENEWED_WITHIN_DAYS})
    rows = loan_features(con, population)
    rows = _population(rows, population)
    tag_types(CHURN_TAGS)
    catalogue = bank_catalogue()
    runner, run = tag_runner(catalogue, governed_snapshot(analytic, catalogue), CHURN_TAGS)
    parts = []
    as_of = rows["as_of"].to_pylist()
    with runner:
        for i, end in enumerate(ends):
            if progress:
                progress("month-ends", i, len(ends))
            mask = pa.array([d == end for d in as_of], pa.bool_())
            part = rows.filter(mask)
            if part.num_rows:
                parts.append(_join_tags(part, run(end), CHURN_TAGS))
    if progress:
        progress("month-ends", len(ends), len(ends))
    if not parts:
        raise ValueError(f"no maturing loans observed at the month-ends {ends[0]} … {ends[-1]}")
    table = pa.concat_tables(parts)
    features = (*LOAN_FEATURES, *CHURN_TAGS)
    table = table.select(["as_of", "loan_id", "party_id", *features, "bad"])
    return LookAlikeSet(table, tuple(ends), features, CATEGORICAL, "loan_id", known,
                        time.perf_counter() - started)


def _population(rows: pa.Table, population: pa.Table) -> pa.Table:
    """Loans with a balance, performing at the point, with their churn outcome as ``bad``."""
    churned = dict(zip(population["loan_id"].to_pylist(),
                       population["churned"].to_pylist(), strict=True))
    keep = [o > 0 and d <= PERFORMING_DPD for o, d in zip(
        rows["outstanding_yuan"].to_pylist(), rows["dpd"].to_pylist(), strict=True)]
    rows = rows.filter(pa.array(keep, pa.bool_()))
    bad = [1 if churned[x] else 0 for x in rows["loan_id"].to_pylist()]
    return rows.append_column("bad", pa.array(bad, pa.int64()))


def fit_out_of_time(analytic: AnalyticStore, out: Path, *, months: int = 12,
                    oot_months: int = 3, known_by: dt.date | None = None,
                    minimum: int = MIN_EVENTS, training: LookAlikeSet | None = None,
                    progress: Progress | None = None) -> dict[str, Any]:
    """Fit the churn model on the month-ends up to the cut, judge it on the last
    ``oot_months``; write ``out`` and return the summary. Too few churned (or renewed) loans
    in either sample is refused naming the counts."""
    training = training or training_set(analytic, months=months, known_by=known_by,
                                        progress=progress)
    return fit_look_alike(
        training, out, oot_months=oot_months, minimum=minimum, what="a churn-at-maturity model",
        labels=feature_labels(),
        describe={"model": MODEL_NAME, "window_days": WINDOW_DAYS,
                  "population": f"repaid loans, performing (dpd <= {PERFORMING_DPD}) at the "
                                "first month-end within 90 days of maturity",
                  "target": f"no new loan of the borrower by maturity + {RENEWED_WITHIN_DAYS} "
                            "days"}, params=SCORECARD_PARAMS)


class ChurnModel:
    """A fitted churn-at-maturity model applied to any day's maturing loans."""

    def __init__(self, fitted: FittedModel, ref: str | None = None) -> None:
        self.fitted = fitted
        self.ref = ref or str(fitted.directory)
        self.tags = tuple(f for f in fitted.features if f not in LOAN_FEATURES)

    def score(self, con: duckdb.DuckDBPyConnection, loans: pa.Table, tag_rows: pa.Table
              ) -> np.ndarray:
        """P(churn) per row of ``loans`` (``loan_id``, ``obs``), observed at ``obs`` with
        ``tag_rows`` (a tag run of that day holding :attr:`tags`)."""
        if loans.num_rows == 0:
            return np.zeros(0)
        rows = loan_features(con, loans)
        rows = _join_tags(rows, tag_rows, self.tags)
        index = {(x, d): i for i, (x, d) in enumerate(zip(
            rows["loan_id"].to_pylist(), rows["as_of"].to_pylist(), strict=True))}
        pd = predict(self.fitted, rows)
        out = np.full(loans.num_rows, np.nan)
        for i, key in enumerate(zip(loans["loan_id"].to_pylist(), loans["obs"].to_pylist(),
                                    strict=True)):
            j = index.get(key)
            if j is not None:
                out[i] = pd[j]
        return out


def load_churn_model(model_dir: Path | None = None) -> ChurnModel | None:
    """A model directory, else ``churn_at_maturity@approved`` from the registry, else None."""
    from xiaowei.modelling.workbench import load

    if model_dir is not None:
        return ChurnModel(load(Path(model_dir)))
    fitted = load_approved(MODEL_NAME)
    return None if fitted is None else ChurnModel(fitted, f"{MODEL_NAME}@approved")


def churn_base_rate(con: duckdb.DuckDBPyConnection, as_of: dt.date, months: int = 12
                    ) -> float | None:
    """The share of repaid loans that matured in the ``months`` before the day and whose
    borrower took no new loan within 60 days — known on the day (maturity + 60 ≤ day); the
    prior every loan carries when no churn model is approved. ``None`` without such loans."""
    row = con.execute("""
        WITH m AS (SELECT l.loan_id, l.party_id, l.maturity_date FROM gov.loan l
                   WHERE l.maturity_date + $renewed <= $d
                     AND l.maturity_date > $d - to_months(CAST($months AS INTEGER))
                     AND NOT EXISTS (SELECT 1 FROM gov.repayment r WHERE r.loan_id = l.loan_id
                                     AND (r.paid_on IS NULL OR r.paid_on > $d)))
        SELECT count(*), sum(CASE WHEN NOT EXISTS (
                   SELECT 1 FROM gov.loan n WHERE n.party_id = m.party_id
                   AND n.loan_id <> m.loan_id AND n.start_date > m.maturity_date - $window
                   AND n.start_date <= m.maturity_date + $renewed) THEN 1 ELSE 0 END)
        FROM m""", {"d": as_of, "renewed": RENEWED_WITHIN_DAYS, "months": months,
                    "window": WINDOW_DAYS}).fetchall()[0]
    return None if not row[0] else round(float(row[1]) / float(row[0]), 4)


__all__ = ["CATEGORICAL", "CHURN_TAGS", "LOAN_FEATURES", "MIN_EVENTS", "MODEL_NAME",
           "WINDOW_DAYS", "ChurnModel", "churn_base_rate", "feature_labels", "fit_out_of_time",
           "load_churn_model", "loan_features", "training_set"]
