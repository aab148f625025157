"""The manual review queue (人工审批): cases the engine sent to a person, the file a reviewer
reads, and the reviewer's (and, above a threshold, a checker's) decision.

Why a file assembled here: a reviewer must see *why* the engine hesitated — the tags it read
(``decision_log.inputs``), each node's trace, the reasons in Chinese and English, the scores
and the proposed limit — without searching five screens. The person's decision becomes the
official ``decision`` row (``decided_by`` = that person, ``strategy_version`` = the pack
version the engine used) in the same transaction that closes the task, and the intake record
moves on. Deciding against the engine's proposal needs a note: an overturn without a reason
cannot be learnt from. Parameters (SLA by mode and amount, the maker–checker threshold) are in
``review_queue.yaml``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from xiaowei.engine.workflow import (
    NewTask,
    QueueRules,
    ServiceLevel,
    TaskView,
    WorkflowError,
    WorkQueue,
)
from xiaowei.engine.workflow.transitions import OPEN_STATES
from xiaowei.entities.task import TaskKind
from xiaowei.origination.work_rules import CalendarSpec, Strict, load_rules
from xiaowei.security import audit
from xiaowei.store.database import transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import Application, ApplicationIntake, Decision, DecisionLog, Task

DEFAULT_FILE = "review_queue.yaml"
HUMAN_TEXT = {"approve": ("人工审批通过", "approved by a credit officer"),
              "reject": ("人工审批拒绝", "rejected by a credit officer")}


class ReviewError(WorkflowError):
    """A review step is refused (no such case, nothing to review, a note missing …)."""


class Band(Strict):
    up_to_yuan: Decimal | None = None
    hours: float = Field(gt=0)
    working_time: bool = True
    check: bool = False


class MakerChecker(Strict):
    checker_above_yuan: Decimal = Field(ge=0)
    check: bool = False


class ReviewRules(Strict):
    """``review_queue.yaml``."""

    version: int = Field(ge=1)
    queue: str = Field(min_length=1, max_length=32)
    calendar: CalendarSpec = CalendarSpec()
    sla: dict[str, list[Band]]
    maker_checker: MakerChecker
    overturn_needs_note: bool = True

    @field_validator("sla")
    @classmethod
    def _bands(cls, sla: dict[str, list[Band]]) -> dict[str, list[Band]]:
        if "default" not in sla:
            raise ValueError("needs a 'default' list of bands for modes not named")
        for mode, bands in sla.items():
            if not bands or bands[-1].up_to_yuan is not None:
                raise ValueError(f"{mode}: the last band must have up_to_yuan: null")
            bounds = [b.up_to_yuan for b in bands[:-1]]
            if any(b is None for b in bounds) or bounds != sorted(bounds):  # type: ignore[type-var]
                raise ValueError(f"{mode}: bands must rise, with only the last unbounded")
        return sla

    def service_level(self, mode: str | None, amount: Decimal) -> ServiceLevel:
        """The SLA of a case decided in ``mode`` for ``amount`` yuan."""
        bands = self.sla.get(mode or "default", self.sla["default"])
        band = next(b for b in bands if b.up_to_yuan is None or amount <= b.up_to_yuan)
        return ServiceLevel(hours=band.hours,
                            calendar=self.calendar.calendar() if band.working_time else None)

    def queue_rules(self) -> QueueRules:
        return QueueRules(self.queue, checker_above=self.maker_checker.checker_above_yuan)


def load_review_rules(path: Path | str | None = None) -> ReviewRules:
    """The packaged ``review_queue.yaml`` or an edited copy at ``path``."""
    return load_rules(ReviewRules, DEFAULT_FILE, path)


def latest_decision(session: Session, application_id: str) -> DecisionLog:
    """The engine's current decision on the application (not superseded, latest)."""
    row = session.scalar(
        select(DecisionLog).where(DecisionLog.application_id == application_id,
                                  DecisionLog.superseded_by.is_(None))
        .order_by(DecisionLog.decided_at.desc(), DecisionLog.seq.desc()).limit(1))
    if row is None:
        raise ReviewError(f"申请 {application_id} 没有引擎决策 · application {application_id!r} "
                          "has no engine decision in the decision log")
    return row


def proposal(log: DecisionLog) -> dict[str, Any]:
    """What the engine proposed: its outcome, or for a case sent to review, approval at the
    computed limit when there is one (else no approval is proposed)."""
    limit = log.limit_amount or Decimal(0)
    if log.outcome in ("approve", "reject"):
        outcome = log.outcome
    else:
        outcome = "approve" if limit > 0 else "reject"
    return {"outcome": outcome, "limit": str(limit) if outcome == "approve" else None}


def set_intake_status(session: Session, application_id: str, status: str) -> None:
    """Move the intake record on (applications loaded without intake have none)."""
    intake = session.get(ApplicationIntake, application_id)
    if intake is not None:
        intake.status = status


