"""`xiaowei apply` stores decisions with their manager; `xiaowei nodes` reads them back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.store.tables import ApplicationIntake, QuarantinedRow

runner = CliRunner()


@pytest.fixture
def env(pipeline_store: Engine, pipeline_bank: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL",
                       pipeline_store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(pipeline_bank["analytic"]))
    monkeypatch.setenv("XIAOWEI_USER", "wang.li")
    apps = [{**a, "application_id": f"C-{a['application_id']}"}
            for a in pipeline_bank["apps"][:4]]
    return {**pipeline_bank, "engine": pipeline_store, "new": apps}


def _apply(env: dict[str, Any], doc: Any, *extra: str, name: str = "app.json") -> Any:
    path = env["root"] / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), "utf-8")
    return runner.invoke(app, ["apply", str(path), "--model-dir",
                               f"app_score={env['model']}", *extra])


def test_apply_one_prints_the_stored_decision_and_manager(env: dict[str, Any]) -> None:
    res = _apply(env, env["new"][0], "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["created"] and doc["decision"]["outcome"] in ("approve", "reject", "review")
    assert doc["manager"]["explanation"]["en"] and doc["manager"]["explanation"]["zh"]
    again = json.loads(_apply(env, env["new"][0], "--json").stdout)
    assert not again["created"] and again["decision"] == doc["decision"]
    shown = _apply(env, env["new"][0])
    assert shown.exit_code == 0 and "already stored" in shown.stdout


def test_no_automated_is_recorded(env: dict[str, Any]) -> None:
    res = _apply(env, env["new"][1], "--json", "--no-automated", "--user", "li.na")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["decision"]["mode"] == "human" and doc["automated_ok"] is False
    with env["engine"].connect() as c:
        by = c.execute(select(ApplicationIntake.received_by).where(
            ApplicationIntake.application_id == env["new"][1]["application_id"])).scalar_one()
    assert by == "li.na"


def test_batch_reports_bad_rows_by_position(env: dict[str, Any]) -> None:
    lines = [json.dumps(a) for a in env["new"][:2]] + [json.dumps({"party_id": "P"})]
    res = _apply(env, "\n".join(lines), "--json", "--batch", name="apps.jsonl")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert (doc["accepted"], doc["refused"]) == (2, 1)
    assert doc["errors"][0]["row"] == 3
    with env["engine"].connect() as c:
        assert c.execute(select(func.count()).select_from(QuarantinedRow).where(
            QuarantinedRow.batch_id == doc["batch_id"])).scalar_one() == 1


def test_unknown_party_and_reused_key_are_clear_errors(env: dict[str, Any]) -> None:
    res = _apply(env, {**env["new"][2], "party_id": "P-NOBODY"})
    assert res.exit_code == 2 and "P-NOBODY" in res.output
    assert _apply(env, env["new"][2]).exit_code == 0
    res = _apply(env, {**env["new"][2], "amount": 1})
    assert res.exit_code == 2 and "different payload" in res.output


def test_nodes_reports_the_logged_decisions(env: dict[str, Any]) -> None:
    assert _apply(env, env["new"][:3], "--json", name="list.json").exit_code == 0
    res = runner.invoke(app, ["nodes", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    whole = [n for n in doc["nodes"] if n["rule"] is None]
    assert whole and max(n["ran"] for n in whole) == 3
    assert all(0 <= n["hit_rate"] <= 1 for n in whole)
    table = runner.invoke(app, ["nodes"])
    assert table.exit_code == 0 and "node performance" in table.stdout
    assert runner.invoke(app, ["nodes", "--as-of", "soon"]).exit_code == 2
