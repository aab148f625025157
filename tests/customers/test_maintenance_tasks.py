"""Maintenance visits that fall due become tasks held by the customer's manager, once per
customer and day (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.customers.operation_tasks import QUEUE, open_maintenance_tasks
from xiaowei.data.tags.service import data_as_of
from xiaowei.entities.task import TaskKind
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.tables import Task


def _visits(engine: Engine) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(Task).where(
            Task.queue == QUEUE, Task.kind == str(TaskKind.MAINTENANCE_VISIT))) or 0


def test_due_visits_open_tasks_once(pipeline_bank: dict[str, Any], pipeline_store: Engine,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = copy_bank(pipeline_bank, tmp_path / "bank")
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(store))
    monkeypatch.setenv("XIAOWEI_DATABASE_URL",
                       pipeline_store.url.render_as_string(hide_password=False))
    res = CliRunner().invoke(app, ["customers", "run", "--open-tasks", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    opened = doc["maintenance_tasks"]["opened"]
    assert 0 < opened <= doc["visits_due"]
    assert opened + len(doc["maintenance_tasks"]["skipped_not_in_store"]) == doc["visits_due"]
    assert _visits(pipeline_store) == opened
    with AnalyticStore(store) as analytic:
        again = open_maintenance_tasks(pipeline_store, analytic.connection,
                                       data_as_of(analytic))
    assert len(again.tasks) == opened and _visits(pipeline_store) == opened  # nothing new
    # The next day the same visits are still due (none was recorded): still one task each.
    with AnalyticStore(store, read_only=False) as analytic:
        next_day = data_as_of(analytic) + dt.timedelta(days=1)
        analytic.connection.execute(
            "INSERT INTO customers.customer_day SELECT * REPLACE (CAST(? AS DATE) AS as_of) "
            "FROM customers.customer_day WHERE as_of = ?", [next_day, data_as_of(analytic)])
        later = open_maintenance_tasks(pipeline_store, analytic.connection, next_day)
    kept = [t for t in later.tasks if (next_day.toordinal() // t.payload["visit_every_days"])
            == ((next_day - dt.timedelta(days=1)).toordinal() // t.payload["visit_every_days"])]
    assert kept and _visits(pipeline_store) == opened + len(later.tasks) - len(kept)
    task = again.tasks[0]
    assert task.payload["trigger"] == "maintenance" and task.payload["grade"] in "ABCD"
    assert task.claimed_by == task.links["assignee_id"]
