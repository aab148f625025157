"""Digital vs traditional on the same applications, the same capacity table, the same oracle.

Why one module builds both sides' rows: SIMULATOR.md §4 asks for one capacity model, and a fair
comparison also needs one outcome instrument. Here the traditional side's *process* comes from
the bank's records (an expert's manual decision with standard DD on every application; the
uniform post-loan cadence of ``capacity.traditional``), the digital side's from the replay
(:mod:`xiaowei.origination.digital_process`); both sides' *outcomes* come from
:class:`~xiaowei.origination.outcome_oracle.OutcomeOracle`, and both sets of rows go through
:func:`~xiaowei.origination.kpis.process_kpis` with the same table and approver headcount.

Collection actions (manager hours) are counted the same way for both: the late instalments the
records show when the bank booked that loan (else the window's mean per booked loan — the
digital side's extra loans have no records), plus ``capacity.traditional``'s actions per default
for every loan the oracle calls bad.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xiaowei.origination.capacity import Capacity
from xiaowei.origination.digital_process import DigitalCase, Window
from xiaowei.origination.kpis import (
    DEFAULT_DPD,
    Decision,
    ProcessKpis,
    add_months,
    process_kpis,
    records_as_of,
)
from xiaowei.origination.outcome_oracle import OutcomeOracle
from xiaowei.store.analytic import AnalyticStore

ORACLE_LINE = ("bad within 12 months = the party defaulted within 12 months of the application "
               "(truth) or the application was fraudulent; loss = approved amount × share of "
               "principal outstanding at the default month for the loan's term and repayment "
               "method (fraud: month 2); the same function for both processes")
CALIBRATION_TOLERANCE = 0.01
"""On loans that were not fraud, oracle and records may differ by this share (see calibration)."""

_RECORDS_SQL = """
WITH pay AS (
    SELECT loan_no, COUNT(*) FILTER (WHERE paid_on > due_date) AS late,
           MIN(due_date) FILTER (WHERE paid_on IS NULL AND due_date <= $as_of) AS first_unpaid,
           SUM(principal_due_fen) FILTER (WHERE paid_on IS NULL) AS unpaid_fen
    FROM raw.bank_repayments GROUP BY loan_no)
SELECT a.application_no, CAST(a.applied_at AS DATE) AS applied_on, a.manager_id,
       COALESCE(d.decision, 'pending') AS decision, a.term_months, a.product_intent,
       d.approved_amount_fen, d.annual_rate, l.loan_no IS NOT NULL AS booked, l.principal_fen,
       l.term_months AS loan_term, l.start_date, l.repayment_method, l.annual_rate AS loan_rate,
       COALESCE(p.late, 0) AS late, p.first_unpaid, COALESCE(p.unpaid_fen, 0) AS unpaid_fen
FROM raw.bank_applications a
LEFT JOIN raw.bank_decisions d USING (application_no)
LEFT JOIN raw.bank_loans l USING (application_no)
LEFT JOIN pay p USING (loan_no)
ORDER BY a.application_no
"""


@dataclass(frozen=True)
class Record:
    """One application as the bank's records show it (process and, if booked, the loan)."""

    application_id: str
    applied_on: dt.date
    manager_id: str | None
    decision: str  # approve | reject | pending
    term_months: int
    product_intent: str
    booked: bool
    principal: Decimal
    start_date: dt.date | None
    method: str | None
    annual_rate: float | None
    late: int
    first_unpaid: dt.date | None
    unpaid: Decimal


def bank_records(analytic: AnalyticStore, as_of: dt.date | None = None) -> dict[str, Record]:
    """Every application in the bank's records, by application number."""
    as_of = as_of or records_as_of(analytic.connection)
    out = {}
    for (app, day, manager, decision, term, intent, _approved, rate, booked, principal,
         loan_term, start, method, loan_rate, late, first_unpaid, unpaid) in \
            analytic.connection.execute(_RECORDS_SQL, {"as_of": as_of}).fetchall():
        out[str(app)] = Record(
            str(app), day, manager, str(decision), int(loan_term or term), str(intent),
            bool(booked), Decimal(int(principal or 0)).scaleb(-2), start, method,
            None if (loan_rate or rate) is None else float(loan_rate or rate), int(late),
            first_unpaid, Decimal(int(unpaid)).scaleb(-2))
    return out


