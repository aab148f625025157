"""Tasks: the people's work each decision creates, and the states that work may pass through.

Why the transitions are data: the workflow engine, the web pages (which buttons to show) and the
staff analytics (what counts as an escalation) all need the same answer to "may a task go from
here to there", so there is one table and ``Task.transition`` enforces it. A finished or
cancelled task never reopens; new work is a new task, so the history of each stays honest.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import AwareDatetime, model_validator

from xiaowei.entities.fields import DomainModel, EntityId
from xiaowei.entities.labels import LabelledStrEnum


class TaskKind(LabelledStrEnum):
    """What the person is asked to do."""

    DUE_DILIGENCE_VISIT = "due_diligence_visit", "尽职调查"
    MANUAL_REVIEW = "manual_review", "人工审批"
    INSPECTION = "inspection", "贷后检查"
    COLLECTION = "collection", "催收"
    MAINTENANCE_VISIT = "maintenance_visit", "客户维护"
    SUPERVISOR_REVIEW = "supervisor_review", "主管复核"
    STAFF_ALERT = "staff_alert", "高危操作预警"


class TaskStatus(LabelledStrEnum):
    """Where a task stands."""

    OPEN = "open", "待领取"
    ACKNOWLEDGED = "acknowledged", "已领取"
    IN_PROGRESS = "in_progress", "处理中"
    DONE = "done", "已完成"
    ESCALATED = "escalated", "已升级"
    CANCELLED = "cancelled", "已取消"


_S = TaskStatus
TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = MappingProxyType(
    {
        _S.OPEN: frozenset({_S.ACKNOWLEDGED, _S.IN_PROGRESS, _S.ESCALATED, _S.CANCELLED}),
        _S.ACKNOWLEDGED: frozenset({_S.IN_PROGRESS, _S.ESCALATED, _S.CANCELLED}),
        _S.IN_PROGRESS: frozenset({_S.DONE, _S.ESCALATED, _S.CANCELLED}),
        # An escalated task is picked up again by the person it was escalated to.
        _S.ESCALATED: frozenset({_S.ACKNOWLEDGED, _S.IN_PROGRESS, _S.CANCELLED}),
        _S.DONE: frozenset(),
        _S.CANCELLED: frozenset(),
    }
)
"""Allowed next states of each state; ``done`` and ``cancelled`` are final."""


def can_transition(current: TaskStatus, to: TaskStatus) -> bool:
    """Whether the table allows moving from ``current`` to ``to``."""
    return to in TRANSITIONS[current]


class Task(DomainModel):
    """One piece of work about one subject (an application, a loan, a party or a manager)."""

    task_id: EntityId
    kind: TaskKind
    subject_id: EntityId
    assignee_id: EntityId | None = None
    created_at: AwareDatetime
    due_at: AwareDatetime | None = None
    status: TaskStatus = TaskStatus.OPEN

    @model_validator(mode="after")
    def _due_after_creation(self) -> Task:
        if self.due_at is not None and self.due_at < self.created_at:
            raise ValueError("due_at must not be before created_at")
        return self

    @property
    def is_final(self) -> bool:
        """Done or cancelled: nothing more can happen to this task."""
        return not TRANSITIONS[self.status]

    def transition(self, to: TaskStatus | str) -> Task:
        """A copy of this task in state ``to``; ValueError naming both states if not allowed."""
        target = TaskStatus(to)
        if not can_transition(self.status, target):
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none: it is final"
            raise ValueError(
                f"task {self.task_id}: cannot go from '{self.status}' to '{target}' "
                f"(allowed from '{self.status}': {allowed})"
            )
        return self.model_copy(update={"status": target})
