"""A post-loan task on one page: a warning (the signals, their values and thresholds, the
exposure, the response deadline) or a collection step (the loan, days past due, the contact
rules), with what the person may do next and the audit trail.

Why a page of its own: warning and collection tasks are worked differently from a credit
review — the manager investigates and closes with findings, a second person confirms the
closing (warnings), contacts are logged within the contact rules (collection) — and the same
work queue records every step.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy import Engine

from xiaowei.engine.workflow import TaskNotFound
from xiaowei.postloan.collection import collection_queue, load_collection_rules
from xiaowei.postloan.warning_catalogue import load_warning_catalogue
from xiaowei.postloan.warning_tasks import WARNING_QUEUE, warning_queue
from xiaowei.store.database import transaction
from xiaowei.store.tables import Party
from xiaowei.web.access import visible_task
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser

QUEUES = (WARNING_QUEUE, "postloan_collection")


def queue_of(engine: Engine, queue: str) -> Any:
    return warning_queue(engine) if queue == WARNING_QUEUE else collection_queue(engine)


def postloan_task(engine: Engine, user: WebUser, task_id: str, lang: str) -> dict[str, Any]:
    """Everything on the page (404 for another person's task or a task of another kind)."""
    try:
        task = warning_queue(engine).get(task_id)
    except TaskNotFound as missing:
        raise HTTPException(404, "no such task") from missing
    if task.queue not in QUEUES:
        raise HTTPException(404, "no such task")
    with transaction(engine) as session:
        visible_task(session, user, task_id)
        party = session.get(Party, task.links.get("party_id") or "")
        customer = {"party_id": party.party_id, "name": party.name_masked} if party else None
    payload = dict(task.payload or {})
    signals = []
    if task.queue == WARNING_QUEUE:
        names = {s.name: pick(lang, s.zh, s.en) for s in load_warning_catalogue().signals}
        for s in payload.get("signals", []):
            signals.append({"label": names.get(s["signal"], s["signal"]), "level": s["level"],
                            "value": _num(s.get("value")), "threshold": _num(s.get("threshold"))})
    me = {user.name, user.manager_id} - {None}
    holder = task.claimed_by in me
    result = dict(task.result or {})
    awaiting_check = result.get("stage") == "checker"
    open_ = str(task.status) not in ("done", "cancelled")
    return {
        "task": task, "customer": customer, "payload": payload, "signals": signals,
        "warning": task.queue == WARNING_QUEUE, "result": result,
        "events": queue_of(engine, str(task.queue)).events(task_id),
        "can_work": open_ and holder and not awaiting_check,
        "can_check": open_ and awaiting_check and not holder and may_check(user),
        "channels": load_collection_rules().channels,
        "roles": load_collection_rules().contact_roles,
    }


def may_check(user: WebUser) -> bool:
    """Who may confirm a closing as the second person: a supervisor or an approver of the
    branch (never read-only roles); the work queue itself refuses the maker."""
    return user.role == "supervisor" or user.has("review:decide")


def _num(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3g}"


__all__ = ["QUEUES", "may_check", "postloan_task", "queue_of"]
