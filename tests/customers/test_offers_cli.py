"""The command functions of `xiaowei customers offers|renewals|train`: JSON for machines, tables
for people, bad input refused with a clear error and exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli import customers_offers
from xiaowei.customers.operation_tasks import QUEUE
from xiaowei.store.database import make_engine
from xiaowei.store.tables import Task


@pytest.fixture
def cli(pipeline_bank: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> tuple[typer.Typer, str]:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(copy_bank(pipeline_bank, tmp_path / "a")))
    store = tmp_path / "bank.db"
    shutil.copy(str(pipeline_bank["url"]).removeprefix("sqlite:///"), store)
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", f"sqlite:///{store}")
    monkeypatch.setenv("COLUMNS", "200")
    app = typer.Typer()
    app.command("offers")(customers_offers.offers)
    app.command("renewals")(customers_offers.renewals)
    app.command("train")(customers_offers.train)
    return app, f"sqlite:///{store}"


def _tasks(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as c:
        n = c.scalar(select(func.count()).select_from(Task).where(Task.queue == QUEUE)) or 0
    engine.dispose()
    return n


def test_offers_for_the_book_and_one_customer(cli) -> None:
    app, url = cli
    runner = CliRunner()
    res = runner.invoke(app, ["offers", "--json", "--open-tasks", "--top", "5"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["customers"] > 0 and len(doc["best"]) == 5
    assert doc["propensity"] is None and doc["tasks"]["opened"] == _tasks(url) > 0
    party = doc["best"][0]["party_id"]
    one = runner.invoke(app, ["offers", party, "--json"])
    assert one.exit_code == 0, one.output
    view = json.loads(one.stdout)
    assert view["offers"][0]["product"] == doc["best"][0]["product"]
    table = runner.invoke(app, ["offers", party])
    assert table.exit_code == 0 and "推荐产品" in table.stdout and "fx_settlement" in table.stdout
    book = runner.invoke(app, ["offers"])
    assert book.exit_code == 0 and "最佳推荐" in book.stdout


def test_stale_and_bad_days_are_refused(cli) -> None:
    app, _ = cli
    res = CliRunner().invoke(app, ["offers", "--as-of", "2026-06-30"])
    assert res.exit_code == 2 and "STALE_TAGS" in res.output
    res = CliRunner().invoke(app, ["renewals", "--as-of", "yesterday"])
    assert res.exit_code == 2 and "--as-of" in res.output


def test_renewals_with_tasks(cli) -> None:
    app, url = cli
    res = CliRunner().invoke(app, ["renewals", "--json", "--open-tasks"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["maturing_loans"] == len(doc["loans"]) > 0
    assert doc["prescreen_mode"] == "admission_only"
    acting = sum(1 for r in doc["loans"] if r["action"] != "none")
    assert doc["tasks"]["opened"] + len(doc["tasks"]["skipped_not_in_store"]) == acting
    assert _tasks(url) == doc["tasks"]["opened"]
    shown = CliRunner().invoke(app, ["renewals"])
    assert shown.exit_code == 0 and "无还本续贷" in shown.stdout


def test_train_reports_a_refusal_with_counts(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from xiaowei.customers import propensity, retention

    def thin(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise ValueError("too few outcomes to fit a model: training has 3 loans with the event")

    monkeypatch.setattr(propensity, "fit_out_of_time", thin)
    monkeypatch.setattr(retention, "fit_out_of_time", thin)
    app, _ = cli
    res = CliRunner().invoke(app, ["train", "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert set(doc) == {"offer_propensity", "churn_at_maturity"}
    assert all("3 loans" in v["error"] for v in doc.values())
