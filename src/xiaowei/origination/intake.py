"""Intake: an application enters the pipeline — checked, decided, logged, assigned, stored.

Why one function owns this: the application, its intake record, the engine's decision log
(数据埋点), the official decision and the manager assignment must be written together or not
at all — a decision without its log cannot be measured later, an application without its
decision would be decided twice. So everything goes in one transaction.

Idempotency: the application's key (``application_id``) is the primary key of both
``application`` and ``application_intake``. Submitting the same key with the same payload
again (a client's retry, a batch rerun) returns what was stored, without deciding again; the
same key with other content is refused (:class:`IntakeConflict`, an HTTP 409). Two concurrent
submissions of one key both decide, but only one insert wins; the other's transaction fails on
the key, is retried, and finds the winner's record (``retry_on_conflict``).

Calls into a decider are serialised here — its online tag runner holds DuckDB cursors that one
thread at a time may use — unless the decider says it is ``concurrent`` (the API's serving
tags keep a pool of runners); the governed-party lookup always is (one DuckDB connection). The
database work is not serialised.

The work that follows is opened in the same transaction (one pipeline): a due-diligence task
for the assigned manager when the strategy asks for DD (``dd_level`` other than ``none``) on a
case it did not reject, and a manual-review task when a person must decide. A retry finds them
with the application and opens nothing twice.

The official ``decision`` row is written only when the engine decided alone (mode
``automatic``); otherwise the case waits for a person (``in_review``). An applicant who
refused a purely automated decision (PIPL art. 24, ``automated_ok=False``) is always decided by
a person: the engine turns that into review, and the intake record keeps the refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaowei.data.governed_party import governed_party
from xiaowei.entities.registry_names import check_user
from xiaowei.origination.decide import ApplicationError, validate_application
from xiaowei.origination.due_diligence import DueDiligence
from xiaowei.origination.manager_matching import (
    ManagerChoice,
    MatchingRules,
    assign_manager,
    load_rules,
)
from xiaowei.origination.review_queue import ReviewQueue
from xiaowei.security import audit
from xiaowei.store.database import for_writing, transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import (
    Application,
    ApplicationIntake,
    Branch,
    Decision,
    DecisionLog,
    LoadBatch,
    Party,
    QuarantinedRow,
    Task,
)

ENGINE_USER = "engine"
DEFAULT_TERM_MONTHS = 12
_DECIDE_LOCK = threading.Lock()
PartyKey = Callable[[str | None, str | None], str | None]
"""(uscc, id_number) → the governed party id whose tags describe this customer, or None."""


class IntakeError(ValueError):
    """An application the intake refuses, for a reason other than its fields."""


class UnknownParty(IntakeError):
    """The applicant is not a party the bank knows (not in ``party``)."""


class IntakeConflict(IntakeError):
    """The application key was already used for a different payload."""


class StoreBusy(IntakeError):
    """The store stayed locked by concurrent writers through every retry: try again later
    (an API answers 503 with Retry-After; nothing was stored)."""


class Decides(Protocol):
    """What intake needs of a decider (:class:`~xiaowei.origination.decide.DefaultDecider`)."""

    def decide_with_inputs(self, application: Mapping[str, Any], *, automated_ok: bool = True
                           ) -> tuple[dict[str, Any], dict[str, Any]]: ...


@dataclass(frozen=True)
class IntakeResult:
    """What is stored for one application: decision, manager and status.

    ``created`` is false when an identical earlier submission was found (nothing was decided).
    """

    application_id: str
    status: str
    automated_ok: bool
    decision: dict[str, Any]
    manager: dict[str, Any]
    created: bool
    tasks: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "status": self.status,
                "automated_ok": self.automated_ok, "created": self.created,
                "decision": self.decision, "manager": self.manager,
                "tasks": [dict(t) for t in self.tasks]}


@dataclass
class BatchResult:
    """A batch's results in input order; bad rows are listed (and quarantined), not lost."""

    results: list[IntakeResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    batch_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"results": [r.to_json() for r in self.results], "errors": self.errors,
                "accepted": len(self.results), "refused": len(self.errors),
                "batch_id": self.batch_id}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def governed_party_key(analytic: Any) -> PartyKey:
    """Find a customer's governed party (whose tags the engine reads) by its identifiers.

    Why: the transactional store keys customers by the bank's own party ids, governance by
    resolved entities; the unified social credit code or ID number links the two
    (``gov.party_key``). Not thread-safe (one DuckDB connection): intake calls it under its
    decision lock.
    """
    def key(uscc: str | None, id_number: str | None) -> str | None:
        return governed_party(analytic.connection, uscc, id_number)

    return key


