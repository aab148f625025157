"""The bank's KPIs for a lending process, from its decisions and the one capacity table.

Why one pure function: the comparison "digital vs traditional" is only fair if both sides are
measured by the same instrument (SIMULATOR.md §4). ``process_kpis`` takes a table of decisions
(one row per application) and the capacity table and knows nothing about which process made
them; the digital side and the traditional side differ only in their rows. The traditional
rows are built from the bank's own records (``traditional_decisions``): applications,
decisions, loans and repayments — a default is what the repayment records show, as a bank
would learn it (SIMULATOR.md §1), never the simulator's truth tables.

Formulas (docs/capacity.md §2):

* approvals_per_day = approvers × approver minutes a day × approvals ÷ Σ reviewer minutes —
  what the fixed approver headcount can approve in a working day when every application of
  the process's mix goes through it; ``None`` when no decision needs a person (unbounded).
* customers_per_manager = manager customer hours a year ÷ hours per customer-year, where
  hours per customer-year = routine servicing + (Σ DD hours over all applications + Σ over
  approved loans of term-years × (inspections and visits a year × their hours) + collection
  actions × their hours) ÷ Σ term-years of approved loans.
* approval_rate = approvals ÷ applications decided or referred ("review" counts as not
  approved: a process gets no credit for approvals it has not made).
* bad_rate_12m = booked loans that defaulted within 12 months ÷ booked loans whose 12 months
  are observable; loss = Σ principal lost on those defaults (CNY).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import duckdb

from xiaowei.origination.capacity import DD_LEVELS, DECISION_MODES, Capacity, load_capacity

Outcome = Literal["approve", "reject", "review"]
OUTCOMES = ("approve", "reject", "review")
DEFAULT_DPD = 90
"""Days past due at which the bank counts a loan as defaulted (non-performing, DOMAIN.md §1)."""


@dataclass(frozen=True)
class Decision:
    """One application as a process handled it, with what the bank later learned.

    The post-loan counts (inspections, visits a year; collection actions over the loan) are
    the process's own decisions for this customer: the traditional process inspects everybody
    on site each quarter, a digital one may inspect most customers off-site.
    """

    process: str
    outcome: Outcome
    mode: str  # one of DECISION_MODES
    dd_level: str  # one of DD_LEVELS
    manager_id: str | None = None
    term_months: int = 12
    onsite_per_year: float = 0.0
    offsite_per_year: float = 0.0
    maintenance_per_year: float = 0.0
    collection_actions: float = 0.0
    booked: bool = False
    defaulted_12m: bool | None = None  # None: booked too recently to know, or not booked
    loss: Decimal = Decimal(0)  # CNY lost on this loan (0 unless it defaulted)
    application_id: str | None = None  # the bank's application number, where it is known


@dataclass(frozen=True)
class ProcessKpis:
    """The bank's KPIs for one process, with the parts they are computed from."""

    process: str
    approvers: int
    applications: int
    approvals: int
    approvals_per_day: float | None
    auto_decision_share: float
    customers_per_manager: float | None
    approval_rate: float
    bad_rate_12m: float | None
    loss: Decimal
    reviewer_minutes_per_application: float
    hours_per_customer_year: float | None
    hours_breakdown: dict[str, float] = field(default_factory=dict)
    observed_loans_12m: int = 0
    defaults_12m: int = 0

    def to_json(self) -> dict[str, Any]:
        """The issue's six KPIs first (loss in whole CNY), then how they were reached."""
        def r(x: float | None, nd: int) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "approvals_per_day": r(self.approvals_per_day, 1),
            "auto_decision_share": round(self.auto_decision_share, 4),
            "customers_per_manager": r(self.customers_per_manager, 1),
            "approval_rate": round(self.approval_rate, 4),
            "bad_rate_12m": r(self.bad_rate_12m, 4),
            "loss": int(self.loss.quantize(Decimal(1), ROUND_HALF_UP)),
            "detail": {
                "process": self.process, "approvers": self.approvers,
                "applications": self.applications, "approvals": self.approvals,
                "reviewer_minutes_per_application": round(
                    self.reviewer_minutes_per_application, 2),
                "hours_per_customer_year": r(self.hours_per_customer_year, 3),
                "hours_breakdown": {k: round(v, 3) for k, v in self.hours_breakdown.items()},
                "observed_loans_12m": self.observed_loans_12m,
                "defaults_12m": self.defaults_12m,
            },
        }


