"""Applications: the list a person may see, one application's file, and the decision drawn as
a flow of nodes.

Why the flow: a credit officer trusts a machine decision only when they can follow it — which
node ran, which rules hit, what it computed and why (the reasons in both languages, attached
to the node that raised them). The trace comes straight from ``decision_log``, so the picture
is what the engine did, not a re-run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, ApplicationIntake, Decision, DecisionLog, Task
from xiaowei.web.access import application_scope, visible_application
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser

PAGE_SIZE = 50
OFFICIAL = {"approve": "approved", "reject": "rejected"}


def shown_status(session: Any, apps: list[Application]) -> dict[str, str]:
    """application id → the status to show: a person's or the engine's official decision
    wins over the stored status (a reviewed case is decided, not "in review" any more)."""
    ids = [a.application_id for a in apps]
    latest: dict[str, str] = {}
    for app_id, outcome in session.execute(
            select(Decision.application_id, Decision.outcome)
            .where(Decision.application_id.in_(ids)).order_by(Decision.decided_at)).all():
        latest[app_id] = OFFICIAL.get(outcome, outcome)
    return {a.application_id: latest.get(a.application_id, a.status) for a in apps}
STATUSES = ("in_review", "approved", "rejected")


def application_list(engine: Engine, user: WebUser, status: str | None = None,
                     page: int = 1) -> dict[str, Any]:
    """The newest applications first, ``PAGE_SIZE`` a page, optionally of one status."""
    with transaction(engine) as session:
        query = select(Application)
        scope = application_scope(session, user)
        if scope is not None:
            query = query.where(scope)
        if status in STATUSES:
            query = query.where(Application.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Application.applied_at.desc(),
                                              Application.application_id.desc())
                               .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        shown = shown_status(session, list(rows))
        items = [{"application_id": a.application_id, "party_id": a.party_id,
                  "party_name": a.party.name_masked, "product": a.product_intent,
                  "channel": a.channel, "amount": a.amount, "applied_at": a.applied_at,
                  "branch_id": a.branch_id, "manager_id": a.manager_id,
                  "status": shown[a.application_id]} for a in rows]
    return {"items": items, "total": total, "page": page, "status_filter": status,
            "pages": max(1, -(-total // PAGE_SIZE)), "statuses": STATUSES}


def flow_nodes(trace: list[dict[str, Any]], reasons: list[dict[str, Any]],
               lang: str) -> list[dict[str, Any]]:
    """The trace as boxes: kind, hits, outputs and µs per node, with the node's reasons, and
    a ``flow`` heading wherever the engine entered another flow."""
    by_node: dict[str, list[dict[str, str]]] = {}
    for r in reasons:
        by_node.setdefault(str(r.get("node")), []).append(
            {"code": r.get("code", ""), "text": pick(lang, r.get("zh"), r.get("en")),
             "other": pick("en" if lang == "zh_CN" else "zh_CN", r.get("zh"), r.get("en"))})
    nodes, previous = [], None
    for step in trace:
        flow = step.get("flow")
        outputs = {k: _short(v) for k, v in (step.get("outputs") or {}).items()}
        nodes.append({"node": step.get("node"), "kind": step.get("kind"), "flow": flow,
                      "new_flow": flow != previous, "hits": list(step.get("hits") or []),
                      "outputs": outputs, "micros": step.get("micros"),
                      "reasons": by_node.get(str(step.get("node")), [])})
        previous = flow
    return nodes


def _short(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    return value


def application_file(engine: Engine, user: WebUser, application_id: str,
                     lang: str) -> dict[str, Any]:
    """One application with its engine decision, the flow, official decisions and tasks."""
    with transaction(engine) as session:
        app = visible_application(session, user, session.get(Application, application_id))
        log = session.scalar(select(DecisionLog).where(
            DecisionLog.application_id == application_id, DecisionLog.superseded_by.is_(None))
            .order_by(DecisionLog.decided_at.desc(), DecisionLog.seq.desc()).limit(1))
        intake = session.get(ApplicationIntake, application_id)
        decisions = session.scalars(select(Decision).where(
            Decision.application_id == application_id).order_by(Decision.decided_at)).all()
        tasks = session.scalars(select(Task).where(Task.application_id == application_id)
                                .order_by(Task.created_at)).all()
        outputs = dict(log.outputs or {}) if log is not None else {}
        reasons = list(outputs.get("reasons") or [])
        return {
            "app": {"application_id": app.application_id, "party_id": app.party_id,
                    "party_name": app.party.name_masked, "party_type": app.party.party_type,
                    "product": app.product_intent, "channel": app.channel,
                    "amount": app.amount, "term_months": app.term_months,
                    "applied_at": app.applied_at, "branch_id": app.branch_id,
                    "manager_id": app.manager_id,
                    "status": shown_status(session, [app])[app.application_id]},
            "intake": None if intake is None else {
                "received_at": intake.received_at, "received_by": intake.received_by,
                "automated_ok": intake.automated_ok, "status": intake.status},
            "engine": None if log is None else {
                "outcome": log.outcome, "mode": log.mode, "limit": log.limit_amount,
                "grade": outputs.get("grade"), "segment": outputs.get("segment"),
                "dd_level": log.dd_level, "manager_tier": log.manager_tier,
                "pack": log.pack, "pack_version": log.pack_version[:12],
                "micros": log.micros, "decided_at": log.decided_at,
                "scores": outputs.get("scores") or {}},
            "reasons": [{"code": r.get("code"), "node": r.get("node"),
                         "text": pick(lang, r.get("zh"), r.get("en"))} for r in reasons],
            "flow": flow_nodes(list(log.trace or []) if log else [], reasons, lang),
            "decisions": [{"outcome": d.outcome, "decided_at": d.decided_at,
                           "decided_by": d.decided_by, "amount": d.approved_amount,
                           "version": (d.strategy_version or "")[:12]} for d in decisions],
            "tasks": [{"task_id": t.task_id, "kind": t.kind, "status": t.status,
                       "claimed_by": t.claimed_by, "due_at": t.due_at} for t in tasks],
        }
