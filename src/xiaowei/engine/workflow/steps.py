"""What one workflow step is made of: the change it writes, its audit events, and the
checks on who may take it — kept apart from the queue so each file holds one idea.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from xiaowei.engine.workflow.errors import CheckerRefused, NotClaimant
from xiaowei.engine.workflow.records import TaskView
from xiaowei.engine.workflow.transitions import STAGE_CHECKER, check_move
from xiaowei.entities.registry_names import same_person
from xiaowei.entities.task import TaskStatus
from xiaowei.store.tables import Task, TaskEvent

FinalHook = Callable[[Session, TaskView], None]
SLA_BREACH = "sla_breach"


class Stale(Exception):
    """The task changed between our read and our write; start the step again."""


@dataclass
class Change:
    """What one step does: new column values, audit events, and a hook if it makes it final."""

    values: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    on_final: FinalHook | None = None

    def move(self, row: Task, to: TaskStatus, action: str, by: str, at: dt.datetime,
             note: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        current = self.values.get("status", row.status)
        if to != current:
            check_move(row.task_id, current, to)
            self.values["status"] = str(to)
        self.events.append({"action": action, "from_status": str(current),
                            "to_status": str(to), "actor": by, "at": at, "note": note,
                            "detail": dict(detail) if detail else None})


def when(at: dt.datetime | None) -> str:
    return "—" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"


def plain(value: Any) -> Any:
    """JSON-safe: Decimals as text (exact), nested mappings and lists converted."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def holder_check(row: Task, user: str, verb: str) -> None:
    if row.claimed_by is None:
        raise NotClaimant(f"任务 {row.task_id} 未被领取 · task {row.task_id} is not "
                          f"claimed: claim it before you {verb} it")
    if not same_person(row.claimed_by, user):
        raise NotClaimant(f"任务 {row.task_id} 由 {row.claimed_by} 持有 · task "
                          f"{row.task_id} is held by {row.claimed_by} since "
                          f"{when(row.claimed_at)}; only they may {verb} it")

def awaiting_check(row: Task, checker: str) -> str:
    if stage(row) != STAGE_CHECKER or row.status != TaskStatus.IN_PROGRESS:
        raise CheckerRefused(f"task {row.task_id} is not awaiting a checker "
                             f"(status {row.status}, stage {stage(row)})")
    maker = str((row.result or {}).get("maker"))
    if same_person(maker, checker):
        raise CheckerRefused(
            f"复核人不能是经办人 · the checker cannot be the maker: {checker} made this "
            f"completion of task {row.task_id}; a second, different person must check it")
    return maker


def stage(row: Task) -> str | None:
    return None if row.result is None else row.result.get("stage")


def breached(session: Session, task_id: str) -> bool:
    return bool(session.scalar(select(exists().where(
        TaskEvent.task_id == task_id, TaskEvent.action == SLA_BREACH))))