def _check(rows: Sequence[Decision]) -> str:
    if not rows:
        raise ValueError("no decisions: KPIs need at least one application")
    processes = {d.process for d in rows}
    if len(processes) != 1:
        raise ValueError(f"one process per call, got {sorted(processes)}")
    for i, d in enumerate(rows):
        problem = None
        if d.outcome not in OUTCOMES:
            problem = f"outcome {d.outcome!r} is not one of {list(OUTCOMES)}"
        elif d.mode not in DECISION_MODES:
            problem = f"mode {d.mode!r} is not one of {list(DECISION_MODES)}"
        elif d.dd_level not in DD_LEVELS:
            problem = f"dd_level {d.dd_level!r} is not one of {list(DD_LEVELS)}"
        elif d.outcome == "review" and d.mode == "automatic":
            problem = "a case referred for review is decided by a person, not automatically"
        elif d.booked and d.outcome != "approve":
            problem = "only an approved application can be booked"
        elif d.outcome == "approve" and d.term_months <= 0:
            problem = "an approved application needs term_months > 0"
        elif d.defaulted_12m is not None and not d.booked:
            problem = "defaulted_12m is known only for booked loans"
        elif min(d.onsite_per_year, d.offsite_per_year, d.maintenance_per_year,
                 d.collection_actions) < 0 or d.loss < 0:
            problem = "counts and loss may not be negative"
        if problem:
            raise ValueError(f"decision {i}: {problem}")
    return processes.pop()


def process_kpis(decisions: Iterable[Decision], capacity: Capacity,
                 approvers: int) -> ProcessKpis:
    """KPIs of one process from its decisions, the shared capacity table and the headcount.

    Pure: the same rows, table and headcount give the same figures, whoever calls it.
    """
    rows = list(decisions)
    process = _check(rows)
    if approvers < 1:
        raise ValueError("approvers must be ≥ 1")
    n = len(rows)
    approvals = sum(d.outcome == "approve" for d in rows)
    automatic = sum(d.mode == "automatic" for d in rows)
    minutes = sum(capacity.minutes_for(d.mode) for d in rows)
    day_minutes = approvers * capacity.approvers.minutes_per_day.value
    per_day = day_minutes * approvals / minutes if minutes > 0 else None

    approved = [d for d in rows if d.outcome == "approve"]
    years = sum(d.term_months / 12 for d in approved)
    ih = capacity.inspection_hours
    parts = {
        "due_diligence": sum(capacity.dd_hours_for(d.dd_level) for d in rows),
        "onsite_inspections": sum(d.term_months / 12 * d.onsite_per_year
                                  for d in approved) * ih.onsite.value,
        "offsite_inspections": sum(d.term_months / 12 * d.offsite_per_year
                                   for d in approved) * ih.offsite.value,
        "maintenance_visits": sum(d.term_months / 12 * d.maintenance_per_year
                                  for d in approved) * capacity.maintenance_visit_hours.value,
        "collection": sum(d.collection_actions for d in approved)
        * capacity.collection_action_hours.value,
    }
    if years > 0:
        breakdown = {k: v / years for k, v in parts.items()}
        breakdown["servicing"] = capacity.servicing_hours_per_customer_year.value
        per_customer_year: float | None = sum(breakdown.values())
        customers = capacity.manager_customer_hours / per_customer_year
    else:
        breakdown, per_customer_year, customers = {}, None, None

    observed = [d for d in rows if d.booked and d.defaulted_12m is not None]
    bad = [d for d in observed if d.defaulted_12m]
    return ProcessKpis(
        process=process, approvers=approvers, applications=n, approvals=approvals,
        approvals_per_day=per_day, auto_decision_share=automatic / n,
        customers_per_manager=customers, approval_rate=approvals / n,
        bad_rate_12m=len(bad) / len(observed) if observed else None,
        loss=sum((d.loss for d in bad), Decimal(0)),
        reviewer_minutes_per_application=minutes / n,
        hours_per_customer_year=per_customer_year, hours_breakdown=breakdown,
        observed_loans_12m=len(observed), defaults_12m=len(bad))


# --- the traditional process, from the bank's own records -------------------------------------

