"""The review queue and the approver's workbench: the open cases against their SLA, and one
case's file (application, proposal, reasons, scores, tags, the flow, the audit trail).

Why the file comes from :meth:`ReviewQueue.file`: the CLI reviewer and the web reviewer must
read the same file, or one of them decides on less than the other saw.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Engine, select

from xiaowei.engine.workflow import TaskNotFound
from xiaowei.entities.task import TaskKind
from xiaowei.origination.review_queue import ReviewQueue
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, Task
from xiaowei.web.access import application_scope, visible_task
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser
from xiaowei.web.views.applications import flow_nodes
from xiaowei.web.views.customers import tag_groups

OPEN = ("open", "acknowledged", "in_progress", "escalated")


def review_queue(engine: Engine, user: WebUser, now: dt.datetime | None = None
                 ) -> list[dict[str, Any]]:
    """Open manual reviews in scope, most urgent (earliest due) first."""
    now = now or dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        q = (select(Task, Application).join(Application,
                                            Application.application_id == Task.application_id)
             .where(Task.kind == str(TaskKind.MANUAL_REVIEW), Task.status.in_(OPEN))
             .order_by(Task.due_at, Task.task_id))
        scope = application_scope(session, user)
        if scope is not None:
            q = q.where(scope)
        out = []
        for task, app in session.execute(q).all():
            due = task.due_at if task.due_at is None or task.due_at.tzinfo else \
                task.due_at.replace(tzinfo=dt.UTC)
            proposal = (task.payload or {}).get("proposal") or {}
            out.append({"task_id": task.task_id, "application_id": app.application_id,
                        "party_name": app.party.name_masked, "amount": app.amount,
                        "product": app.product_intent, "status": task.status,
                        "claimed_by": task.claimed_by, "due_at": due,
                        "late": due is not None and due < now,
                        "mode": (task.payload or {}).get("mode"),
                        "proposal": proposal.get("outcome"),
                        "stage": (task.result or {}).get("stage")})
        return out


def review_file(engine: Engine, user: WebUser, task_id: str, lang: str) -> dict[str, Any]:
    """The workbench of one review (404 when unknown or outside the person's scope)."""
    queue = ReviewQueue(engine)
    try:
        task = queue.work.get(task_id)
    except TaskNotFound as missing:
        raise HTTPException(404, "no such review") from missing
    if task.kind != TaskKind.MANUAL_REVIEW:
        raise HTTPException(404, "no such review")
    with transaction(engine) as session:
        visible_task(session, user, task_id)
    file = queue.file(task_id)
    reasons = list(file["reasons"])
    return {
        "file": file,
        "reasons": [{"code": r.get("code"), "node": r.get("node"),
                     "text": pick(lang, r.get("zh"), r.get("en"))} for r in reasons],
        "flow": flow_nodes(file["trace"], reasons, lang),
        "tag_groups": tag_groups([(None, file["tags"])], lang)["groups"],
        "open": task.is_open, "stage": task.stage,
        "mine": task.claimed_by == user.name,
    }
