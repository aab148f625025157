"""Due diligence (尽职调查): the checklist the strategy's DD level asks for, the customer
manager's findings item by item, and what an adverse finding changes.

Why findings feed back: due diligence exists to catch what data cannot see — premises that are
shut, stock that is not there. A finding recorded as adverse therefore reopens the decision:
the case goes to manual review with reason ``DD_ADVERSE`` (zh/en), whatever the engine decided,
in the same transaction that closes the DD task. Checklists, evidence rules and SLA days per
level are data (``due_diligence.yaml``); a checklist is accepted only whole — an unknown or
missing item is named, so nothing is silently skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from xiaowei.engine.workflow import NewTask, QueueRules, ServiceLevel, TaskView, WorkQueue
from xiaowei.entities.task import TaskKind
from xiaowei.origination.review_queue import (
    ReviewError,
    ReviewQueue,
    latest_decision,
    set_intake_status,
)
from xiaowei.origination.work_rules import CalendarSpec, Strict, load_rules
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application

DEFAULT_FILE = "due_diligence.yaml"
LEVELS = ("none", "light", "standard", "deep")
OUTCOMES = ("ok", "adverse")


class DueDiligenceError(ReviewError):
    """A due-diligence step is refused (no manager, an incomplete checklist …)."""


class Item(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    evidence: Literal["photo", "document", "note", "none"]


class Level(Strict):
    sla_days: int | None = Field(None, gt=0)
    items: list[str]
    check: bool = False


class Reason(Strict):
    code: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class DueDiligenceRules(Strict):
    """``due_diligence.yaml``."""

    version: int = Field(ge=1)
    queue: str = Field(min_length=1, max_length=32)
    calendar: CalendarSpec = CalendarSpec()
    adverse_reason: Reason
    items: list[Item]
    levels: dict[Literal["none", "light", "standard", "deep"], Level]

    @field_validator("items")
    @classmethod
    def _unique(cls, items: list[Item]) -> list[Item]:
        ids = [i.id for i in items]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"ids used twice: {twice}")
        return items

    @field_validator("levels")
    @classmethod
    def _consistent(cls, levels: dict[str, Level], info: ValidationInfo) -> dict[str, Level]:
        ids = [i.id for i in info.data.get("items", [])]
        missing = [name for name in LEVELS if name not in levels]
        if missing:
            raise ValueError(f"every DD level needs a checklist; missing {missing}")
        for name, level in levels.items():
            unknown = [i for i in level.items if i not in ids]
            if unknown:
                raise ValueError(f"{name}: unknown item ids {unknown}")
            if name != "none" and (not level.items or level.sla_days is None):
                raise ValueError(f"{name}: needs items and sla_days")
            if name == "none" and level.items:
                raise ValueError("none: a case without due diligence has no items")
        return levels

    def checklist(self, level: str) -> list[Item]:
        if level not in self.levels:
            raise DueDiligenceError(f"unknown DD level {level!r}; known: {list(LEVELS)}")
        by_id = {i.id: i for i in self.items}
        return [by_id[i] for i in self.levels[level].items]  # type: ignore[index]

    def service_level(self, level: str) -> ServiceLevel:
        days = self.levels[level].sla_days  # type: ignore[index]
        return ServiceLevel(days=days, calendar=self.calendar.calendar())


def load_due_diligence_rules(path: Path | str | None = None) -> DueDiligenceRules:
    """The packaged ``due_diligence.yaml`` or an edited copy at ``path``."""
    return load_rules(DueDiligenceRules, DEFAULT_FILE, path)


@dataclass(frozen=True)
class Finding:
    """What the manager found on one checklist item; ``note`` carries the observation or the
    evidence's file reference."""

    item_id: str
    outcome: str
    note: str | None = None

    @classmethod
    def parse(cls, text: str) -> Finding:
        """``ID=ok``, ``ID=adverse:premises closed`` (the command line's form)."""
        item, sep, rest = text.partition("=")
        outcome, _, note = rest.partition(":")
        if not sep or not item.strip() or outcome.strip() not in OUTCOMES:
            raise DueDiligenceError(f"finding {text!r}: expected ID=ok or ID=adverse[:note]")
        return cls(item.strip(), outcome.strip(), note.strip() or None)

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item_id, "outcome": self.outcome, "note": self.note}


@dataclass(frozen=True)
class DueDiligenceOutcome:
    """The closed DD task, its adverse findings, and the review it opened (if any)."""

    task: TaskView
    adverse: tuple[Finding, ...]
    review: TaskView | None


