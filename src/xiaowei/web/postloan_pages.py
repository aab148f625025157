"""The post-loan task page under ``/web/postloan``: read a warning or collection task and work
it — start the investigation, log a contact (within the contact rules), close with findings,
confirm as the second person, escalate. Thin: the work queue and the collection rules decide;
a refusal comes back on the same page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from xiaowei.engine.workflow import WorkflowError
from xiaowei.postloan.collection import record_contact
from xiaowei.web.access import require
from xiaowei.web.i18n import language
from xiaowei.web.render import page
from xiaowei.web.routes import Csrf, PageRoute, Viewer, _back, _checked, _engine
from xiaowei.web.views import postloan_tasks as views

router = APIRouter(prefix="/web/postloan", include_in_schema=False, route_class=PageRoute)
BEIJING = dt.timezone(dt.timedelta(hours=8))


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, user: Viewer, task_id: str, done: str = "",
              error: str = "") -> Response:
    me = require(user, "tasks.read")
    data = views.postloan_task(_engine(request), me, task_id, language(request))
    return page(request, "postloan_task.html", me, done=done, error=error, **data)


@router.post("/tasks/{task_id}/{action}")
def task_action(request: Request, user: Viewer, task_id: str, action: str, csrf: Csrf,
                note: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "",
                role: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                promised_amount: Annotated[str, Form()] = "") -> Response:
    me = require(user, "tasks.read")
    _checked(request, csrf)
    engine = _engine(request)
    data = views.postloan_task(engine, me, task_id, language(request))  # 404 if not visible
    queue = views.queue_of(engine, str(data["task"].queue))
    by = me.manager_id or me.name
    try:
        if action == "start":
            queue.start(task_id, by)
        elif action == "contact":
            amount = Decimal(promised_amount) if promised_amount.strip() else None
            record_contact(engine, task_id, by, at=dt.datetime.now(BEIJING), role=role,
                           channel=channel, outcome=outcome, promised_amount=amount)
        elif action == "close":
            if not note.strip():
                raise WorkflowError("写明核查结论 · say what the investigation found")
            exposure = Decimal(str(data["payload"].get("exposure") or "0.01"))
            queue.complete(task_id, by, {"findings": note.strip()},
                           amount=max(exposure, Decimal("0.01")))
        elif action == "confirm":
            if not views.may_check(me):
                raise HTTPException(403, "only a supervisor or an approver confirms a closing")
            queue.confirm(task_id, me.name, note=note.strip() or None)
        elif action == "return":
            if not views.may_check(me):
                raise HTTPException(403, "only a supervisor or an approver returns a closing")
            queue.refuse(task_id, me.name, note=note)
        elif action == "escalate":
            queue.escalate(task_id, by, note=note)
        else:
            raise HTTPException(404, "no such action")
    except (WorkflowError, InvalidOperation) as refused:
        return task_page(request, me, task_id, error=str(refused) or "invalid amount")
    return _back(f"/web/postloan/tasks/{task_id}", done=action)


__all__ = ["router"]