def payload_hash(fields: Mapping[str, Any], automated_ok: bool) -> str:
    """SHA-256 of the checked fields (so ``"300000"`` and ``300000`` are one payload) and
    the applicant's automated-decision choice, which changes the decision."""
    doc = {k: str(v) if isinstance(v, Decimal | dt.date) else v for k, v in fields.items()}
    doc["automated_ok"] = automated_ok
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def home_branch(session: Session, party_id: str) -> str:
    """The party's home branch: the branch of its latest application; for a new customer,
    the branch whose region code shares the longest prefix with the party's region code."""
    party = session.get(Party, party_id)
    if party is None:
        raise UnknownParty(f"party_id: {party_id!r} is not a customer the bank knows "
                           "(register the party first)")
    latest = session.scalar(select(Application.branch_id)
                            .where(Application.party_id == party_id)
                            .order_by(Application.applied_at.desc()).limit(1))
    if latest is not None:
        return latest
    branches = session.execute(select(Branch.branch_id, Branch.region_code)
                               .order_by(Branch.branch_id)).all()
    if not branches:
        raise IntakeError("the store has no branches; load the bank's branches first")

    def shared(region: str) -> int:
        n = 0
        for a, b in zip(region, party.region_code, strict=False):
            if a != b:
                break
            n += 1
        return n

    return min(branches, key=lambda b: (-shared(b[1]), b[0]))[0]


def _stored(session: Session, intake: ApplicationIntake, created: bool) -> IntakeResult:
    log = session.scalar(select(DecisionLog)
                         .where(DecisionLog.application_id == intake.application_id,
                                DecisionLog.superseded_by.is_(None))
                         .order_by(DecisionLog.decided_at.desc(), DecisionLog.seq.desc())
                         .limit(1))
    application = session.get_one(Application, intake.application_id)
    decision = dict(log.outputs) if log is not None else {}
    manager = decision.pop("manager", None) or {"manager_id": application.manager_id}
    return IntakeResult(intake.application_id, intake.status, intake.automated_ok, decision,
                        manager, created, _work_of(session, intake.application_id))


def _work_of(session: Session, application_id: str) -> tuple[dict[str, str], ...]:
    rows = session.scalars(select(Task).where(Task.application_id == application_id)
                           .order_by(Task.created_at, Task.task_id))
    return tuple({"task_id": t.task_id, "kind": t.kind, "queue": t.queue or "",
                  "status": t.status} for t in rows)


def open_work(session: Session, engine: Engine, application_id: str,
              decision: Mapping[str, Any], by: str) -> None:
    """Open the DD and review tasks this decision asks for, in the caller's transaction."""
    review = ReviewQueue(engine)
    application = session.get_one(Application, application_id)
    if (decision["outcome"] != "reject" and decision.get("dd_level") not in (None, "none")
            and application.manager_id is not None):
        DueDiligence(engine, review=review).open_in(session, application_id, by=by)
    if decision["outcome"] == "review" or decision["mode"] != "automatic":
        review.open_in(session, application_id, by=by)


def get_application(engine: Engine, application_id: str) -> IntakeResult | None:
    """The stored decision, manager and status of an application, or ``None``."""
    with transaction(engine) as session:
        intake = session.get(ApplicationIntake, application_id)
        return None if intake is None else _stored(session, intake, False)


def _existing(session: Session, application_id: str, digest: str) -> IntakeResult | None:
    intake = session.get(ApplicationIntake, application_id)
    if intake is None:
        if session.get(Application, application_id) is not None:
            raise IntakeConflict(f"application_id: {application_id!r} already exists (entered "
                                 "before the intake pipeline); use a new application key")
        return None
    if intake.payload_sha256 != digest:
        raise IntakeConflict(f"application_id: {application_id!r} was already submitted with a "
                             "different payload; a changed application needs a new key")
    return _stored(session, intake, False)


