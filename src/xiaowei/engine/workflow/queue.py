"""A work queue in the transactional store: create, claim, release, complete (with
maker–checker), escalate and cancel tasks — every step checked and audited.

Why optimistic locking: a queue is read far more than it is changed, and two people clicking
"claim" on one task at the same instant must not both get it. Each step reads the task, decides,
then writes ``UPDATE task … SET revision = revision + 1 WHERE revision = <what I read>``; when
no row matches, someone changed the task in between, and the step starts again in a fresh
transaction — where it now sees the winner and says "already claimed by X at T". Conflicts the
database reports itself (SQLite's lock, PostgreSQL's serialisation failures) are retried by
:func:`xiaowei.store.retry.retry_on_conflict`. Every step adds a ``task_event`` row in the same
transaction, so the audit trail can never disagree with the task.

``on_final`` hooks run inside the transaction that makes a task final, so a domain's own record
of the outcome (an official decision, say) is written with it or not at all.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from xiaowei.engine.workflow.errors import (
    AlreadyClaimed,
    CheckerRefused,
    TaskNotFound,
    WorkflowBusy,
    WorkflowError,
)
from xiaowei.engine.workflow.records import NewTask, QueueRules, TaskEventView, TaskView
from xiaowei.engine.workflow.steps import (
    SLA_BREACH,
    Change,
    FinalHook,
    Stale,
    awaiting_check,
    breached,
    holder_check,
    plain,
    stage,
    when,
)
from xiaowei.engine.workflow.transitions import (
    OPEN_STATES,
    STAGE_CHECKER,
    STAGE_FINAL,
    STAGE_RETURNED,
    needs_checker,
)
from xiaowei.entities.registry_names import check_user, same_person
from xiaowei.entities.task import TaskStatus
from xiaowei.store.database import transaction
from xiaowei.store.retry import RETRIES, retry_on_conflict
from xiaowei.store.tables import Task, TaskEvent

T = TypeVar("T")
_S = TaskStatus
__all__ = ["SLA_BREACH", "FinalHook", "WorkQueue"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WorkQueue:
    """The workflow over the store's ``task`` table; ``rules`` per queue name."""

    def __init__(self, engine: Engine, rules: Iterable[QueueRules] = (), *,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.engine = engine
        self.rules = {r.name: r for r in rules}
        self.clock = clock

    # -- creating ------------------------------------------------------------------------

    def create(self, spec: NewTask, by: str) -> TaskView:
        """Create a task (or return the existing one with the same ``task_id``)."""
        user = self._user(by)

        def attempt() -> TaskView:
            with transaction(self.engine) as session:
                return self.create_in(session, spec, user)

        return self._retrying(attempt)

    def create_in(self, session: Session, spec: NewTask, by: str) -> TaskView:
        """Create a task inside the caller's transaction (with the caller's other writes)."""
        user = self._user(by)
        if spec.task_id is not None:
            existing = session.get(Task, spec.task_id)
            if existing is not None:
                if (existing.kind, existing.queue) != (spec.kind, spec.queue):
                    raise WorkflowError(f"task {spec.task_id} exists as {existing.kind} in "
                                        f"queue {existing.queue}, not {spec.kind} in {spec.queue}")
                return TaskView.from_row(existing)
        now = self.clock()
        level = spec.service_level or getattr(self.rules.get(spec.queue), "service_level", None)
        due = spec.due_at or (level.due(now) if level else None)
        row = Task(task_id=spec.task_id or f"T{uuid.uuid4().hex[:24]}", kind=spec.kind,
                   queue=spec.queue, status=str(_S.OPEN), created_at=now, due_at=due,
                   payload=plain(dict(spec.payload)), revision=0, **dict(spec.links))
        session.add(row)
        session.flush()
        detail = {"due_at": due.isoformat() if due else None,
                  "service_level": level.describe() if level else None}
        self._add_event(session, row.task_id, {"action": "create", "from_status": None,
                                               "to_status": str(_S.OPEN), "actor": user,
                                               "at": now, "note": None, "detail": detail})
        if spec.claimed_by is not None:
            holder = self._user(spec.claimed_by)
            row.status, row.claimed_by, row.claimed_at = str(_S.ACKNOWLEDGED), holder, now
            self._add_event(session, row.task_id, {
                "action": "assign", "from_status": str(_S.OPEN),
                "to_status": str(_S.ACKNOWLEDGED), "actor": user, "at": now, "note": None,
                "detail": {"to": holder}})
        session.flush()
        return TaskView.from_row(row)

    # -- holding -------------------------------------------------------------------------

    def claim(self, task_id: str, by: str) -> TaskView:
        """Take the task: one person at a time; claiming one's own task again changes nothing."""
        user = self._user(by)

        def step(session: Session, row: Task, now: dt.datetime) -> Change | None:
            if row.claimed_by is not None:
                if same_person(row.claimed_by, user) and stage(row) != STAGE_CHECKER:
                    return None
                if stage(row) == STAGE_CHECKER:
                    raise AlreadyClaimed(f"任务 {task_id} 待复核 · task {task_id} is awaiting "
                                         f"a checker (made by {row.claimed_by}); use check")
                raise AlreadyClaimed(
                    f"任务 {task_id} 已被 {row.claimed_by} 领取 · task {task_id} is already "
                    f"claimed by {row.claimed_by} at {when(row.claimed_at)}")
            change = Change({"claimed_by": user, "claimed_at": now})
            to = _S.IN_PROGRESS if row.status == _S.IN_PROGRESS else _S.ACKNOWLEDGED
            change.move(row, to, "claim", user, now)
            return change

        return self._step(task_id, step)

    def release(self, task_id: str, by: str, *, note: str | None = None) -> TaskView:
        """Give the task back to the queue; its status (how far the work got) is kept."""
        user = self._user(by)

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            holder_check(row, user, "release")
            if stage(row) == STAGE_CHECKER:
                raise CheckerRefused(f"task {task_id} is awaiting a checker and cannot be "
                                     "released")
            change = Change({"claimed_by": None, "claimed_at": None})
            change.move(row, _S(row.status), "release", user, now, note)
            return change

        return self._step(task_id, step)

    def start(self, task_id: str, by: str) -> TaskView:
        """Mark the claimed task as being worked on."""
        user = self._user(by)

        def step(session: Session, row: Task, now: dt.datetime) -> Change | None:
            holder_check(row, user, "start")
            if row.status == _S.IN_PROGRESS:
                return None
            change = Change()
            change.move(row, _S.IN_PROGRESS, "start", user, now)
            return change

        return self._step(task_id, step)

    def log(self, task_id: str, by: str, action: str, *, note: str | None = None,
            detail: Mapping[str, Any] | None = None) -> TaskView:
        """Record something the holder did while working the task (a call, a letter sent) as
        an audited event; the status does not change (an in-progress task stays so, an
        acknowledged one moves to in progress: work has begun)."""
        user = self._user(by)
        if not action or not action.replace("_", "").isalnum():
            raise WorkflowError(f"an action is a word like 'contact', got {action!r}")

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            holder_check(row, user, action)
            change = Change()
            change.move(row, _S.IN_PROGRESS, action, user, now, note, plain(dict(detail or {})))
            return change

        return self._step(task_id, step)

    # -- closing -------------------------------------------------------------------------

    def complete(self, task_id: str, by: str, result: Mapping[str, Any], *,
                 amount: Decimal | None = None, note: str | None = None,
                 on_final: FinalHook | None = None) -> TaskView:
        """Close the task with ``result``; above the queue's ``checker_above`` the task waits
        (``in_progress``, stage "checker") for a second person's :meth:`confirm`."""
        user = self._user(by)

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            holder_check(row, user, "complete")
            if stage(row) == STAGE_CHECKER:
                raise CheckerRefused(f"task {task_id} already awaits a checker")
            change = Change()
            if row.status != _S.IN_PROGRESS:
                change.move(row, _S.IN_PROGRESS, "start", user, now)
            limit = getattr(self.rules.get(row.queue or ""), "checker_above", None)
            body = {**plain(dict(result)), "maker": user, "made_at": now.isoformat(),
                    "amount": plain(amount)}
            detail = {"amount": plain(amount), "checker_above": plain(limit)}
            if needs_checker(amount, limit):
                change.values["result"] = {**body, "stage": STAGE_CHECKER}
                change.move(row, _S.IN_PROGRESS, "submit_check", user, now, note, detail)
                return change
            change.values.update(result={**body, "stage": STAGE_FINAL}, closed_at=now)
            change.move(row, _S.DONE, "complete", user, now, note, detail)
            change.on_final = on_final
            return change

        return self._step(task_id, step)

    def confirm(self, task_id: str, by: str, *, note: str | None = None,
                on_final: FinalHook | None = None) -> TaskView:
        """The checker confirms the maker's completion; the checker must not be the maker."""
        user = self._user(by)

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            maker = awaiting_check(row, user)
            change = Change({"closed_at": now, "result": {
                **dict(row.result or {}), "stage": STAGE_FINAL, "checked_by": user,
                "checked_at": now.isoformat()}})
            change.move(row, _S.DONE, "check_confirm", user, now, note, {"maker": maker})
            change.on_final = on_final
            return change

        return self._step(task_id, step)

    def refuse(self, task_id: str, by: str, *, note: str) -> TaskView:
        """The checker sends the completion back to its maker, saying why (``note``)."""
        user = self._user(by)
        if not (note or "").strip():
            raise WorkflowError("refusing a completion needs a note saying why")

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            maker = awaiting_check(row, user)
            change = Change({"result": {**dict(row.result or {}), "stage": STAGE_RETURNED,
                                         "refused_by": user, "refused_at": now.isoformat()}})
            change.move(row, _S.IN_PROGRESS, "check_refuse", user, now, note, {"maker": maker})
            return change

        return self._step(task_id, step)

    def escalate(self, task_id: str, by: str, *, note: str, to: str | None = None) -> TaskView:
        """Hand the task up (to ``to``, if named); it leaves its holder and waits to be claimed."""
        user = self._user(by)
        if not (note or "").strip():
            raise WorkflowError("escalating needs a note saying why")

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            if row.claimed_by is not None:
                holder_check(row, user, "escalate")
            change = Change({"claimed_by": None, "claimed_at": None, "result": None})
            change.move(row, _S.ESCALATED, "escalate", user, now, note, {"to": to})
            return change

        return self._step(task_id, step)

    def cancel(self, task_id: str, by: str, *, note: str) -> TaskView:
        """Cancel the task (final), saying why."""
        user = self._user(by)
        if not (note or "").strip():
            raise WorkflowError("cancelling needs a note saying why")

        def step(session: Session, row: Task, now: dt.datetime) -> Change:
            change = Change({"closed_at": now})
            change.move(row, _S.CANCELLED, "cancel", user, now, note)
            return change

        return self._step(task_id, step)

    # -- service levels ------------------------------------------------------------------

    def overdue(self, now: dt.datetime | None = None, *, queue: str | None = None
                ) -> list[tuple[TaskView, dt.timedelta]]:
        """Open tasks past their due time with how late each is, the latest first."""
        at = now or self.clock()
        query = select(Task).where(Task.status.in_([str(s) for s in OPEN_STATES]),
                                   Task.due_at.is_not(None), Task.due_at < at)
        if queue is not None:
            query = query.where(Task.queue == queue)
        with transaction(self.engine) as session:
            views = [TaskView.from_row(r) for r in session.scalars(query)]
        late = [(v, at - v.due_at) for v in views if v.due_at is not None]
        return sorted(late, key=lambda pair: (-pair[1], pair[0].task_id))

    def sweep_overdue(self, now: dt.datetime | None = None, *, by: str = "system:sla"
                      ) -> list[tuple[TaskView, dt.timedelta]]:
        """Record one ``sla_breach`` event per overdue task; a second sweep adds none."""
        at = now or self.clock()
        user = self._user(by)
        recorded = []
        for view, late in self.overdue(at):

            def step(session: Session, row: Task, _now: dt.datetime,
                     late: dt.timedelta = late) -> Change | None:
                if row.status not in OPEN_STATES or breached(session, row.task_id):
                    return None
                change = Change()
                change.move(row, _S(row.status), SLA_BREACH, user, at, None, {
                    "late_seconds": int(late.total_seconds()),
                    "due_at": row.due_at.isoformat() if row.due_at else None})
                return change

            before = view.revision
            after = self._step(view.task_id, step)
            if after.revision != before:
                recorded.append((after, late))
        return recorded

    # -- reading -------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskView:
        with transaction(self.engine) as session:
            return TaskView.from_row(self._row(session, task_id))

    def events(self, task_id: str) -> list[TaskEventView]:
        """The task's audit trail, oldest first."""
        with transaction(self.engine) as session:
            self._row(session, task_id)
            rows = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                   .order_by(TaskEvent.event_id))
            return [TaskEventView.from_row(r) for r in rows]

    def tasks(self, *, queue: str | None = None, claimed_by: str | None = None,
              kind: str | None = None, open_only: bool = True,
              links: Mapping[str, str] | None = None) -> list[TaskView]:
        """Tasks, due soonest first (tasks without a due time last)."""
        query = select(Task)
        if queue is not None:
            query = query.where(Task.queue == queue)
        if kind is not None:
            query = query.where(Task.kind == kind)
        if open_only:
            query = query.where(Task.status.in_([str(s) for s in OPEN_STATES]))
        for name, value in (links or {}).items():
            query = query.where(getattr(Task, name) == value)
        with transaction(self.engine) as session:
            views = [TaskView.from_row(r) for r in session.scalars(query)]
        if claimed_by is not None:
            views = [v for v in views if v.claimed_by and same_person(v.claimed_by, claimed_by)]
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        return sorted(views, key=lambda v: (v.due_at or far, v.created_at, v.task_id))

    # -- machinery -----------------------------------------------------------------------

    def _step(self, task_id: str,
              decide: Callable[[Session, Task, dt.datetime], Change | None]) -> TaskView:
        """One step in its own transaction, written only if nobody changed the task since
        we read it (optimistic lock on ``revision``)."""

        def attempt() -> TaskView:
            with transaction(self.engine) as session:
                row = self._row(session, task_id)
                revision = row.revision
                change = decide(session, row, self.clock())
                if change is None:
                    return TaskView.from_row(row)
                done = session.execute(
                    update(Task).where(Task.task_id == task_id, Task.revision == revision)
                    .values(**change.values, revision=revision + 1)
                    .execution_options(synchronize_session=False))
                if done.rowcount != 1:
                    raise Stale(task_id)
                for event in change.events:
                    self._add_event(session, task_id, event)
                session.flush()
                session.refresh(row)
                view = TaskView.from_row(row)
                if change.on_final is not None:
                    change.on_final(session, view)
                return view

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        def optimistic() -> T:
            for n in range(RETRIES):
                try:
                    return attempt()
                except Stale:
                    time.sleep(random.uniform(0, 0.005 * 2**n))
            raise WorkflowBusy(f"the task kept changing under {RETRIES} tries; try again")

        return retry_on_conflict(optimistic, WorkflowBusy)

    @staticmethod
    def _add_event(session: Session, task_id: str, event: Mapping[str, Any]) -> None:
        session.add(TaskEvent(task_id=task_id, **{**event, "detail": plain(event["detail"])}))

    @staticmethod
    def _row(session: Session, task_id: str) -> Task:
        row = session.get(Task, task_id, populate_existing=True)
        if row is None:
            raise TaskNotFound(f"没有任务 {task_id} · no task {task_id!r}")
        return row

    @staticmethod
    def _user(by: str) -> str:
        return check_user(by, "user", WorkflowError)
