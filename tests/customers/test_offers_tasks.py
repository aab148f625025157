"""Offers become tasks held by the customer's manager — idempotently, and only offers the
customer is eligible for on fresh tags — outcomes are recorded on them, and the campaign is
measured: conversion by product and by maintenance grade (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, func, select
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.offers import OfferBook, OfferRefused, StaleTags, evaluate_offers
from xiaowei.customers.operation_tasks import (
    OFFER_KIND,
    QUEUE,
    accepted_products,
    best_offers,
    campaign_results,
    open_offer_tasks,
    operations_queue,
    record_outcome,
)
from xiaowei.data.tags.service import data_as_of
from xiaowei.entities.task import TaskStatus
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.tables import Task

HELD_CODE = {"payroll_service": "PY01", "wealth_management": "WM01",
             "supply_chain_finance": "SF03", "cash_management": "CM01"}


@pytest.fixture(scope="module")
def offered(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, OfferBook]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("offer-tasks-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        return path, evaluate_offers(analytic, data_as_of(analytic))


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(Task).where(Task.queue == QUEUE)) or 0


def test_best_offers_open_once_on_the_managers_lists(offered, pipeline_store: Engine) -> None:
    path, book = offered
    with AnalyticStore(path, read_only=True) as analytic:
        opened = open_offer_tasks(pipeline_store, analytic.connection, book)
        again = open_offer_tasks(pipeline_store, analytic.connection, book)
    picks = best_offers(book)
    assert opened.tasks and len(opened.tasks) + len(opened.skipped) == len(picks)
    assert [t.task_id for t in again.tasks] == [t.task_id for t in opened.tasks]
    assert _count(pipeline_store) == len(opened.tasks)
    best = dict(picks)
    for task in opened.tasks:
        assert task.kind == OFFER_KIND and len(task.task_id) <= 32
        assert task.payload["product"] == best[task.payload["customer"]]
        assert task.payload["reasons"] and task.payload["offered_on"] == book.as_of.isoformat()
        if task.claimed_by is not None:
            assert task.status == TaskStatus.ACKNOWLEDGED
            assert task.links["assignee_id"] == task.claimed_by


def test_an_ineligible_offer_refuses_the_batch_and_stores_nothing(offered,
                                                                  pipeline_store: Engine
                                                                  ) -> None:
    path, book = offered
    bad = next(r for r in book.refusals.to_pylist() if not r["gate"])
    with AnalyticStore(path, read_only=True) as analytic:
        with pytest.raises(OfferRefused, match="nothing was stored") as refused:
            open_offer_tasks(pipeline_store, analytic.connection, book,
                             [*best_offers(book, 3), (bad["party_id"], bad["product"])])
        assert {r["code"] for r in refused.value.reasons} == set(bad["reasons"])
        with pytest.raises(OfferRefused):
            open_offer_tasks(pipeline_store, analytic.connection, book,
                             [("P-NO-SUCH", "payroll_service")])
        with pytest.raises(StaleTags):
            open_offer_tasks(pipeline_store, analytic.connection, book,
                             sent_on=book.as_of + dt.timedelta(days=40))
        with pytest.raises(StaleTags):
            open_offer_tasks(pipeline_store, analytic.connection, book,
                             sent_on=book.as_of - dt.timedelta(days=1))
    assert _count(pipeline_store) == 0


def test_outcomes_are_recorded_and_conversion_measured(offered, pipeline_store: Engine,
                                                       tmp_path: Path) -> None:
    path, book = offered
    with AnalyticStore(path, read_only=True) as analytic:
        opened = open_offer_tasks(pipeline_store, analytic.connection, book).tasks
    held = [t for t in opened if t.claimed_by is not None][:3]
    assert len(held) == 3
    for task, outcome in zip(held, ("accepted", "declined", "no_answer"), strict=True):
        done = record_outcome(pipeline_store, task.task_id, task.claimed_by, outcome,
                              note="电话沟通", on=book.as_of)
        assert done.status == TaskStatus.DONE and done.result["outcome"] == outcome
    with pytest.raises(ValueError, match="outcome must be one of"):
        record_outcome(pipeline_store, opened[-1].task_id, "x", "maybe")
    assert operations_queue(pipeline_store).get(opened[-1].task_id).is_open
    results = campaign_results(pipeline_store)
    everything = results["offers"]["all"]
    assert everything["sent"] == len(opened) and everything["accepted"] == 1
    assert everything["declined"] == everything["no_answer"] == 1
    assert everything["open"] == len(opened) - 3
    assert everything["conversion"] == round(1 / len(opened), 4)
    by_product = results["offers"]["by_product"]
    assert sum(c["sent"] for c in by_product.values()) == len(opened)
    accepted_product = held[0].payload["product"]
    assert by_product[accepted_product]["accepted"] == 1
    assert results["offers"]["by_grade"] is None and "no grades" in results["offers"]["grades"]
    # an accepted product is held from then on: not offered again
    customer = held[0].payload["customer"]
    assert accepted_products(pipeline_store, before=book.as_of) == {customer:
                                                                    {accepted_product}}
    assert accepted_products(pipeline_store, before=book.as_of - dt.timedelta(days=1)) == {}
    with AnalyticStore(path, read_only=True) as analytic:
        again = evaluate_offers(analytic, book.as_of, parties=[customer],
                                accepted=accepted_products(pipeline_store))
    if accepted_product == "invoice_credit":  # held credit: a limit increase instead
        assert "IW03" in {r["code"] for r in again.check(customer, accepted_product)["reasons"]}
    else:
        refusal = [r for r in again.refusals.to_pylist() if r["product"] == accepted_product]
        assert refusal[0]["reasons"][0] == HELD_CODE[accepted_product]
    # conversion by maintenance grade once the grades table exists
    copy = tmp_path / "grades.duckdb"
    copy.write_bytes(path.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("CREATE SCHEMA customers")
    con.execute("CREATE TABLE customers.customer_day (as_of DATE, party_id VARCHAR, "
                "grade VARCHAR)")
    con.executemany("INSERT INTO customers.customer_day VALUES (?, ?, ?)",
                    [(book.as_of, t.payload["customer"], "A" if i % 2 else "B")
                     for i, t in enumerate(opened)])
    graded = campaign_results(pipeline_store, con)["offers"]["by_grade"]
    con.close()
    assert set(graded) == {"A", "B"}
    assert sum(c["sent"] for c in graded.values()) == len(opened)
    assert sum(c["accepted"] for c in graded.values()) == 1
