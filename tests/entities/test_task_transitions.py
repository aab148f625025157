from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from xiaowei.entities.task import TRANSITIONS, Task, TaskKind, TaskStatus, can_transition

CREATED = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


def task(status: TaskStatus = TaskStatus.OPEN) -> Task:
    return Task(task_id="T-1", kind="due_diligence_visit", subject_id="APP-0001",
                created_at=CREATED, status=status)  # fmt: skip


ALLOWED = [(a, b) for a in TaskStatus for b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in TaskStatus for b in TaskStatus if b not in TRANSITIONS[a]]


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(TaskStatus)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transitions_return_a_new_task(current: TaskStatus, target: TaskStatus) -> None:
    before = task(current)
    after = before.transition(target)
    assert after.status is target
    assert before.status is current  # the original is untouched
    assert after.task_id == before.task_id


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transitions_name_both_states(current: TaskStatus, target: TaskStatus) -> None:
    with pytest.raises(ValueError) as caught:
        task(current).transition(target)
    assert f"from '{current}'" in str(caught.value)
    assert f"to '{target}'" in str(caught.value)


def test_the_ordinary_path_and_final_states() -> None:
    t = task().transition("acknowledged").transition("in_progress").transition("done")
    assert t.is_final
    assert not task().is_final
    assert not can_transition(TaskStatus.DONE, TaskStatus.OPEN)
    assert not can_transition(TaskStatus.CANCELLED, TaskStatus.IN_PROGRESS)
    assert can_transition(TaskStatus.ESCALATED, TaskStatus.IN_PROGRESS)
    with pytest.raises(ValueError, match="none: it is final"):
        t.transition("open")


def test_unknown_target_state() -> None:
    with pytest.raises(ValueError):
        task().transition("paused")


def test_due_not_before_creation() -> None:
    with pytest.raises(ValidationError, match="due_at"):
        Task(task_id="T-1", kind="collection", subject_id="L-1", created_at=CREATED,
             due_at=CREATED - timedelta(hours=1))  # fmt: skip


def test_labels() -> None:
    assert TaskKind.COLLECTION.zh == "催收"
    assert TaskStatus.ESCALATED.zh == "已升级"
