"""Retention actions become renewal calls and maintenance visits on the loan manager's list,
once per loan and maturity; outcomes are recorded and retention is measured by action —
as recorded, and as observed in the loans that followed (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.operation_tasks import (
    KIND_OF_ACTION,
    campaign_results,
    open_renewal_tasks,
    outcomes_by_task,
    record_outcome,
)
from xiaowei.customers.renewal import RenewalRun, renewal_pipeline
from xiaowei.data.tags.service import data_as_of
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def maturing(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, RenewalRun]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("renewal-tasks-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        day = data_as_of(analytic) - dt.timedelta(days=150)
        return path, renewal_pipeline(analytic, day)


def test_one_task_per_loan_and_maturity_with_the_actions_kind(maturing,
                                                              pipeline_store: Engine) -> None:
    path, run = maturing
    acting = [r for r in run.table.to_pylist() if r["action"] != "none"]
    assert acting
    with AnalyticStore(path, read_only=True) as analytic:
        opened = open_renewal_tasks(pipeline_store, analytic.connection, run)
        again = open_renewal_tasks(pipeline_store, analytic.connection, run)
    assert len(opened.tasks) + len(opened.skipped) == len(acting)
    assert [t.task_id for t in again.tasks] == [t.task_id for t in opened.tasks]
    by_loan = {r["loan_id"]: r for r in acting}
    for task in opened.tasks:
        row = by_loan[task.payload["loan_id"]]
        assert task.kind == KIND_OF_ACTION[row["action"]]
        assert task.payload["action"] == row["action"] and task.payload["route"] == row["route"]
        assert task.due_at.date() <= row["maturity_date"]
        assert task.task_id == f"RN-{row['loan_id']}-{row['maturity_date']:%y%m}"
    assert len(set(outcomes_by_task(pipeline_store))) == len(opened.tasks)


def test_recorded_and_observed_retention_by_action(maturing, pipeline_store: Engine) -> None:
    path, run = maturing
    with AnalyticStore(path, read_only=True) as analytic:
        tasks = open_renewal_tasks(pipeline_store, analytic.connection, run).tasks
        held = [t for t in tasks if t.claimed_by is not None]
        for task in held[:2]:
            record_outcome(pipeline_store, task.task_id, task.claimed_by, "accepted",
                           on=run.as_of)
        results = campaign_results(pipeline_store, analytic.connection)
        end = data_as_of(analytic)
    by_action = results["retention"]["by_action"]
    assert sum(c["sent"] for c in by_action.values()) == len(tasks)
    assert sum(c["accepted"] for c in by_action.values()) == 2
    for action, cell in by_action.items():
        loans = [t for t in tasks if t.payload["action"] == action]
        known = [t for t in loans if dt.date.fromisoformat(t.payload["maturity_date"])
                 + dt.timedelta(days=60) <= end]
        assert cell["outcome_known"] == len(known)
        if known:
            assert 0.0 <= cell["retained_observed"] <= 1.0
    assert results["offers"]["all"] is None
