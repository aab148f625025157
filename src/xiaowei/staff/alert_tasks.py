"""A manager's alert becomes work for the supervisor: one task per manager and day in the work
queue ``staff_alert`` (高危操作风险预警, issue 9 point 3).

Why tasks in the work queue rather than rows someone reads: an alert has a life cycle with
people in it — the branch's supervisor acknowledges it (claims the task), investigates (starts
it), and closes it with findings, which **a second person confirms** (the queue's checker
threshold is zero, so every closing waits for a checker who is not the maker); or escalates
it. The engine's work queue already does each step with optimistic locking and an audited
task event, and its SLA machinery reports a response that came too late. The deadline is the
level's (``alerts.yaml``: red 24 hours on the clock, orange and yellow in working days).

Why the task has no assignee and the manager can never act on it: the task is *about* the
manager. ``assignee_id`` stays NULL, so no "own tasks" list of the manager contains it; the
generic task lists leave the queue out entirely (:func:`xiaowei.security.principal.
visible_tasks`) — staff alerts are worked only from the staff pages, which apply the staff
scope; and every step here refuses the manager the alert is about.

The task id is made of the day and the manager (``SA-2025-03-31-M0001``), so opening the day's
tasks again opens nothing new.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import Engine, or_, select

from xiaowei.engine.workflow import (
    NewTask,
    QueueRules,
    TaskNotFound,
    TaskView,
    WorkflowError,
    WorkQueue,
)
from xiaowei.engine.workflow.calendar_spec import CalendarSpec, Deadline, Strict
from xiaowei.entities.datafiles import load_data_file
from xiaowei.entities.registry_names import same_person
from xiaowei.entities.task import TaskKind
from xiaowei.store.database import transaction
from xiaowei.store.tables import ID, Task

ALERT_QUEUE = "staff_alert"
SYSTEM = "system:staff"
RULES_FILE = "alerts.yaml"
LEVELS = ("yellow", "orange", "red")
STEPS = ("acknowledge", "investigate", "close", "confirm", "return", "escalate")
CLOSING = Decimal("1")
"""What a closing weighs against the queue's checker threshold (zero): every closing is above
it, so every closing needs a second person."""

Level = Literal["yellow", "orange", "red"]
Step = Literal["acknowledge", "investigate", "close", "confirm", "return", "escalate"]


class Label(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class LevelRule(Label):
    respond_within: Deadline


class AlertRules(Strict):
    """``alerts.yaml``: levels with their deadlines, the life-cycle steps' names, the outcomes
    an investigation may close with, the categories' names, and the working calendar."""

    version: int = Field(ge=1)
    raised_at: dt.time = dt.time(8, 30)
    levels: dict[Level, LevelRule]
    steps: dict[Step, Label]
    outcomes: dict[str, Label] = Field(min_length=1)
    categories: dict[str, Label] = Field(default_factory=dict)
    calendar: CalendarSpec = CalendarSpec()

    @model_validator(mode="after")
    def _complete(self) -> AlertRules:
        missing = [k for k in LEVELS if k not in self.levels]
        missing += [k for k in STEPS if k not in self.steps]
        if missing:
            raise ValueError(f"levels and steps must all be named; missing {missing}")
        bad = [k for k in self.outcomes if not k.replace("_", "").isalnum() or k != k.lower()]
        if bad:
            raise ValueError(f"outcome keys are lower-case words, got {bad}")
        return self

    def raised(self, as_of: dt.date) -> dt.datetime:
        """When the alerts of batch day ``as_of`` reach the branch: ``raised_at`` local time on
        the next morning (the batch runs overnight)."""
        cal = self.calendar.calendar()
        return dt.datetime.combine(as_of + dt.timedelta(days=1), self.raised_at, cal.zone)

    def due(self, as_of: dt.date, level: str) -> dt.datetime:
        """The response deadline (UTC) of an alert of ``level`` raised for ``as_of``."""
        if level not in self.levels:
            raise ValueError(f"alert level must be one of {list(LEVELS)}, got {level!r}")
        rule = self.levels[level]  # type: ignore[index]
        cal = self.calendar.calendar()
        return rule.respond_within.service_level(cal).due(self.raised(as_of))


@functools.cache
def _packaged() -> AlertRules:
    return load_data_file(AlertRules, __package__, RULES_FILE)