def _tier_number(tier: Any, rules: MatchingRules) -> int | None:
    try:
        return rules.tier_number(tier)
    except ValueError:
        return None


def submit(engine: Engine, decider: Decides, application: Mapping[str, Any], *, user: str,
           automated_ok: bool = True, channel_ref: str | None = None,
           rules: MatchingRules | None = None, party_key: PartyKey | None = None,
           clock: Callable[[], dt.datetime] = _utc_now) -> IntakeResult:
    """Check, decide, log, assign and store one application (see the module doc).

    ``party_key`` maps the customer to its governed party for the engine's tags (see
    :func:`governed_party_key`); without it (or when it finds none) the engine reads the
    tags of ``party_id`` itself — a customer without governed data goes to review.

    Raises :class:`ApplicationError` (every bad field), :class:`UnknownParty`,
    :class:`IntakeConflict` (key reused for other content).
    """
    who = check_user(user, "user", IntakeError)
    fields = validate_application(application)
    key = fields["application_id"]
    digest = payload_hash(fields, automated_ok)
    rules = rules or load_rules()
    with transaction(engine) as session:
        found = _existing(session, key, digest)
        if found is not None:
            return found
        home_branch(session, fields["party_id"])  # refuse an unknown party before deciding
        party = session.get_one(Party, fields["party_id"])
        identifiers = (party.uscc, party.id_number)
    with _DECIDE_LOCK:
        governed = party_key(*identifiers) if party_key is not None else None
    case = {**application, "party_id": governed or fields["party_id"]}
    with nullcontext() if getattr(decider, "concurrent", False) else _DECIDE_LOCK:
        decision, inputs = decider.decide_with_inputs(case, automated_ok=automated_ok)

    writer = for_writing(engine)

    def attempt() -> IntakeResult:
        with transaction(writer) as session:
            again = _existing(session, key, digest)
            if again is not None:
                return again
            _insert(session, fields, decision, inputs, who, automated_ok, digest, channel_ref,
                    rules, clock())
            open_work(session, engine, key, decision, who)
            session.flush()
            return _stored(session, session.get_one(ApplicationIntake, key), True)

    return retry_on_conflict(attempt, StoreBusy)


def _insert(session: Session, fields: Mapping[str, Any], decision: dict[str, Any],
            inputs: dict[str, Any], who: str, automated_ok: bool, digest: str,
            channel_ref: str | None, rules: MatchingRules, now: dt.datetime) -> None:
    key = fields["application_id"]
    automatic = decision["mode"] == "automatic"
    status = {"approve": "approved", "reject": "rejected"}.get(decision["outcome"], "in_review")
    term = fields.get("term_months") or (decision["term"] if isinstance(decision.get("term"),
                                         int) else DEFAULT_TERM_MONTHS)
    applied = dt.datetime.combine(fields["applied_on"], dt.time(), tzinfo=dt.UTC)
    session.add(Application(
        application_id=key, party_id=fields["party_id"], applied_at=applied,
        channel=fields["channel"][:32], product_intent=fields["product_intent"][:64],
        amount=Decimal(fields["amount"]).quantize(Decimal("0.01")), term_months=term,
        branch_id=home_branch(session, fields["party_id"]),
        status=status if automatic else "in_review", source_ref=channel_ref))
    session.add(ApplicationIntake(application_id=key, payload_sha256=digest, received_at=now,
                                  received_by=who, channel_ref=channel_ref,
                                  automated_ok=automated_ok,
                                  status="decided" if automatic else "in_review"))
    session.flush()  # the key is ours (or the primary key refuses it) before anything else
    choice: ManagerChoice = assign_manager(session, key, decision.get("manager_tier"), rules)
    outputs = {k: v for k, v in decision.items() if k != "trace"}
    outputs["manager"] = choice.to_json()
    seq = (session.scalar(select(func.max(DecisionLog.seq))
                          .where(DecisionLog.application_id == key)) or 0) + 1
    limit = decision.get("limit")
    session.add(DecisionLog(
        decision_id=uuid.uuid4().hex, application_id=key, seq=seq, decided_at=now,
        pack=str(decision["pack"])[:63], pack_version=str(decision["pack_version"])[:64],
        models=decision.get("models") or {}, inputs=inputs, outputs=outputs,
        trace=decision.get("trace") or [], outcome=decision["outcome"], mode=decision["mode"],
        dd_level=decision.get("dd_level"),
        manager_tier=_tier_number(decision.get("manager_tier"), rules),
        limit_amount=None if limit is None else Decimal(str(limit)).quantize(Decimal("0.01")),
        micros=float(decision.get("micros") or 0.0)))
    if automatic and decision["outcome"] in ("approve", "reject"):
        session.add(Decision(
            decision_id=uuid.uuid4().hex, application_id=key, outcome=decision["outcome"],
            decided_at=now, decided_by=f"{ENGINE_USER}:{decision['pack']}"[:64],
            reasons=decision.get("reasons") or [],
            approved_amount=Decimal(str(limit)).quantize(Decimal("0.01"))
            if decision["outcome"] == "approve" and limit else None,
            strategy_version=str(decision["pack_version"])[:64]))
    audit.record(session, who, "intake.decide", ("application", key),
                 {"outcome": decision["outcome"], "mode": decision["mode"], "status": status,
                  "pack_version": str(decision["pack_version"]), "automated_ok": automated_ok},
                 at=now)
    session.flush()


