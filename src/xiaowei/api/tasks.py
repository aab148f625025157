"""`/api/tasks`: the caller's visible tasks, one task (a review task with its review file),
and the reviewer's steps — claim, approve, reject, check — through the review queue.

Why every step first looks the task up in the caller's scope (:func:`visible_tasks`): a task
outside it is a 404, like an unknown one, and the step never reaches the queue. The rules of
the steps are the domain's: maker–checker and notes in
:class:`~xiaowei.origination.review_queue.ReviewQueue`, the approval authority by role in
:mod:`xiaowei.origination.authority` (the web pages call the same check). A refused step is
a 403 (authority), 404 (scope), 409 (the task's state: claimed by another, awaiting a checker,
the maker checking their own work) or 422 (a note missing, a bad amount); nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from starlette.concurrency import run_in_threadpool

from xiaowei.api.deps import engine_of, require, require_read
from xiaowei.api.paging import Page, PageNo, PageSize, offset
from xiaowei.engine.workflow import (
    AlreadyClaimed,
    CheckerRefused,
    NotClaimant,
    TaskNotFound,
    TaskView,
    TransitionRefused,
    WorkflowBusy,
    WorkflowError,
    WorkQueue,
)
from xiaowei.engine.workflow.transitions import OPEN_STATES
from xiaowei.entities.task import TaskKind, TaskStatus
from xiaowei.origination.authority import OutsideAuthority, check_review_authority
from xiaowei.origination.review_queue import ReviewQueue
from xiaowei.security.principal import Principal, visible_tasks
from xiaowei.store.database import transaction
from xiaowei.store.tables import Task

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
Reader = Annotated[Principal, require_read("tasks")]
Decider = Annotated[Principal, require("review:decide")]
MAX_NOTE = 2000
_STATE_CONFLICTS = (AlreadyClaimed, CheckerRefused, NotClaimant, TransitionRefused,
                    WorkflowBusy)


class TaskItem(BaseModel):
    """A task as a list shows it (its payload stays in the detail)."""

    id: str
    kind: str
    kind_zh: str | None
    queue: str | None
    status: str
    status_zh: str
    stage: str | None = Field(description="maker–checker stage: checker, returned, final")
    application_id: str | None
    party_id: str | None
    assignee_id: str | None
    claimed_by: str | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool


class TaskDetail(BaseModel):
    """One task; for a manual review, ``review`` is the reviewer's file (application, engine
    decision, proposal, reasons zh/en, scores, tags read, trace, the task's audit trail)."""

    id: str
    task: TaskItem
    result: dict[str, Any] | None
    review: dict[str, Any] | None


class Decision(BaseModel):
    """A reviewer's approval or rejection: a note (needed against the engine's proposal) and,
    for an approval, the amount in yuan (default: the proposed limit, else the amount
    applied for)."""

    note: str | None = Field(None, max_length=MAX_NOTE)
    amount: Decimal | None = Field(None, gt=0, lt=Decimal(10) ** 16, decimal_places=2)


class Check(BaseModel):
    """The checker's answer: confirm the maker's decision, or refuse it back (a note why)."""

    confirm: bool
    note: str | None = Field(None, max_length=MAX_NOTE)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _item(view: TaskView, now: dt.datetime) -> TaskItem:
    try:
        kind_zh: str | None = TaskKind(view.kind).zh
    except ValueError:
        kind_zh = None
    return TaskItem(id=view.task_id, kind=view.kind, kind_zh=kind_zh, queue=view.queue,
                    status=str(view.status), status_zh=view.status.zh, stage=view.stage,
                    application_id=view.links.get("application_id"),
                    party_id=view.links.get("party_id"),
                    assignee_id=view.links.get("assignee_id"), claimed_by=view.claimed_by,
                    created_at=view.created_at, due_at=view.due_at, closed_at=view.closed_at,
                    overdue=view.late_by(now) is not None)


def _mine(principal: Principal) -> Any:
    claimed = Task.claimed_by == principal.name
    if principal.manager_id is None:
        return claimed
    return or_(claimed, Task.assignee_id == principal.manager_id)


@router.get("")
def list_tasks(request: Request, principal: Reader, page: PageNo = 1, size: PageSize = 50,
               queue: Annotated[str | None, Query(max_length=32)] = None,
               status: TaskStatus | None = None,
               mine: Annotated[bool, Query(description="claimed by or assigned to me")] = False,
               overdue: Annotated[bool, Query(description="open and past due")] = False,
               ) -> Page[TaskItem]:
    """The tasks the caller may see, due soonest first (then by id; no due time last)."""
    now = _now()
    where = [visible_tasks(principal)]
    if queue is not None:
        where.append(Task.queue == queue)
    if status is not None:
        where.append(Task.status == str(status))
    if mine:
        where.append(_mine(principal))
    if overdue:
        where += [Task.status.in_([str(s) for s in OPEN_STATES]), Task.due_at.is_not(None),
                  Task.due_at < now]
    with transaction(engine_of(request)) as session:
        total = session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
        rows = session.scalars(select(Task).where(*where)
                               .order_by(Task.due_at.is_(None), Task.due_at, Task.task_id)
                               .offset(offset(page, size)).limit(size)).all()
        items = [_item(TaskView.from_row(r), now) for r in rows]
    return Page(items=items, page=page, size=size, total=total)


