"""What the workflow hands out and takes in: plain, frozen records, never live ORM rows.

Why records: a page, a command and a test read a task after its transaction has ended; an
ORM row would lazily reach back into a closed session. The records carry only the words of
a work queue (task, queue, person, due time, result) — a domain's meaning lives in
``payload`` and ``result``, which the workflow stores without reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xiaowei.engine.workflow.sla import ServiceLevel, lateness
from xiaowei.engine.workflow.transitions import OPEN_STATES
from xiaowei.entities.task import TaskStatus

LINKS = ("party_id", "application_id", "assignee_id")
"""Columns of the task table that point at what the task is about, or whose it is."""


@dataclass(frozen=True)
class QueueRules:
    """A queue's rules: its service level and the amount above which a completion needs a
    checker (None: never)."""

    name: str
    service_level: ServiceLevel | None = None
    checker_above: Decimal | None = None


@dataclass(frozen=True)
class NewTask:
    """A task to create. ``links`` fill the task's reference columns (see :data:`LINKS`);
    ``claimed_by`` creates it already held by that person (assigned work); ``task_id``
    makes creation idempotent (the same id returns the existing task)."""

    kind: str
    queue: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    links: Mapping[str, str | None] = field(default_factory=dict)
    task_id: str | None = None
    service_level: ServiceLevel | None = None
    due_at: dt.datetime | None = None
    claimed_by: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.links) - set(LINKS))
        if unknown:
            raise ValueError(f"unknown task links {unknown}; allowed: {list(LINKS)}")


@dataclass(frozen=True)
class TaskView:
    """A task as it stood when read."""

    task_id: str
    kind: str
    queue: str | None
    status: TaskStatus
    created_at: dt.datetime
    due_at: dt.datetime | None
    claimed_by: str | None
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    result: Mapping[str, Any] | None
    payload: Mapping[str, Any]
    revision: int
    links: Mapping[str, str | None]

    @classmethod
    def from_row(cls, row: Any) -> TaskView:
        return cls(
            task_id=row.task_id, kind=row.kind, queue=row.queue, status=TaskStatus(row.status),
            created_at=row.created_at, due_at=row.due_at, claimed_by=row.claimed_by,
            claimed_at=row.claimed_at, closed_at=row.closed_at,
            result=dict(row.result) if row.result is not None else None,
            payload=dict(row.payload or {}), revision=row.revision,
            links={name: getattr(row, name) for name in LINKS})

    @property
    def stage(self) -> str | None:
        """The maker–checker stage inside ``in_progress`` ("checker", "returned", "final")."""
        return None if self.result is None else self.result.get("stage")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def late_by(self, now: dt.datetime) -> dt.timedelta | None:
        """How late the task is at ``now`` (None when on time, closed, or without SLA)."""
        return lateness(self.due_at, now) if self.is_open else None

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id, "kind": self.kind, "queue": self.queue,
            "status": str(self.status), "status_zh": self.status.zh, "stage": self.stage,
            "created_at": self.created_at.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "result": self.result, "payload": dict(self.payload), "revision": self.revision,
            **dict(self.links),
        }


@dataclass(frozen=True)
class TaskEventView:
    """One audit row: who did what to the task, when, from which state to which, and why."""

    event_id: int
    task_id: str
    at: dt.datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    detail: Mapping[str, Any] | None

    @classmethod
    def from_row(cls, row: Any) -> TaskEventView:
        return cls(row.event_id, row.task_id, row.at, row.actor, row.action, row.from_status,
                   row.to_status, row.note, row.detail)

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "at": self.at.isoformat(), "actor": self.actor,
                "action": self.action, "from": self.from_status, "to": self.to_status,
                "note": self.note, "detail": self.detail}
