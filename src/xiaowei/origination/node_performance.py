"""Node performance of the live strategy, from the decision log and what the loans did.

Why here and not in the engine: the engine's :func:`~xiaowei.engine.strategy.performance.
node_performance` measures any cases; origination knows what a case's outcome is. Each
application's current engine decision (``decision_log``, not superseded) gives the rules each
node hit (its trace); the official ``decision`` says what the bank decided (a person may have
overridden the engine: ``overridden``); a loan means it was booked; and the loan is *bad* by
the definition the KPIs use (:mod:`xiaowei.origination.kpis`): an instalment falling due in
the loan's first 12 months unpaid for ``DEFAULT_DPD`` (90) days or more — known only for loans
that started at least 12 months and 90 days before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from xiaowei.engine.strategy.performance import CaseOutcome, NodeStats, node_performance
from xiaowei.origination.kpis import DEFAULT_DPD, add_months
from xiaowei.store.database import transaction
from xiaowei.store.tables import Decision, DecisionLog, Loan, Repayment


def loan_bad(start: dt.date, first_unpaid: dt.date | None, as_of: dt.date) -> bool | None:
    """Bad within 12 months (the KPIs' definition), or ``None`` when not yet observable."""
    if add_months(start, 12) + dt.timedelta(days=DEFAULT_DPD) > as_of:
        return None
    return (first_unpaid is not None and (as_of - first_unpaid).days >= DEFAULT_DPD
            and first_unpaid < add_months(start, 12))


def _hits(trace: Iterable[dict]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for step in trace or ():
        hits.setdefault(str(step.get("node")), []).extend(str(h) for h in step.get("hits") or ())
    return hits


def cases_from_store(session: Session, as_of: dt.date, *,
                     pack: str | None = None) -> list[CaseOutcome]:
    """One case per application with a current engine decision, as of ``as_of``."""
    logs = select(DecisionLog.application_id, DecisionLog.outcome, DecisionLog.trace).where(
        DecisionLog.superseded_by.is_(None))
    if pack is not None:
        logs = logs.where(DecisionLog.pack == pack)
    latest = {}  # application → (outcome, trace); the highest seq wins
    for app_id, outcome, trace in session.execute(logs.order_by(DecisionLog.application_id,
                                                                DecisionLog.seq)):
        latest[app_id] = (outcome, trace)
    official = {}
    for app_id, outcome in session.execute(
            select(Decision.application_id, Decision.outcome)
            .where(Decision.application_id.in_(select(DecisionLog.application_id)))
            .order_by(Decision.application_id, Decision.decided_at)):
        official[app_id] = outcome
    unpaid = (select(Repayment.loan_id, func.min(Repayment.due_date).label("first_unpaid"))
              .where(Repayment.due_date <= as_of,
                     or_(Repayment.paid_on.is_(None), Repayment.paid_on > as_of))
              .group_by(Repayment.loan_id).subquery())
    loans = {app_id: (start, first) for app_id, start, first in session.execute(
        select(Loan.application_id, Loan.start_date, unpaid.c.first_unpaid)
        .outerjoin(unpaid, and_(unpaid.c.loan_id == Loan.loan_id))
        .where(Loan.application_id.in_(select(DecisionLog.application_id)),
               Loan.start_date <= as_of))}
    cases = []
    for app_id, (engine_outcome, trace) in latest.items():
        final = official.get(app_id, engine_outcome)
        bad = None
        if app_id in loans:
            final = "approve"
            bad = loan_bad(loans[app_id][0], loans[app_id][1], as_of)
        cases.append(CaseOutcome(app_id, _hits(trace), final,
                                 overridden=app_id in official
                                 and official[app_id] != engine_outcome, bad=bad))
    return cases


def store_node_performance(engine: Engine, *, as_of: dt.date | None = None,
                           pack: str | None = None) -> list[NodeStats]:
    """Node and rule performance over the store's decision log (``as_of`` default: today)."""
    day = as_of or dt.datetime.now(dt.UTC).date()
    with transaction(engine) as session:
        return node_performance(cases_from_store(session, day, pack=pack))


__all__ = ["cases_from_store", "loan_bad", "store_node_performance"]
