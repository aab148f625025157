"""Raised warnings become tasks held by the loan's manager, with the level's response deadline;
opening the day again opens nothing new; the life cycle acknowledge → investigate → close
needs a second person to close, and a task can be escalated (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.tags.service import data_as_of
from xiaowei.engine.workflow import CheckerRefused
from xiaowei.entities.task import TaskStatus
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.postloan.warning_tasks import WARNING_QUEUE, open_warning_tasks, warning_queue
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.tables import Task


@pytest.fixture
def opened(pipeline_bank: dict[str, Any], pipeline_store: Engine, tmp_path: Path
           ) -> tuple[Engine, list[Any], dt.date, AnalyticStore]:
    analytic = AnalyticStore(copy_bank(pipeline_bank, tmp_path / "bank"), read_only=False)
    day = data_as_of(analytic)
    run_monitoring(analytic, day, full_tags=False)
    tasks = open_warning_tasks(pipeline_store, analytic.connection, day)
    yield pipeline_store, tasks, day, analytic
    analytic.close()


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(Task).where(
            Task.queue == WARNING_QUEUE)) or 0


def test_one_task_per_warned_borrower_with_the_levels_deadline(opened) -> None:
    engine, tasks, day, analytic = opened
    warned = analytic.connection.execute(
        "SELECT count(DISTINCT party_id) FROM postloan.warning WHERE raised_on = ?",
        [day]).fetchone()[0]
    assert 0 < len(tasks) <= warned and _count(engine) == len(tasks)
    queue = warning_queue(engine)
    for task in tasks[:20]:
        view = queue.get(task.task_id)
        assert view.payload["trigger"] == "warning" and view.payload["level"] == task.level
        assert view.due_at == task.respond_by
        hours = (task.respond_by - dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(0, 30), tzinfo=dt.UTC)).total_seconds() / 3600
        if task.level == "red":
            assert hours == pytest.approx(24)  # 08:30 Beijing the next morning + 24 h
        else:
            assert hours > 24  # working days
        if task.manager_id is not None:
            assert view.claimed_by == task.manager_id
            assert view.status == TaskStatus.ACKNOWLEDGED
        assert {s["signal"] for s in view.payload["signals"]}
    # Opening the day again opens nothing new.
    again = open_warning_tasks(engine, analytic.connection, day)
    assert [t.task_id for t in again] == [t.task_id for t in tasks]
    assert _count(engine) == len(tasks)


def test_closing_needs_a_second_person_and_escalation_works(opened) -> None:
    engine, tasks, _day, _analytic = opened
    queue = warning_queue(engine)
    held = [t for t in tasks if t.manager_id is not None]
    assert len(held) >= 2
    first, second = held[0], held[1]
    maker = first.manager_id
    queue.start(first.task_id, maker)  # investigating
    waiting = queue.complete(first.task_id, maker, {"finding": "经营正常，销售季节性下降"},
                             amount=first.exposure or Decimal("0.01"))
    assert waiting.status == TaskStatus.IN_PROGRESS and waiting.result["stage"] == "checker"
    with pytest.raises(CheckerRefused):
        queue.confirm(first.task_id, maker)
    done = queue.confirm(first.task_id, "supervisor.zhao")
    assert done.status == TaskStatus.DONE and done.result["checked_by"] == "supervisor.zhao"
    up = queue.escalate(second.task_id, second.manager_id, note="实控人失联，需上报风险部")
    assert up.status == TaskStatus.ESCALATED and up.claimed_by is None
    actions = [e.action for e in queue.events(first.task_id)]
    assert actions[:2] == ["create", "assign"] and actions[-1] == "check_confirm"


def test_the_nightly_command_opens_the_tasks(pipeline_bank: dict[str, Any],
                                            pipeline_store: Engine, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH",
                       str(copy_bank(pipeline_bank, tmp_path / "cli")))
    monkeypatch.setenv("XIAOWEI_DATABASE_URL",
                       pipeline_store.url.render_as_string(hide_password=False))
    res = CliRunner().invoke(app, ["postloan", "run", "--signal-tags-only", "--json"])
    assert res.exit_code == 0, res.output
    opened = json.loads(res.stdout)["tasks_opened"]
    assert sum(opened.values()) == _count(pipeline_store) > 0
