"""The daily customer batch on the tiny bank: one row per customer that adds up, the post-loan
verdict as the risk side when it is fresh, and stale tags or stale days refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.customer_tables import (
    StaleCustomerDay,
    UnknownCustomer,
    customer_day,
    customer_days,
    latest_day,
)
from xiaowei.customers.grades import GRADES
from xiaowei.customers.relationship import relationship_book
from xiaowei.customers.run import StaleTags, check_freshness, run_customers
from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture
def store(pipeline_bank: dict[str, Any], tmp_path: Path) -> Path:
    return copy_bank(pipeline_bank, tmp_path / "bank")


def test_one_row_per_customer_that_adds_up(store: Path) -> None:
    with AnalyticStore(store) as analytic:
        day = data_as_of(analytic)
        run = run_customers(analytic, day)
        con = analytic.connection
        customers = relationship_book(con, day).num_rows
        rows = customer_days(con, day).to_pylist()
    assert run.customers == len(rows) == customers > 100
    assert sum(run.grades.values()) == sum(run.stages.values()) == run.customers
    assert set(run.grades) == set(GRADES) and run.grades["A"] > 0 and run.grades["C"] > 0
    assert run.risk_sources == {"postloan": 0, "tags": run.customers}  # never monitored
    for row in rows:
        assert row["as_of"] == day
        every, last = row["visit_every_days"], row["last_visit_on"]
        due = every > 0 and (last is None or (day - last).days >= every)
        assert row["visit_due"] is due, row
        assert row["group_exposure_yuan"] >= row["balance_yuan"] >= 0
        assert row["reasons"][0] == f"CG_{row['grade']}"
        if row["dpd"] > 90:
            assert row["grade"] == "D"
    assert run.visits_due == sum(r["visit_due"] for r in rows)
    assert run.balance_yuan == pytest.approx(sum(r["balance_yuan"] for r in rows))


def test_a_fresh_post_loan_verdict_is_the_risk_side(store: Path) -> None:
    with AnalyticStore(store) as analytic:
        day = data_as_of(analytic)
        old = day - dt.timedelta(days=40)
        run_monitoring(analytic, old, full_tags=False)
        stale = run_customers(analytic, day)
        assert stale.risk_sources["postloan"] == 0  # a verdict 40 days old is not used
        run_monitoring(analytic, day, full_tags=False)
        run = run_customers(analytic, day)
        con = analytic.connection
        monitored = con.execute(
            "SELECT count(DISTINCT party_id) FROM postloan.loan_day WHERE as_of = ?",
            [day]).fetchone()[0]
        assert run.risk_sources["postloan"] == monitored > 0
        worst = con.execute("""
            SELECT c.grade, c.risk_level, c.postloan_as_of FROM customers.customer_day c
            JOIN postloan.loan_day l ON l.party_id = c.party_id AND l.as_of = c.as_of
            WHERE c.as_of = ? AND l.stratum = 'critical'""", [day]).fetchall()
        assert worst and all(r == ("D", "critical", day) for r in worst)


def test_stale_tags_are_refused_with_reasons(store: Path) -> None:
    with AnalyticStore(store) as analytic:
        day = data_as_of(analytic)
        assert check_freshness(analytic, day + dt.timedelta(days=7)) == day
        assert check_freshness(analytic, day - dt.timedelta(days=400)) == day
        with pytest.raises(StaleTags) as refused:
            run_customers(analytic, day + dt.timedelta(days=8))
        assert "8 days before" in refused.value.reasons[0]
        with pytest.raises(StaleTags):
            check_freshness(analytic, day + dt.timedelta(days=3), max_tag_age_days=2)
        exists = analytic.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'customers'").fetchone()
        assert exists == (0,)  # nothing was written


def test_stale_or_unknown_customers_are_refused_when_read(store: Path) -> None:
    with AnalyticStore(store) as analytic:
        con = analytic.connection
        day = data_as_of(analytic)
        with pytest.raises(StaleCustomerDay, match="never run"):
            customer_days(con, day)
        run_customers(analytic, day)
        later = day + dt.timedelta(days=8)
        with pytest.raises(StaleCustomerDay, match="8 days earlier"):
            customer_days(con, later)
        assert latest_day(con, later, max_age_days=8) == day
        with pytest.raises(StaleCustomerDay, match="no customer batch"):
            latest_day(con, day - dt.timedelta(days=1))
        party = customer_days(con, day)["party_id"][0].as_py()
        assert customer_day(con, party, day)["party_id"] == party
        with pytest.raises(UnknownCustomer, match="not a customer"):
            customer_day(con, "P_NOBODY", day)
        with pytest.raises(ValueError, match="unknown customer_day columns"):
            customer_days(con, day, columns=("party_id", "secret"))