def submit_batch(engine: Engine, decider: Decides, applications: Iterable[Any], *, user: str,
                 automated_ok: bool = True, rules: MatchingRules | None = None,
                 party_key: PartyKey | None = None,
                 progress: Callable[[int], None] | None = None,
                 source: str = "intake") -> BatchResult:
    """Submit many; each bad row is reported with its position (1-based) and quarantined with
    its reasons in ``quarantined_row`` (under one ``load_batch``), so nothing is lost."""
    rules = rules or load_rules()
    out = BatchResult()
    refused: list[Any] = []
    for number, application in enumerate(applications, start=1):
        try:
            out.results.append(submit(engine, decider, application, user=user,
                                      automated_ok=automated_ok, rules=rules,
                                      party_key=party_key))
        except (ApplicationError, IntakeError) as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            key = application.get("application_id") if isinstance(application, Mapping) \
                else None
            out.errors.append({"row": number, "application_id": key, "problems": problems,
                               "kind": type(exc).__name__})
            refused.append(application)
        if progress is not None:
            progress(number)
    if out.errors:
        out.batch_id = _quarantine(engine, out, refused, user, source)
    return out


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _quarantine(engine: Engine, out: BatchResult, refused: list[Any], user: str,
                source: str) -> str:
    """Keep each refused row as received, with its reasons, so nothing is lost (application
    fields carry no personal data beyond the party id, which quarantine readers may see)."""
    batch_id = f"intake-{uuid.uuid4().hex[:24]}"
    now = _utc_now()
    with transaction(engine) as session:
        session.add(LoadBatch(batch_id=batch_id, source_dir=f"{source} by {user}"[:500],
                              started_at=now, finished_at=now, status="done",
                              rows_in=len(out.results) + len(out.errors),
                              rows_accepted=len(out.results),
                              rows_quarantined=len(out.errors)))
        session.flush()
        for error, row in zip(out.errors, refused, strict=True):
            field_name = _field_of(error["problems"][0])
            session.add(QuarantinedRow(batch_id=batch_id, table_name="application_intake",
                                       row_number=error["row"], column_name=field_name,
                                       reason="; ".join(error["problems"]),
                                       raw={"row": _json_safe(row), "kind": error["kind"]}))
    return batch_id


def _field_of(problem: str) -> str | None:
    name = problem.split(":", 1)[0]
    return name[:64] if name.isidentifier() else None


__all__ = ["BatchResult", "IntakeConflict", "IntakeError", "IntakeResult", "PartyKey",
           "StoreBusy", "UnknownParty", "get_application", "governed_party_key", "home_branch",
           "payload_hash", "submit", "submit_batch"]