_TRADITIONAL_SQL = """
WITH pay AS (
    SELECT loan_no,
           COUNT(*) FILTER (WHERE paid_on > due_date) AS late,
           MIN(due_date) FILTER (WHERE paid_on IS NULL AND due_date <= $as_of) AS first_unpaid,
           SUM(principal_due_fen) FILTER (WHERE paid_on IS NULL) AS unpaid_principal_fen
    FROM raw.bank_repayments GROUP BY loan_no
)
SELECT a.application_no, a.manager_id, d.decision, a.term_months,
       l.loan_no IS NOT NULL AS booked, l.start_date, l.term_months AS loan_term,
       COALESCE(p.late, 0) AS late, p.first_unpaid,
       COALESCE(p.unpaid_principal_fen, 0) AS unpaid_principal_fen
FROM raw.bank_applications a
JOIN raw.bank_decisions d USING (application_no)
LEFT JOIN raw.bank_loans l USING (application_no)
LEFT JOIN pay p USING (loan_no)
WHERE d.decision IN ('approve', 'reject') AND CAST(d.decided_at AS DATE) <= $as_of
ORDER BY a.application_no
"""


def records_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The last day the bank's records cover: the latest application, decision or payment."""
    row = con.execute(
        "SELECT GREATEST((SELECT MAX(CAST(applied_at AS DATE)) FROM raw.bank_applications),"
        " (SELECT MAX(CAST(decided_at AS DATE)) FROM raw.bank_decisions),"
        " (SELECT MAX(paid_on) FROM raw.bank_repayments))").fetchone()
    if row is None or row[0] is None:
        raise LookupError("no bank records in the analytic store (raw.bank_*)")
    return row[0]


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 always exists


def traditional_decisions(con: duckdb.DuckDBPyConnection, capacity: Capacity,
                          as_of: dt.date | None = None) -> list[Decision]:
    """The traditional process's decisions as the bank recorded them, one row per application.

    Every application had standard due diligence and an expert's manual decision; approved
    loans get the uniform post-loan cadence of ``capacity.traditional``. A loan has defaulted
    when an instalment is 90 days past due and unpaid on ``as_of``; "within 12 months" when
    that instalment fell due in the loan's first 12 months, observable only for loans that
    started at least 12 months and 90 days before ``as_of``. The loss is the principal never
    repaid (the simulator has no recoveries yet). Pending applications are left out.
    """
    as_of = as_of or records_as_of(con)
    practice = capacity.traditional
    out: list[Decision] = []
    for (app_no, manager, decision, term, booked, start, loan_term, late, first_unpaid,
         unpaid_fen) in con.execute(_TRADITIONAL_SQL, {"as_of": as_of}).fetchall():
        defaulted = first_unpaid is not None and (as_of - first_unpaid).days >= DEFAULT_DPD
        known: bool | None = None
        loss = Decimal(0)
        if booked and add_months(start, 12) + dt.timedelta(days=DEFAULT_DPD) <= as_of:
            known = defaulted and first_unpaid < add_months(start, 12)
            if known:
                loss = Decimal(int(unpaid_fen)).scaleb(-2)
        out.append(Decision(
            process="traditional", outcome=decision, mode="human", dd_level=practice.dd_level,
            manager_id=manager, term_months=int(loan_term or term),
            onsite_per_year=practice.onsite_inspections_per_year,
            offsite_per_year=practice.offsite_inspections_per_year,
            maintenance_per_year=practice.maintenance_visits_per_year,
            collection_actions=(late * practice.collection_actions_per_late_instalment
                                + defaulted * practice.collection_actions_per_default),
            booked=bool(booked), defaulted_12m=known, loss=loss, application_id=app_no))
    return out


def traditional_kpis(con: duckdb.DuckDBPyConnection, capacity: Capacity | None = None,
                     approvers: int | None = None, as_of: dt.date | None = None) -> ProcessKpis:
    """KPIs of today's process from the analytic store's bank records (``raw.bank_*``).

    ``approvers`` defaults to the table's headcount — the "same approvers" both processes are
    measured with.
    """
    capacity = capacity or load_capacity()
    heads = approvers if approvers is not None else int(capacity.approvers.headcount.value)
    return process_kpis(traditional_decisions(con, capacity, as_of), capacity, heads)
