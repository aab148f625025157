"""`xiaowei customers run | show | balance` on the tiny bank: the JSON shapes other tools rely
on, the Rich pages, and bad input (unknown customers, stale days) refused with exit 2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli.customers_cmd import app
from xiaowei.customers.run import run_customers
from xiaowei.data.tags.service import data_as_of
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def ran(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
        ) -> dict[str, Any]:
    """A copy of the tiny bank on which the batch ran once (the read-only commands' store)."""
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("customers-cli"))
    with AnalyticStore(path) as analytic:
        day = data_as_of(analytic)
        run_customers(analytic, day)
        con = analytic.connection
        registry_only = con.execute(
            "SELECT party_id FROM gov.party_profile WHERE party_id NOT IN (SELECT party_id "
            "FROM customers.customer_day) ORDER BY party_id LIMIT 1").fetchone()[0]
        related = con.execute(
            "SELECT party_id FROM customers.customer_day WHERE related_parties > 0 AND "
            "balance_yuan > 0 ORDER BY party_id LIMIT 1").fetchone()[0]
        keys = dict(con.execute("SELECT value, party_id FROM gov.party_key WHERE kind = 'uscc'"
                                ).fetchall())
    engine = create_engine(pipeline_bank["url"])
    with engine.connect() as connection:
        bank = connection.execute(text("SELECT party_id, uscc FROM party WHERE uscc IS NOT NULL "
                                       "ORDER BY party_id")).fetchall()
    engine.dispose()
    bank_id, uscc = next((p, u) for p, u in bank if u in keys)
    return {"path": path, "day": day, "registry_only": registry_only, "related": related,
            "bank_id": bank_id, "bank_governed": keys[uscc]}


@pytest.fixture
def env(ran: dict[str, Any], pipeline_bank: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(ran["path"]))
    monkeypatch.setenv("XIAOWEI_HOME", str(pipeline_bank["home"]))  # the stored PII's key
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", pipeline_bank["url"])
    monkeypatch.setenv("COLUMNS", "160")
    return ran


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_run_prints_the_day_as_json_and_as_charts(pipeline_bank: dict[str, Any],
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(copy_bank(pipeline_bank, tmp_path / "b")))
    res = invoke("run", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"as_of", "data_as_of", "customers", "grades", "stages", "risk_levels",
                        "events", "transitions", "visits_due", "pack_version", "seconds"}
    assert sum(doc["grades"].values()) == sum(doc["stages"].values()) == doc["customers"] > 0
    assert list(doc["grades"]) == ["A", "B", "C", "D"]
    page = invoke("run", "--as-of", doc["as_of"])
    assert page.exit_code == 0, page.output
    assert "维护等级 grades" in page.stdout and "生命周期 stages" in page.stdout
    assert "█" in page.stdout  # the bar charts
    later = (dt.date.fromisoformat(doc["as_of"]) + dt.timedelta(days=30)).isoformat()
    stale = invoke("run", "--as-of", later)
    assert stale.exit_code == 2 and "stale" in stale.output
    assert invoke("run", "--as-of", "31/12/2025").exit_code == 2


def test_show_a_governed_customer(env: dict[str, Any]) -> None:
    res = invoke("show", env["related"], "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"party_id", "profile", "summary", "loans", "accounts", "applications",
                        "related", "grade", "stages"}
    assert doc["party_id"] == env["related"] and doc["summary"]["balance"] > 0
    assert doc["related"] and {"party_id", "relation", "balance"} <= set(doc["related"][0])
    grade = doc["grade"]
    assert grade["available"] and grade["grade"] in "ABCD"
    assert grade["reasons"][0]["code"] == f"CG_{grade['grade']}" and grade["reasons"][0]["zh"]
    assert set(grade["strategy"]) >= {"visit_every_days", "manager_tier", "service_package",
                                      "pricing_latitude_bp"}
    assert doc["stages"]["days"][0]["stage"] == grade["stage"]
    page = invoke("show", env["related"])
    assert page.exit_code == 0 and "一户一视图" in page.stdout and "关联方" in page.stdout


def test_show_maps_a_bank_party_id_to_its_governed_party(env: dict[str, Any]) -> None:
    res = invoke("show", env["bank_id"], "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["asked_for"] == env["bank_id"] and doc["party_id"] == env["bank_governed"]


@pytest.mark.parametrize(("who", "message"), [
    ("P_NO_SUCH_PARTY", "unknown customer"), ("registry_only", "not a customer")])
def test_show_refuses_unknown_customers(env: dict[str, Any], who: str, message: str) -> None:
    res = invoke("show", env.get(who, who))
    assert res.exit_code == 2 and message in res.output


def test_show_says_when_the_grade_is_stale(env: dict[str, Any]) -> None:
    later = (env["day"] + dt.timedelta(days=10)).isoformat()
    doc = json.loads(invoke("show", env["related"], "--as-of", later, "--json").stdout)
    assert doc["grade"]["available"] is False and "stale" in doc["grade"]["reason"]


def test_balance_reports_hours_per_manager_and_suggestions(env: dict[str, Any]) -> None:
    res = invoke("balance", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["managers"] == 4 and doc["batch_day"] == env["day"].isoformat()
    assert {"customers_per_manager", "hours_per_manager", "managers_needed", "unresolved",
            "unassigned", "by_manager", "suggestions"} <= set(doc)
    assert sum(m["customers"] for m in doc["by_manager"]) == doc["customers_assigned"]
    assert all(m["utilisation_after"] <= 1 or m["customers_after"] <= m["customers"]
               for m in doc["by_manager"])
    same = json.loads(invoke("balance", "--managers", "analytic", "--json").stdout)
    assert same["by_manager"] == doc["by_manager"]  # the same managers either way
    page = invoke("balance")
    assert page.exit_code == 0 and "管户均衡" in page.stdout
    assert invoke("balance", "--managers", "ldap").exit_code == 2
    later = (env["day"] + dt.timedelta(days=30)).isoformat()
    stale = invoke("balance", "--as-of", later)
    assert stale.exit_code == 2 and "stale" in stale.output