def visible_task(request: Request, principal: Principal, task_id: str) -> TaskView:
    """The task, or 404 when it is unknown or outside the caller's scope."""
    with transaction(engine_of(request)) as session:
        row = session.scalar(select(Task).where(Task.task_id == task_id,
                                                visible_tasks(principal)))
        if row is None:
            raise HTTPException(404, f"no task {task_id!r}")
        return TaskView.from_row(row)


@router.get("/{task_id}")
def read_task(request: Request, task_id: str, principal: Reader) -> TaskDetail:
    """One task (404 outside the caller's scope); a review task with its review file."""
    view = visible_task(request, principal, task_id)
    review = None
    if view.kind == TaskKind.MANUAL_REVIEW:
        review = ReviewQueue(engine_of(request)).file(task_id)
    return TaskDetail(id=view.task_id, task=_item(view, _now()),
                      result=dict(view.result) if view.result is not None else None,
                      review=review)


def _refused(exc: WorkflowError) -> HTTPException:
    if isinstance(exc, OutsideAuthority):
        return HTTPException(403, str(exc))
    if isinstance(exc, TaskNotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, _STATE_CONFLICTS):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


async def _step(request: Request, principal: Principal, task_id: str, action: str,
                amount: Decimal | None = None, note: str | None = None) -> TaskItem:
    """Run one review step for ``principal`` in a worker thread; refusals become problems."""
    engine = engine_of(request)

    def run() -> TaskView:
        view = visible_task(request, principal, task_id)
        queue = ReviewQueue(engine)
        by = principal.name
        if action == "claim" and view.kind != TaskKind.MANUAL_REVIEW:
            if not principal.has("tasks:act"):
                raise HTTPException(403, f"{by} ({principal.role}) lacks permission "
                                         "'tasks:act'")
            return WorkQueue(engine).claim(task_id, by)
        if not principal.has("review:decide"):
            raise HTTPException(403, f"{by} ({principal.role}) lacks permission "
                                     "'review:decide'")
        if view.kind != TaskKind.MANUAL_REVIEW:
            raise HTTPException(409, f"task {task_id} is a {view.kind} task, not a manual "
                                     "review")
        check_review_authority(principal, view, action, amount)
        if action == "claim":
            return queue.claim(task_id, by=by)
        if action == "approve":
            return queue.approve(task_id, by=by, note=note, amount=amount)
        if action == "reject":
            return queue.reject(task_id, by=by, note=note)
        return queue.check(task_id, by=by, confirm=action == "confirm", note=note)

    try:
        view = await run_in_threadpool(run)
    except WorkflowError as exc:
        raise _refused(exc) from None
    return _item(view, _now())


def _text(note: str | None) -> str | None:
    return (note or "").strip() or None


@router.post("/{task_id}/claim")
async def claim(request: Request, task_id: str, principal: Reader) -> TaskItem:
    """Take the task: a review needs ``review:decide``, other work ``tasks:act``."""
    return await _step(request, principal, task_id, "claim")


def _decision(body: Decision | None) -> Decision:
    return body or Decision()


@router.post("/{task_id}/approve")
async def approve(request: Request, task_id: str, principal: Decider,
                  body: Annotated[Decision | None, Body()] = None) -> TaskItem:
    """Approve the review the caller holds, within the caller's authority; above the
    maker–checker threshold the approval waits for a second person's check."""
    doc = _decision(body)
    return await _step(request, principal, task_id, "approve", doc.amount, _text(doc.note))


@router.post("/{task_id}/reject")
async def reject(request: Request, task_id: str, principal: Decider,
                 body: Annotated[Decision | None, Body()] = None) -> TaskItem:
    """Reject the review the caller holds (a note is needed against the engine's proposal)."""
    doc = _decision(body)
    if doc.amount is not None:
        raise HTTPException(422, "a rejection takes no amount")
    return await _step(request, principal, task_id, "reject", None, _text(doc.note))


@router.post("/{task_id}/check")
async def check(request: Request, task_id: str, principal: Decider,
                body: Annotated[Check, Body()]) -> TaskItem:
    """The checker (not the maker) confirms — within their authority — or refuses."""
    action = "confirm" if body.confirm else "refuse"
    return await _step(request, principal, task_id, action, None, _text(body.note))
