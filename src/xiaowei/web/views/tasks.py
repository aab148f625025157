"""Each person's inbox, and the customer manager's field pages (task list, visit checklist,
check-in) that must work on a phone.

Why the inbox joins two lists: what is already mine (claimed, or assigned to my manager id)
and what I could take (open reviews in my scope, for those who review). The field pages read
the checklist through :class:`DueDiligence`, the same rules the CLI uses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Engine, or_, select

from xiaowei.engine.workflow import TaskNotFound
from xiaowei.entities.task import TaskKind, TaskStatus
from xiaowei.origination.due_diligence import DueDiligence
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, Task
from xiaowei.web.access import may, visible_task
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser
from xiaowei.web.views.review import review_queue

OPEN = ("open", "acknowledged", "in_progress", "escalated")


def _row(task: Task, now: dt.datetime, lang: str) -> dict[str, Any]:
    due = task.due_at if task.due_at is None or task.due_at.tzinfo else \
        task.due_at.replace(tzinfo=dt.UTC)
    app = task.application
    return {"task_id": task.task_id, "kind": task.kind, "status": task.status,
            "kind_text": pick(lang, TaskKind(task.kind).zh, task.kind.replace("_", " "))
            if task.kind in TaskKind._value2member_map_ else task.kind,
            "status_text": pick(lang, TaskStatus(task.status).zh, task.status.replace("_", " ")),
            "application_id": task.application_id, "party_id": task.party_id,
            "party_name": app.party.name_masked if app is not None else (
                task.party.name_masked if task.party is not None else "—"),  # post-loan work
            "amount": app.amount if app is not None else None,
            "due_at": due, "late": due is not None and due < now,
            "dd_level": (task.payload or {}).get("dd_level")}


def inbox(engine: Engine, user: WebUser, lang: str,
          now: dt.datetime | None = None) -> dict[str, Any]:
    """My open tasks (due soonest first) and, for reviewers, the reviews I could claim."""
    now = now or dt.datetime.now(dt.UTC)
    me = [user.name] + ([user.manager_id] if user.manager_id else [])
    with transaction(engine) as session:
        rows = session.scalars(select(Task).where(
            Task.status.in_(OPEN),
            or_(Task.claimed_by.in_(me), Task.assignee_id.in_(me)))
            .order_by(Task.due_at, Task.task_id)).all()
        mine = [_row(t, now, lang) for t in rows]
    claimable = []
    if may(user, "review.decide"):
        claimable = [r for r in review_queue(engine, user, now) if r["claimed_by"] is None]
    return {"mine": mine, "claimable": claimable}


def field_tasks(engine: Engine, user: WebUser, lang: str) -> list[dict[str, Any]]:
    """The manager's open due-diligence visits, soonest due first."""
    return [t for t in inbox(engine, user, lang)["mine"]
            if t["kind"] == str(TaskKind.DUE_DILIGENCE_VISIT)]


def visit(engine: Engine, user: WebUser, task_id: str, lang: str) -> dict[str, Any]:
    """One visit's checklist (404 unless it is the manager's own task, or outside scope)."""
    dd = DueDiligence(engine)
    try:
        task = dd.work.get(task_id)
    except TaskNotFound as missing:
        raise HTTPException(404, "no such task") from missing
    if task.kind != TaskKind.DUE_DILIGENCE_VISIT:
        raise HTTPException(404, "no such task")
    with transaction(engine) as session:
        if user.role == "customer_manager" and task.claimed_by != user.manager_id:
            raise HTTPException(404, "no such task")
        visible_task(session, user, task_id)
        app = session.get(Application, task.links.get("application_id"))
        party = {"name": app.party.name_masked, "region": app.party.region_code,
                 "amount": app.amount, "product": app.product_intent} if app else {}
    sheet = dd.checklist(task_id)
    items = [{"id": i["id"], "text": pick(lang, i["zh"], i["en"]), "evidence": i["evidence"],
              "finding": i["finding"]} for i in sheet["items"]]
    return {"task": sheet["task"], "dd_level": sheet["dd_level"], "items": items,
            "party": party, "open": task.is_open,
            "checked_in": task.status == TaskStatus.IN_PROGRESS,
            "events": sheet["events"]}


def check_in(engine: Engine, task_id: str, by: str) -> None:
    """签到: the manager is at the customer's premises; the visit is now being worked on."""
    DueDiligence(engine).work.start(task_id, by)
