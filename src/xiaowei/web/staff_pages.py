"""The staff pages under ``/web/staff``: the supervisor's dashboard (alerts, team, radar), one
manager's page, and the alert tasks' steps (acknowledge, investigate, close with findings,
confirm or return as the second person, escalate). Thin: the staff views decide scope and
audit; the work queue decides each step; a refusal comes back on the same page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from xiaowei.engine.workflow import WorkflowError
from xiaowei.web.access import require
from xiaowei.web.i18n import language
from xiaowei.web.render import page
from xiaowei.web.routes import Csrf, PageRoute, Viewer, _checked, _engine
from xiaowei.web.views import staff as views

router = APIRouter(prefix="/web/staff", include_in_schema=False, route_class=PageRoute)


def _reader(request: Request) -> Any:
    return getattr(getattr(request.app.state, "intake", None), "reader", None)


def _day(text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as bad:
        raise HTTPException(404, "no such day") from bad


@router.get("", response_class=HTMLResponse)
def staff_dashboard(request: Request, user: Viewer, as_of: str = "", branch: str = ""
                    ) -> Response:
    me = require(user, "staff.read")
    data = views.dashboard(_engine(request), _reader(request), me, language(request),
                           as_of=_day(as_of), branch=branch)
    return page(request, "staff.html", me, **data)


@router.get("/managers/{manager_id}", response_class=HTMLResponse)
def staff_manager(request: Request, user: Viewer, manager_id: str, as_of: str = "",
                  done: str = "", error: str = "") -> Response:
    me = require(user, "staff.read")
    data = views.manager_page(_engine(request), _reader(request), me, manager_id,
                              language(request), as_of=_day(as_of))
    return page(request, "staff_manager.html", me, done=done, error=error, **data)


@router.get("/tasks/{task_id}")
def staff_task(request: Request, user: Viewer, task_id: str) -> Response:
    """A task's own address (the inbox links here): its manager's page, at the task."""
    me = require(user, "staff.read")
    view = views.scoped_task(_engine(request), me, task_id)
    manager = quote(str(view.payload.get("manager_id")), safe="")
    return RedirectResponse(f"/web/staff/managers/{manager}#{quote(task_id)}", 303)


@router.post("/tasks/{task_id}/{action}")
def staff_task_action(request: Request, user: Viewer, task_id: str, action: str, csrf: Csrf,
                      note: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                      to: Annotated[str, Form()] = "") -> Response:
    me = require(user, "staff.read")
    _checked(request, csrf)
    engine = _engine(request)
    view = views.scoped_task(engine, me, task_id)  # 404 outside the staff scope
    manager = str(view.payload.get("manager_id"))
    try:
        views.act(engine, me, task_id, action, note=note, outcome=outcome, to=to)
    except WorkflowError as refused:
        return staff_manager(request, me, manager, error=str(refused))
    return RedirectResponse(f"/web/staff/managers/{quote(manager, safe='')}?done="
                            f"{quote(action)}#{quote(task_id)}", 303)


__all__ = ["router"]