def usual_methods(records: dict[str, Record]) -> dict[str, str]:
    """The bank's most common repayment method per product (for loans it never booked)."""
    counts: dict[tuple[str, str], int] = {}
    for r in records.values():
        if r.booked and r.method:
            counts[(r.product_intent, r.method)] = counts.get((r.product_intent, r.method), 0) + 1
    best: dict[str, tuple[int, str]] = {}
    for (intent, method), n in counts.items():
        if n > best.get(intent, (0, ""))[0]:
            best[intent] = (n, method)
    return {k: m for k, (_n, m) in best.items()}


def traditional_rows(records: Sequence[Record], oracle: OutcomeOracle, capacity: Capacity,
                     mean_late: float) -> list[Decision]:
    """The traditional process's decisions (records), scored by the oracle."""
    practice = capacity.traditional
    rows = []
    for r in records:
        outcome = r.decision if r.decision in ("approve", "reject") else "review"
        bad = oracle.bad_12m(r.application_id) if r.booked else None
        loss = Decimal(0)
        if bad:
            loss = oracle.loss(r.application_id, r.applied_on, r.principal, r.term_months,
                               r.method or "equal_instalment", r.annual_rate)
        rows.append(Decision(
            process="traditional", outcome=outcome, mode="human", dd_level=practice.dd_level,
            manager_id=r.manager_id, term_months=r.term_months,
            onsite_per_year=practice.onsite_inspections_per_year,
            offsite_per_year=practice.offsite_inspections_per_year,
            maintenance_per_year=practice.maintenance_visits_per_year,
            collection_actions=_collection(r, bad, capacity, mean_late),
            booked=r.booked, defaulted_12m=bad, loss=loss))
    return rows


def _collection(record: Record | None, bad: bool | None, capacity: Capacity,
                mean_late: float) -> float:
    practice = capacity.traditional
    late = record.late if record is not None and record.booked else mean_late
    return (late * practice.collection_actions_per_late_instalment
            + bool(bad) * practice.collection_actions_per_default)


def digital_rows(cases: Sequence[DigitalCase], records: dict[str, Record],
                 oracle: OutcomeOracle, capacity: Capacity, mean_late: float) -> list[Decision]:
    """The digital process's decisions (replay), scored by the same oracle."""
    methods = usual_methods(records)
    rows = []
    for c in cases:
        record = records.get(c.application_id)
        # the customer's response is the customer's: one who did not draw the bank's approval
        # would not draw the digital one either (SIMULATOR.md §5)
        booked = c.outcome == "approve" and not (
            record is not None and record.decision == "approve" and not record.booked)
        bad = oracle.bad_12m(c.application_id) if booked else None
        loss = Decimal(0)
        if bad:
            method = (record.method if record is not None and record.booked and record.method
                      else methods.get(c.product_intent, "equal_instalment"))
            loss = oracle.loss(c.application_id, c.applied_on, c.amount, c.term_months,
                               method, c.annual_rate)
        rows.append(Decision(
            process="digital", outcome=c.outcome, mode=c.mode, dd_level=c.dd_level,
            manager_id=c.manager_id, term_months=c.term_months,
            onsite_per_year=c.onsite_per_year, offsite_per_year=c.offsite_per_year,
            maintenance_per_year=c.maintenance_per_year,
            collection_actions=_collection(record, bad, capacity, mean_late) if booked else 0,
            booked=booked, defaulted_12m=bad, loss=loss))
    return rows