class ReviewQueue:
    """Open, read, claim and decide manual reviews."""

    def __init__(self, engine: Engine, rules: ReviewRules | None = None, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self.rules = rules or load_review_rules()
        extra = {"clock": clock} if clock is not None else {}
        self.work = WorkQueue(engine, [self.rules.queue_rules()], **extra)

    # -- opening -------------------------------------------------------------------------

    def open(self, application_id: str, *, by: str,
             reasons: Sequence[Mapping[str, str]] = ()) -> TaskView:
        """Open (or return the open) review of an application the engine sent to a person;
        ``reasons`` added by the caller (e.g. DD_ADVERSE) also open one for an automatic case."""
        def attempt() -> TaskView:
            with transaction(self.engine) as session:
                return self.open_in(session, application_id, by=by, reasons=reasons)

        return retry_on_conflict(attempt, ReviewError)

    def open_in(self, session: Session, application_id: str, *, by: str,
                reasons: Sequence[Mapping[str, str]] = ()) -> TaskView:
        """:meth:`open` inside the caller's transaction."""
        app = session.get(Application, application_id)
        if app is None:
            raise ReviewError(f"没有申请 {application_id} · no application {application_id!r}")
        log = latest_decision(session, application_id)
        if log.outcome != "review" and log.mode == "automatic" and not reasons:
            raise ReviewError(f"申请 {application_id} 已自动决策 · application {application_id} "
                              f"was decided automatically ({log.outcome}); nothing to review")
        existing = session.scalars(select_open_reviews(application_id, self.rules.queue)).first()
        if existing is not None:
            return TaskView.from_row(existing)
        # The n-th review of an application has a fixed id, so two concurrent openings insert
        # the same key: one wins, the other's transaction fails and its retry finds the task.
        earlier = session.scalar(select(func.count()).select_from(Task).where(
            Task.application_id == application_id, Task.queue == self.rules.queue)) or 0
        spec = NewTask(
            task_id=f"RV-{_short(application_id)}-{earlier + 1}",
            kind=str(TaskKind.MANUAL_REVIEW), queue=self.rules.queue,
            links={"application_id": application_id, "party_id": app.party_id},
            service_level=self.rules.service_level(log.mode, app.amount),
            payload={"decision_id": log.decision_id, "engine_outcome": log.outcome,
                     "mode": log.mode, "proposal": proposal(log),
                     "pack": log.pack, "pack_version": log.pack_version,
                     "amount_applied": str(app.amount), "extra_reasons": list(reasons)})
        view = self.work.create_in(session, spec, by)
        set_intake_status(session, application_id, "in_review")
        return view

    # -- reading -------------------------------------------------------------------------

    def tasks(self, *, claimed_by: str | None = None) -> list[TaskView]:
        return self.work.tasks(queue=self.rules.queue, claimed_by=claimed_by)

    def file(self, task_id: str) -> dict[str, Any]:
        """Everything a reviewer needs on one page (see :func:`review_file`)."""
        return review_file(self.engine, self.work.get(task_id), self.work)

    # -- deciding ------------------------------------------------------------------------

    def claim(self, task_id: str, *, by: str) -> TaskView:
        self._review(task_id)
        return self.work.claim(task_id, by)

    def approve(self, task_id: str, *, by: str, note: str | None = None,
                amount: Decimal | None = None) -> TaskView:
        """Approve (at ``amount``, default the proposed limit or else the amount applied)."""
        return self._decide(task_id, "approve", by, note, amount)

    def reject(self, task_id: str, *, by: str, note: str | None = None) -> TaskView:
        return self._decide(task_id, "reject", by, note, None)

    def check(self, task_id: str, *, by: str, confirm: bool, note: str | None = None
              ) -> TaskView:
        """The checker confirms (final: the decision is written) or refuses (back to maker)."""
        self._review(task_id)
        if confirm:
            return self.work.confirm(task_id, by, note=note, on_final=_write_decision)
        return self.work.refuse(task_id, by, note=note or "")

    def _review(self, task_id: str) -> TaskView:
        view = self.work.get(task_id)
        if view.kind != TaskKind.MANUAL_REVIEW:
            raise ReviewError(f"task {task_id} is a {view.kind} task, not a manual review")
        return view

    def _decide(self, task_id: str, outcome: str, by: str, note: str | None,
                amount: Decimal | None) -> TaskView:
        view = self._review(task_id)
        offer = dict(view.payload.get("proposal") or {})
        limit = Decimal(offer["limit"]) if offer.get("limit") else None
        if outcome == "approve":
            amount = amount if amount is not None else (
                limit or Decimal(view.payload["amount_applied"]))
            if amount <= 0:
                raise ReviewError(f"an approved amount must be positive, got {amount}")
        overturn = outcome != offer.get("outcome") or (
            amount is not None and limit is not None and amount > limit)
        if overturn and self.rules.overturn_needs_note and not (note or "").strip():
            proposed = f"{offer.get('outcome')} {offer.get('limit') or ''}".strip()
            raise ReviewError(
                f"推翻引擎建议需填写理由 · deciding {outcome} against the engine's proposal "
                f"({proposed}) needs a note saying why (--note)")
        result = {"outcome": outcome, "approved_amount": str(amount) if amount else None,
                  "note": note, "overturn": overturn, "proposal": offer}
        return self.work.complete(task_id, by, result, amount=amount, note=note,
                                  on_final=_write_decision)


def _short(application_id: str) -> str:
    """The application key as it fits a task id (32 characters with prefix and counter)."""
    if len(application_id) <= 24:
        return application_id
    return hashlib.sha256(application_id.encode()).hexdigest()[:24]


def select_open_reviews(application_id: str, queue: str) -> Select[tuple[Task]]:
    """The application's open tasks in ``queue`` (at most one review should be open)."""
    return select(Task).where(Task.application_id == application_id, Task.queue == queue,
                              Task.status.in_([str(s) for s in OPEN_STATES]))


def _write_decision(session: Session, view: TaskView) -> None:
    """The official decision, written in the transaction that makes the review final."""
    result = dict(view.result or {})
    outcome = result["outcome"]
    zh, en = HUMAN_TEXT[outcome]
    human = {"code": f"HUMAN_{outcome.upper()}", "zh": zh, "en": en, "node": "manual_review",
             "detail": {"task_id": view.task_id, "note": result.get("note"),
                        "maker": result.get("maker"), "checked_by": result.get("checked_by"),
                        "overturn": result.get("overturn")}}
    log = session.get(DecisionLog, view.payload["decision_id"])
    engine_reasons = list((log.outputs or {}).get("reasons", [])) if log else []
    amount = result.get("approved_amount")
    application_id = str(view.links["application_id"])
    session.add(Decision(
        decision_id=f"D{uuid.uuid4().hex[:24]}", application_id=application_id,
        outcome=outcome, decided_at=view.closed_at or dt.datetime.now(dt.UTC),
        decided_by=str(result["maker"]),
        reasons=[human, *view.payload.get("extra_reasons", []), *engine_reasons],
        approved_amount=Decimal(amount) if amount else None,
        strategy_version=view.payload.get("pack_version")))
    set_intake_status(session, application_id, "decided")
    audit.record(session, str(result["maker"]), "review.decide", ("application", application_id),
                 {"outcome": outcome, "approved_amount": amount, "task_id": view.task_id,
                  "overturn": result.get("overturn"), "checked_by": result.get("checked_by")})


def review_file(engine: Engine, task: TaskView, work: WorkQueue) -> dict[str, Any]:
    """The review file of ``task``: the application, the tags the engine read, its trace,
    reasons (zh/en), scores, proposal, and the task's state and audit trail."""
    with transaction(engine) as session:
        app = session.get(Application, task.links["application_id"])
        log = session.get(DecisionLog, task.payload.get("decision_id"))
        intake = session.get(ApplicationIntake, task.links["application_id"])
        if app is None or log is None:
            raise ReviewError(f"task {task.task_id} points at no application or decision")
        outputs = dict(log.outputs or {})
        party = app.party
        file = {
            "task": task.to_json(),
            "application": {
                "application_id": app.application_id, "party_id": app.party_id,
                "party_name": party.name_masked, "party_type": party.party_type,
                "industry_code": party.industry_code, "product_intent": app.product_intent,
                "channel": app.channel, "amount": str(app.amount),
                "term_months": app.term_months, "applied_at": app.applied_at.isoformat(),
                "branch_id": app.branch_id, "manager_id": app.manager_id},
            "intake": None if intake is None else {
                "status": intake.status, "automated_ok": intake.automated_ok,
                "received_at": intake.received_at.isoformat(),
                "received_by": intake.received_by},
            "decision": {
                "decision_id": log.decision_id, "outcome": log.outcome, "mode": log.mode,
                "limit": str(log.limit_amount) if log.limit_amount is not None else None,
                "dd_level": log.dd_level, "manager_tier": log.manager_tier,
                "grade": outputs.get("grade"), "segment": outputs.get("segment"),
                "pack": log.pack, "pack_version": log.pack_version,
                "decided_at": log.decided_at.isoformat()},
            "proposal": task.payload.get("proposal"),
            "reasons": [*task.payload.get("extra_reasons", []), *outputs.get("reasons", [])],
            "scores": outputs.get("scores", {}),
            "tags": dict(log.inputs or {}),
            "trace": list(log.trace or []),
        }
    file["events"] = [e.to_json() for e in work.events(task.task_id)]
    return file
