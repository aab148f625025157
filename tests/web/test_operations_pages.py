"""Customer-operations pages after the customer batch: customers by grade and stage (a manager
sees only his own, an analyst all), one customer's relationship (404 outside scope), and the
manager's plan for the day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.postloan.bank_copy import copy_bank
from tests.web.workbench import workbench_app

from xiaowei.customers.run import run_customers
from xiaowei.data.tags.service import data_as_of
from xiaowei.security.users import add_user
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser

PASSWORD = "Operations-Desk-2026-long"


def _client(app: Any, name: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    reply = client.post("/api/auth/session", data={"username": name, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


def test_operations_pages_by_scope(pipeline_bank: dict[str, Any], pipeline_store: Engine,
                                   tmp_path: Path) -> None:
    copy = copy_bank(pipeline_bank, tmp_path / "bank")
    with AnalyticStore(copy, read_only=False) as analytic:
        day = data_as_of(analytic)
        run_customers(analytic, day)
        rows = analytic.connection.execute(
            "SELECT party_id, manager_id, branch_id, grade FROM customers.customer_day "
            "WHERE as_of = ? AND manager_id IS NOT NULL ORDER BY value_score DESC, party_id",
            [day]).fetchall()  # best first: each appears within its grade's first page
    app, _ = workbench_app(pipeline_store, {**pipeline_bank, "analytic": copy})
    with transaction(pipeline_store) as session:  # the demo manager already has a user
        taken = set(session.scalars(select(AppUser.manager_id).where(
            AppUser.manager_id.is_not(None))).all())
    mine = next(r for r in rows if r[1] not in taken)
    other = next(r for r in rows if r[1] != mine[1])
    add_user(pipeline_store, "li.cm", "customer_manager", PASSWORD, branch=mine[2],
             manager=mine[1])
    add_user(pipeline_store, "chen.ra", "risk_analyst", PASSWORD)
    with TestClient(app, base_url="https://testserver"):  # runs the app's start-up
        manager, analyst = _client(app, "li.cm"), _client(app, "chen.ra")
        listing = manager.get("/web/operations")
        assert listing.status_code == 200 and "维护等级" in listing.text
        assert f"/web/operations/customers/{mine[0]}" in listing.text
        assert f"/web/operations/customers/{other[0]}" not in listing.text  # not his
        everyone = analyst.get(f"/web/operations?grade={other[3]}")
        assert f"/web/operations/customers/{other[0]}" in everyone.text
        own = manager.get(f"/web/operations/customers/{mine[0]}")
        assert own.status_code == 200 and mine[3] in own.text
        assert manager.get(f"/web/operations/customers/{other[0]}").status_code == 404
        plan = manager.get("/web/operations/plan")
        assert plan.status_code == 200 and "未来90天续贷" in plan.text and "今日工作" in plan.text
        english = analyst.get("/web/lang/en?next=/web/operations")
        assert english.status_code == 200 and "Customer operations" in english.text
