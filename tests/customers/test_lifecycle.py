"""Life-cycle stages at their edges (the pack's table), and transition events on the tiny
bank: none on the batch's first day, one per change afterwards, the same ones on a rerun."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.customers.pack_support import decide
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.lifecycle import STAGES, stage_history, transitions
from xiaowei.customers.run import run_customers
from xiaowei.data.tags.service import data_as_of
from xiaowei.store.analytic import AnalyticStore

ON_BOOK = {"rel__balance": 100_000.0, "rel__days_to_maturity": 200,
           "rel__days_since_first_loan": 500, "rel__days_since_last_loan_end": None}


@pytest.mark.parametrize(("inputs", "stage"), [
    ({"rel__loans_ever": 0, "rel__days_since_first_loan": None}, "prospect"),
    ({"rel__days_since_last_loan_end": 365}, "churned"),
    ({"rel__days_since_last_loan_end": 364}, "dormant"),
    ({"rel__days_since_last_loan_end": 900, "rel__inflow_6m": 10.0}, "dormant"),  # still banks
    ({**ON_BOOK, "rel__days_to_maturity": 90}, "renewal_due"),
    ({**ON_BOOK, "rel__days_to_maturity": 91}, "mature"),
    ({**ON_BOOK, "rel__days_since_first_loan": 364}, "new"),
    ({**ON_BOOK, "rel__days_since_first_loan": 100, "rel__days_to_maturity": 30},
     "renewal_due"),  # the renewal window outranks being new
    ({**ON_BOOK, "tag__account_inflow_trend_6m": 0.7}, "declining"),
    ({**ON_BOOK, "tag__account_inflow_trend_6m": 0.71}, "mature"),
    ({**ON_BOOK, "tag__account_inflow_trend_6m": 1.2}, "growing"),
    ({**ON_BOOK, "tag__tax_sales_trend_12m": 0.6}, "declining"),  # no settlement trend
    ({**ON_BOOK, "tag__invoice_amount_trend_3m": 1.5}, "growing"),
])
def test_stages_at_their_edges(inputs: dict[str, Any], stage: str) -> None:
    assert decide(**inputs)["lifecycle.stage"] == stage


def test_transitions_count_changes_and_carry_the_stage_since() -> None:
    day, before = dt.date(2025, 12, 31), dt.date(2025, 6, 30)
    since, changed = transitions(["new", "mature", "dormant"], ["new", "new", None], day,
                                 [before, before, None], first_day=False)
    assert since == [before, day, day] and changed == [1, 2]  # a change and a first sighting
    _, first = transitions(["new", "dormant"], [None, None], day, [None, None], first_day=True)
    assert first == []  # the batch's first day says nothing about moves


@pytest.fixture
def store(pipeline_bank: dict[str, Any], tmp_path: Path) -> Path:
    return copy_bank(pipeline_bank, tmp_path / "bank")


def _rows(analytic: AnalyticStore, table: str, day: dt.date) -> list[tuple]:
    return analytic.connection.execute(
        f"SELECT * FROM customers.{table} WHERE as_of = ? ORDER BY party_id", [day]).fetchall()


def test_events_are_the_changes_and_a_rerun_gives_the_same_rows(store: Path) -> None:
    with AnalyticStore(store) as analytic:
        day = data_as_of(analytic)
        first = day.replace(day=1) - dt.timedelta(days=1)  # the previous month-end
        assert run_customers(analytic, first).events == 0
        con = analytic.connection
        # make one customer's stored stage different from what today will find
        party, stage = con.execute(
            "SELECT party_id, lifecycle_stage FROM customers.customer_day WHERE as_of = ? "
            "AND lifecycle_stage = 'prospect' ORDER BY party_id LIMIT 1", [first]).fetchone()
        con.execute("UPDATE customers.customer_day SET lifecycle_stage = 'churned' "
                    "WHERE as_of = ? AND party_id = ?", [first, party])
        run = run_customers(analytic, day)
        events = _rows(analytic, "lifecycle_event", day)
        days = _rows(analytic, "customer_day", day)
        expected = con.execute("""
            SELECT count(*) FROM customers.customer_day t
            LEFT JOIN customers.customer_day y ON y.party_id = t.party_id AND y.as_of = ?
            WHERE t.as_of = ? AND y.lifecycle_stage IS DISTINCT FROM t.lifecycle_stage""",
                               [first, day]).fetchone()[0]
        assert run.events == len(events) == expected > 0
        assert sum(run.transitions.values()) == run.events
        mine = [e for e in events if e[1] == party]
        assert len(mine) == 1 and mine[0][2:4] == ("churned", stage)
        today = con.execute("SELECT previous_stage, stage_since FROM customers.customer_day "
                            "WHERE as_of = ? AND party_id = ?", [day, party]).fetchone()
        assert today == ("churned", day)
        kept = con.execute("SELECT count(*) FROM customers.customer_day WHERE as_of = ? AND "
                           "lifecycle_stage = previous_stage AND stage_since <> ?",
                           [day, first]).fetchone()[0]
        assert kept == 0  # an unchanged stage keeps the day it began (the first run's)
        assert {d[14] for d in days} <= set(STAGES)
        again = run_customers(analytic, day)
        assert _rows(analytic, "lifecycle_event", day) == events
        assert _rows(analytic, "customer_day", day) == days
        assert again.to_json() | {"seconds": None} == run.to_json() | {"seconds": None}
        history = stage_history(con, party, day)
        assert [d["stage"] for d in history["days"]] == [stage, "churned"]
        assert history["events"] == [{"as_of": day, "from": "churned", "to": stage,
                                      "grade": mine[0][4]}]