class DueDiligence:
    """Open DD tasks for the assigned manager, show checklists, record findings."""

    def __init__(self, engine: Engine, rules: DueDiligenceRules | None = None, *,
                 review: ReviewQueue | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self.rules = rules or load_due_diligence_rules()
        self.review = review or ReviewQueue(engine, clock=clock)
        extra = {"clock": clock} if clock is not None else {}
        self.work = WorkQueue(engine, [QueueRules(self.rules.queue)], **extra)

    def open(self, application_id: str, *, by: str) -> TaskView | None:
        """The DD task the engine's ``dd_level`` asks for, held by the application's manager;
        None when the level is ``none``. Opening twice returns the same task."""
        with transaction(self.engine) as session:
            return self.open_in(session, application_id, by=by)

    def open_in(self, session: Session, application_id: str, *, by: str) -> TaskView | None:
        """:meth:`open` inside the caller's transaction (intake opens it with the decision)."""
        app = session.get(Application, application_id)
        if app is None:
            raise DueDiligenceError(f"no application {application_id!r}")
        level = latest_decision(session, application_id).dd_level or "none"
        if not self.rules.levels[level].items:  # type: ignore[index]
            return None
        if app.manager_id is None:
            raise DueDiligenceError(
                f"申请 {application_id} 尚未分配客户经理 · application {application_id} has "
                "no customer manager yet: assign one before due diligence")
        spec = NewTask(
            kind=str(TaskKind.DUE_DILIGENCE_VISIT), queue=self.rules.queue,
            task_id=f"DD-{application_id}"[:32], claimed_by=app.manager_id,
            links={"application_id": application_id, "party_id": app.party_id,
                   "assignee_id": app.manager_id},
            service_level=self.rules.service_level(level),
            payload={"dd_level": level, "rules_version": self.rules.version,
                     "items": [i.id for i in self.rules.checklist(level)]})
        view = self.work.create_in(session, spec, by)
        set_intake_status(session, application_id, "in_dd")
        return view

    def checklist(self, task_id: str) -> dict[str, Any]:
        """The task, and each item of its checklist with the finding recorded (if done)."""
        task = self._dd(task_id)
        found = {f["item"]: f for f in (task.result or {}).get("findings", [])}
        by_id = {i.id: i for i in self.rules.items}
        items = [{**by_id[i].model_dump(), "finding": found.get(i)}
                 for i in task.payload.get("items", [])]
        return {"task": task.to_json(), "dd_level": task.payload.get("dd_level"),
                "items": items, "events": [e.to_json() for e in self.work.events(task_id)]}

    def record(self, task_id: str, *, by: str, findings: Sequence[Finding]
               ) -> DueDiligenceOutcome:
        """Record the whole checklist at once and close the task; adverse findings send the
        case to manual review (DD_ADVERSE), clean ones move the intake back to "decided"."""
        task = self._dd(task_id)
        self._check_complete(task, findings)
        adverse = tuple(f for f in findings if f.outcome == "adverse")
        opened: list[TaskView] = []
        reason = self.rules.adverse_reason

        def feed_back(session: Session, view: TaskView) -> None:
            application_id = str(view.links["application_id"])
            if not adverse:
                set_intake_status(session, application_id, "decided")
                return
            detail = {"task_id": view.task_id, "items": [f.to_json() for f in adverse]}
            opened.append(self.review.open_in(session, application_id, by=by, reasons=[
                {"code": reason.code, "zh": reason.zh, "en": reason.en,
                 "node": "due_diligence", "detail": detail}]))

        result = {"findings": [f.to_json() for f in findings],
                  "adverse": [f.item_id for f in adverse]}
        if task.claimed_by is None:
            self.work.claim(task_id, by)
        done = self.work.complete(task_id, by, result, on_final=feed_back)
        return DueDiligenceOutcome(done, adverse, opened[0] if opened else None)

    def _dd(self, task_id: str) -> TaskView:
        view = self.work.get(task_id)
        if view.kind != TaskKind.DUE_DILIGENCE_VISIT:
            raise DueDiligenceError(f"task {task_id} is a {view.kind} task, not due diligence")
        return view

    def _check_complete(self, task: TaskView, findings: Sequence[Finding]) -> None:
        """Every problem at once: unknown, repeated and missing items, missing evidence."""
        expected = list(task.payload.get("items", []))
        by_id = {i.id: i for i in self.rules.items}
        given = [f.item_id for f in findings]
        problems = []
        unknown = [i for i in given if i not in expected]
        if unknown:
            problems.append(f"unknown item ids for this {task.payload.get('dd_level')} "
                            f"checklist: {unknown}")
        twice = sorted({i for i in given if given.count(i) > 1})
        if twice:
            problems.append(f"items recorded twice: {twice}")
        missing = [i for i in expected if i not in given]
        if missing:
            problems.append(f"checklist incomplete; missing items: {missing}")
        for f in findings:
            item = by_id.get(f.item_id)
            if f.outcome not in OUTCOMES:
                problems.append(f"{f.item_id}: outcome must be ok or adverse, got {f.outcome!r}")
            if item is not None and f.item_id in expected and item.evidence != "none" \
                    and not f.note:
                problems.append(f"{f.item_id}: needs evidence ({item.evidence}): add :NOTE "
                                "with the observation or the file reference")
            elif f.outcome == "adverse" and not f.note:
                problems.append(f"{f.item_id}: an adverse finding needs a note saying what "
                                "was found")
        if problems:
            raise DueDiligenceError(f"尽调记录不完整 · task {task.task_id} refused:\n"
                                    + "\n".join(f"  {p}" for p in problems))
