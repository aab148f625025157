"""Collection as work: a task when a loan enters a step people work (once, not every night),
held by the manager for manager steps, and contacts refused outside 8:00–21:00 local time or
to parties other than the borrower, its legal representative or a guarantor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.postloan.bank_copy import copy_bank

from xiaowei.data.tags.service import data_as_of
from xiaowei.entities.datafiles import DataFileError
from xiaowei.entities.task import TaskStatus
from xiaowei.postloan.collection import (
    ContactRefused,
    collection_queue,
    entered_steps,
    load_collection_rules,
    open_collection_tasks,
    record_contact,
)
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.store.analytic import AnalyticStore

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(("hour", "minute", "allowed"), [
    (7, 59, False), (8, 0, True), (12, 30, True), (21, 0, True), (21, 1, False), (2, 0, False)])
def test_contact_hours_in_local_time(hour: int, minute: int, allowed: bool) -> None:
    rules = load_collection_rules()
    at = dt.datetime(2026, 3, 2, hour, minute, tzinfo=BEIJING)
    if allowed:
        rules.check_contact(at, "borrower", "phone")
        rules.check_contact(at.astimezone(dt.UTC), "guarantor", "visit")  # any zone given
    else:
        with pytest.raises(ContactRefused, match="outside the permitted hours"):
            rules.check_contact(at, "borrower", "phone")


def test_third_parties_unknown_channels_and_naive_times_are_refused() -> None:
    rules = load_collection_rules()
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)
    with pytest.raises(ContactRefused, match="may not be contacted"):
        rules.check_contact(at, "neighbour", "phone")
    with pytest.raises(ContactRefused, match="unknown channel"):
        rules.check_contact(at, "borrower", "wechat_group_post")
    with pytest.raises(ContactRefused, match="time zone"):
        rules.check_contact(dt.datetime(2026, 3, 2, 10, 0), "borrower", "phone")


def test_a_bad_rules_file_names_its_line(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/xiaowei/postloan/collection.yaml").read_text()
    bad = tmp_path / "collection.yaml"
    bad.write_text(text.replace("owner: manager", "owner: intern", 1), "utf-8")
    with pytest.raises(DataFileError, match=r"^collection\.yaml:\d+: steps\.manager_call\.owner"):
        load_collection_rules(bad)


@pytest.fixture
def book(pipeline_bank: dict[str, Any], pipeline_store: Engine, tmp_path: Path):
    analytic = AnalyticStore(copy_bank(pipeline_bank, tmp_path / "bank"), read_only=False)
    day = data_as_of(analytic)
    run_monitoring(analytic, day - dt.timedelta(days=1), full_tags=False)
    run_monitoring(analytic, day, full_tags=False)
    yield pipeline_store, analytic, day
    analytic.close()


def test_tasks_open_when_a_loan_enters_a_step_and_only_once(book) -> None:
    engine, analytic, day = book
    yesterday = day - dt.timedelta(days=1)
    first = open_collection_tasks(engine, analytic.connection, yesterday)
    assert first, "the tiny book has loans in collection"
    rules = load_collection_rules()
    assert all(rules.steps[t.step].owner != "system" for t in first)
    assert open_collection_tasks(engine, analytic.connection, yesterday) == first  # rerun
    entered_today = {loan for loan, _, _ in entered_steps(analytic.connection, day)}
    stayed = {t.loan_id for t in first} - entered_today
    assert stayed  # loans still in yesterday's step open nothing today
    today = open_collection_tasks(engine, analytic.connection, day)
    assert not {t.loan_id for t in today} & stayed
    queue = collection_queue(engine)
    for task in first:
        view = queue.get(task.task_id)
        assert view.payload["step"] == task.step and view.payload["contact_hours"] == \
            "08:00–21:00"
        if task.owner == "manager" and task.manager_id:
            assert view.claimed_by == task.manager_id
            assert view.status == TaskStatus.ACKNOWLEDGED
        else:
            assert view.claimed_by is None  # the special-assets team claims it


def test_a_contact_is_recorded_only_within_the_rules(book) -> None:
    engine, analytic, day = book
    opened = open_collection_tasks(engine, analytic.connection, day - dt.timedelta(days=1))
    task = next(t for t in opened if t.manager_id)
    queue = collection_queue(engine)
    before = len(queue.events(task.task_id))
    with pytest.raises(ContactRefused):
        record_contact(engine, task.task_id, task.manager_id, outcome="未接通",
                       at=dt.datetime(2026, 3, 2, 22, 15, tzinfo=BEIJING), role="borrower",
                       channel="phone")
    assert len(queue.events(task.task_id)) == before  # refused: nothing stored
    view = record_contact(engine, task.task_id, task.manager_id, outcome="承诺月底前还款",
                          at=dt.datetime(2026, 3, 2, 10, 5, tzinfo=BEIJING), role="borrower",
                          channel="phone", promised_on=dt.date(2026, 3, 31))
    assert view.status == TaskStatus.IN_PROGRESS
    event = queue.events(task.task_id)[-1]
    assert event.action == "contact" and event.note == "承诺月底前还款"
    assert event.detail["channel"] == "phone" and event.detail["promised_on"] == "2026-03-31"