def calibration(records: dict[str, Record], oracle: OutcomeOracle,
                as_of: dt.date) -> dict[str, Any]:
    """Records vs oracle on the traditional loans whose first 12 months the records show.

    The records' view is ``kpis.traditional_decisions``'s: an instalment of the first 12
    months unpaid 90 days past due on ``as_of``; loss = principal never repaid. The two differ
    by construction on fraud loans that kept paying (the oracle calls every fraud bad; about a
    quarter of them pay on). So they *agree* when (a) on loans that were not fraud the bad
    rates differ by at most :data:`CALIBRATION_TOLERANCE` (or one loan, on a small book), and
    (b) the oracle misses at most that share of the loans the records show bad.
    """
    n = honest = rec_bad = orc_bad = rec_honest = orc_honest = missed = paying_fraud = 0
    rec_loss = orc_loss = Decimal(0)
    for r in records.values():
        if not r.booked or r.start_date is None or \
                add_months(r.start_date, 12) + dt.timedelta(days=DEFAULT_DPD) > as_of:
            continue
        n += 1
        fraud = oracle.of(r.application_id).is_fraud
        honest += not fraud
        by_records = r.first_unpaid is not None and r.first_unpaid < add_months(
            r.start_date, 12) and (as_of - r.first_unpaid).days >= DEFAULT_DPD
        by_oracle = oracle.bad_12m(r.application_id)
        rec_bad += by_records
        orc_bad += by_oracle
        rec_honest += by_records and not fraud
        orc_honest += by_oracle and not fraud
        missed += by_records and not by_oracle
        paying_fraud += fraud and not by_records
        if by_records:
            rec_loss += r.unpaid
        if by_oracle:
            orc_loss += oracle.loss(r.application_id, r.applied_on, r.principal, r.term_months,
                                    r.method or "equal_instalment", r.annual_rate)
    allowed = max(CALIBRATION_TOLERANCE, 1 / honest) if honest else 0.0
    gap = abs(rec_honest - orc_honest) / honest if honest else 0.0
    return {"loans": n, "as_of": as_of.isoformat(),
            "records_bad_rate_12m": round(rec_bad / n, 4) if n else None,
            "oracle_bad_rate_12m": round(orc_bad / n, 4) if n else None,
            "records_loss": int(rec_loss), "oracle_loss": int(orc_loss),
            "honest_loans": honest, "honest_gap": round(gap, 4),
            "records_bad_missed_by_oracle": missed, "fraud_loans_still_paying": paying_fraud,
            "tolerance": round(allowed, 4),
            "agree": bool(n) and gap <= allowed and missed <= allowed * max(rec_bad, 1)}


@dataclass(frozen=True)
class Comparison:
    window: Window
    digital: ProcessKpis
    traditional: ProcessKpis
    digital_lent: Decimal
    traditional_lent: Decimal
    calibration: dict[str, Any]

    def targets(self) -> dict[str, dict[str, Any]]:
        """The issue's targets, each with the figures compared and met / not met."""
        d, t = self.digital, self.traditional
        d_rate = float(d.loss / self.digital_lent) if self.digital_lent else 0.0
        t_rate = float(t.loss / self.traditional_lent) if self.traditional_lent else 0.0
        return {
            "approvals_per_day": _target(d.approvals_per_day, ">=", 300),
            "customers_per_manager": _target(d.customers_per_manager, ">=", 200),
            "bad_rate_12m": _target(d.bad_rate_12m, "<=", t.bad_rate_12m),
            "loss_per_yuan_lent": _target(round(d_rate, 5), "<=", round(t_rate, 5)),
        }

    def to_json(self) -> dict[str, Any]:
        return {"digital": {**self.digital.to_json(), "lent": int(self.digital_lent)},
                "traditional": {**self.traditional.to_json(), "lent": int(self.traditional_lent)},
                "window": self.window.to_json(), "oracle": ORACLE_LINE,
                "calibration": self.calibration, "targets": self.targets()}


def _target(value: float | None, op: str, goal: float | None) -> dict[str, Any]:
    met = value is not None and goal is not None and (
        value >= goal if op == ">=" else value <= goal)
    if op == ">=" and value is None and goal is not None:
        met = True  # no person needed at all: approvers do not bound the process
    shown = goal if goal is None or goal >= 10 else round(goal, 4)
    return {"value": value, "target": f"{op} {shown}", "met": bool(met)}


def compare(analytic: AnalyticStore, cases: Sequence[DigitalCase], window: Window,
            oracle: OutcomeOracle, capacity: Capacity, approvers: int) -> Comparison:
    """Both processes' KPIs on the applications of ``window`` (``cases`` = the replay)."""
    as_of = records_as_of(analytic.connection)
    records = bank_records(analytic, as_of)
    in_window = [r for r in records.values() if window.since <= r.applied_on <= window.until]
    loans = [r for r in in_window if r.booked]
    mean_late = sum(r.late for r in loans) / len(loans) if loans else 0.0
    trad = traditional_rows(in_window, oracle, capacity, mean_late)
    digi = digital_rows(cases, records, oracle, capacity, mean_late)
    return Comparison(
        window=window, digital=process_kpis(digi, capacity, approvers),
        traditional=process_kpis(trad, capacity, approvers),
        digital_lent=sum((c.amount for c in cases if c.outcome == "approve"), Decimal(0)),
        traditional_lent=sum((r.principal for r in loans), Decimal(0)),
        calibration=calibration(records, oracle, as_of))


__all__ = ["CALIBRATION_TOLERANCE", "ORACLE_LINE", "Comparison", "Record", "bank_records",
           "calibration", "compare", "digital_rows", "traditional_rows", "usual_methods"]