def load_alert_rules(path: Path | str | None = None) -> AlertRules:
    """The packaged rules (read once), or an edited copy at ``path``; ``DataFileError`` naming
    ``file:line: key: problem`` when it is wrong."""
    return _packaged() if path is None else load_data_file(AlertRules, __package__,
                                                           RULES_FILE, path)


class SubjectRefused(WorkflowError):
    """The manager an alert is about may neither work nor check it."""


def alert_queue(engine: Engine, *, clock: Callable[[], dt.datetime] | None = None
                ) -> WorkQueue:
    """The staff-alert queue: every closing needs a checker (threshold 0)."""
    rules = [QueueRules(ALERT_QUEUE, checker_above=Decimal("0"))]
    return WorkQueue(engine, rules) if clock is None else WorkQueue(engine, rules, clock=clock)


def task_id_of(as_of: dt.date, manager_id: str) -> str:
    """``SA-{as_of}-{manager_id}``; refused when too long to store (never cut short: two
    managers must not share a task)."""
    task_id = f"SA-{as_of.isoformat()}-{manager_id}"
    if len(task_id) > ID:
        raise ValueError(f"task id {task_id!r} is longer than {ID} characters: manager id "
                         f"{manager_id!r} is too long")
    return task_id


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _listed(value: Any, what: str) -> list[Any]:
    """A list column as the batch stores it (JSON or comma text) or already a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if what == "categories":
        return [c.strip() for c in str(value).split(",") if c.strip()]
    parsed = json.loads(str(value))
    if not isinstance(parsed, list):
        raise ValueError(f"alert {what} must be a JSON list, got {type(parsed).__name__}")
    return parsed


def _payload(alert: Mapping[str, Any], as_of: dt.date, n: int) -> dict[str, Any]:
    manager = str(alert.get("manager_id") or "").strip()
    if not manager:
        raise ValueError(f"alert {n}: manager_id is missing")
    if "as_of" in alert and alert["as_of"] is not None and _day(alert["as_of"]) != as_of:
        raise ValueError(f"alert {n} ({manager}) is of {alert['as_of']}, not of {as_of}")
    level = alert.get("level")
    if level not in LEVELS:
        raise ValueError(f"alert {n} ({manager}): level must be one of {list(LEVELS)}, got "
                         f"{level!r}")
    return {"manager_id": manager, "branch_id": alert.get("branch_id"),
            "as_of": as_of.isoformat(), "level": level,
            "categories": _listed(alert.get("categories"), "categories"),
            "signals": _listed(alert.get("signals"), "signals")}


def open_alert_tasks(engine: Engine, alerts: Sequence[Mapping[str, Any]], as_of: dt.date, *,
                     rules: AlertRules | None = None) -> dict[str, Any]:
    """Open (or find) one task per alerted manager of ``as_of``, in one transaction.

    ``alerts``: rows of ``staff.alert`` (``signals`` as stored JSON or a list, ``categories``
    comma text or a list). Returns what happened, JSON-ready: ``opened`` and ``existing``
    counts, the ``task_ids`` and the opened tasks ``by_level``. A malformed row refuses the
    whole day (nothing is opened) with a message naming the row.
    """
    rules = rules or load_alert_rules()
    payloads = [_payload(a, as_of, n) for n, a in enumerate(alerts, 1)]
    queue = alert_queue(engine)
    opened: list[str] = []
    existing: list[str] = []
    by_level: dict[str, int] = {}
    with transaction(engine) as session:
        for p in payloads:
            task_id = task_id_of(as_of, p["manager_id"])
            if session.get(Task, task_id) is not None:
                existing.append(task_id)
                continue
            queue.create_in(session, NewTask(
                kind=str(TaskKind.STAFF_ALERT), queue=ALERT_QUEUE, task_id=task_id,
                due_at=rules.due(as_of, p["level"]), payload=p), SYSTEM)
            session.flush()
            opened.append(task_id)
            by_level[p["level"]] = by_level.get(p["level"], 0) + 1
    return {"as_of": as_of.isoformat(), "opened": len(opened), "existing": len(existing),
            "task_ids": opened + existing, "by_level": by_level}


# -- reading -------------------------------------------------------------------------------

def alert_task(engine: Engine, task_id: str) -> TaskView:
    """One staff-alert task; ``TaskNotFound`` for an unknown id or a task of another queue."""
    view = alert_queue(engine).get(task_id)
    if view.queue != ALERT_QUEUE:
        raise TaskNotFound(f"没有预警任务 {task_id} · no staff alert task {task_id!r}")
    return view


def alert_tasks(engine: Engine, *, manager_ids: Iterable[str] | None = None,
                open_only: bool = True) -> list[TaskView]:
    """Staff-alert tasks, due soonest first; ``manager_ids``: only those about these managers
    (read by the task id's ending, so a manager's history needs no JSON query)."""
    query = select(Task).where(Task.queue == ALERT_QUEUE)
    if manager_ids is not None:
        wanted = sorted(set(manager_ids))
        if not wanted:
            return []
        query = query.where(or_(*(Task.task_id.endswith(f"-{m}", autoescape=True)
                                  for m in wanted)))
    with transaction(engine) as session:
        views = [TaskView.from_row(r) for r in session.scalars(query)]
    if manager_ids is not None:
        views = [v for v in views if v.payload.get("manager_id") in set(wanted)]
    if open_only:
        views = [v for v in views if v.is_open]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(views, key=lambda v: (v.due_at or far, v.task_id))


# -- the life cycle ------------------------------------------------------------------------

def _guarded(engine: Engine, task_id: str, by: str, manager_id: str | None) -> TaskView:
    """The task, after refusing the person it is about (by user name or manager id)."""
    view = alert_task(engine, task_id)
    subject = str(view.payload.get("manager_id") or "")
    if subject and (same_person(by, subject) or
                    (manager_id is not None and same_person(manager_id, subject))):
        raise SubjectRefused(f"预警所涉客户经理不能处理本预警 · {subject} is the manager this "
                             f"alert is about and may not work or check task {task_id}")
    return view


def acknowledge(engine: Engine, task_id: str, by: str, *, manager_id: str | None = None
                ) -> TaskView:
    """Take the alert (claim): from now on ``by`` answers for it."""
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).claim(task_id, by)


def investigate(engine: Engine, task_id: str, by: str, *, manager_id: str | None = None
                ) -> TaskView:
    """Mark the acknowledged alert as under investigation."""
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).start(task_id, by)


def close(engine: Engine, task_id: str, by: str, findings: str, outcome: str, *,
          manager_id: str | None = None, rules: AlertRules | None = None) -> TaskView:
    """Submit the findings and the outcome; the task then waits for a second person."""
    rules = rules or load_alert_rules()
    if not (findings or "").strip():
        raise WorkflowError("写明调查结论 · say what the investigation found")
    if outcome not in rules.outcomes:
        raise WorkflowError(f"调查结果须为 {'、'.join(o.zh for o in rules.outcomes.values())}"
                            f" · outcome must be one of {sorted(rules.outcomes)}, got "
                            f"{outcome!r}")
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).complete(task_id, by, {"findings": findings.strip(),
                                                      "outcome": outcome}, amount=CLOSING)


def confirm(engine: Engine, task_id: str, by: str, *, note: str | None = None,
            manager_id: str | None = None) -> TaskView:
    """The second person confirms the closing (never its maker, never the manager)."""
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).confirm(task_id, by, note=(note or "").strip() or None)


def return_closing(engine: Engine, task_id: str, by: str, note: str, *,
                   manager_id: str | None = None) -> TaskView:
    """The second person sends the closing back to the investigator, saying why."""
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).refuse(task_id, by, note=note)


def escalate(engine: Engine, task_id: str, by: str, note: str, *, to: str | None = None,
             manager_id: str | None = None) -> TaskView:
    """Hand the alert up (to ``to``, if named), saying why; it waits to be acknowledged."""
    _guarded(engine, task_id, by, manager_id)
    return alert_queue(engine).escalate(task_id, by, note=note, to=to)


__all__ = ["ALERT_QUEUE", "LEVELS", "STEPS", "SYSTEM", "AlertRules", "SubjectRefused",
           "acknowledge", "alert_queue", "alert_task", "alert_tasks", "close", "confirm",
           "escalate", "investigate", "load_alert_rules", "open_alert_tasks",
           "return_closing", "task_id_of"]
