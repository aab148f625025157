"""`xiaowei decide`: one JSON object with the issue's keys; batch; bad input; --no-automation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.engine.strategy import load_pack
from xiaowei.modelling.workbench import fit
from xiaowei.origination.decide import DEFAULT_PACK, demo_training_table
from xiaowei.store.analytic import AnalyticStore

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("decide_cli")
    brought = simulate_and_load(root, "tiny", 15)
    with AnalyticStore(brought.analytic_path) as analytic:
        fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
            root / "model")
        rows = analytic.connection.sql(
            "select a.application_id, a.party_id, p.party_type, a.product_intent, a.channel, "
            "a.amount_yuan, a.applied_on::varchar from gov.application a join (select party_id, "
            "any_value(party_type) party_type from gov.party_profile group by 1) p "
            "using (party_id) order by a.application_id limit 5").fetchall()
    keys = ("application_id", "party_id", "party_type", "product_intent", "channel", "amount",
            "applied_on")
    apps = [dict(zip(keys, r, strict=True)) for r in rows]
    return {"root": root, "analytic": brought.analytic_path, "model": root / "model",
            "apps": apps}


@pytest.fixture
def env(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("XIAOWEI_HOME", str(setup["root"] / "home"))
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(setup["analytic"]))
    return setup


def _run(env: dict[str, Any], doc: Any, *extra: str, name: str = "app.json") -> Any:
    path = env["root"] / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), "utf-8")
    return runner.invoke(app, ["decide", "--application", str(path), "--model-dir",
                               f"app_score={env['model']}", *extra])


def test_decide_json_has_the_issue_keys(env: dict[str, Any]) -> None:
    res = _run(env, env["apps"][0], "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"outcome", "limit", "dd_level", "reasons", "pack_version", "trace", "price", "term",
            "manager_tier", "mode", "scores", "segment"} <= set(doc)
    assert doc["outcome"] in ("approve", "reject", "review")
    assert isinstance(doc["reasons"], list) and isinstance(doc["trace"], list)
    assert len(doc["pack_version"]) == 64


def test_no_automation_flag(env: dict[str, Any]) -> None:
    res = _run(env, env["apps"][0], "--json", "--no-automation")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["mode"] == "human"
    assert "SYS_AUTOMATION_REFUSED" in [r["code"] for r in doc["reasons"]]


def test_batch_json_lines_with_one_bad_row(env: dict[str, Any]) -> None:
    lines = [json.dumps(a) for a in env["apps"][:3]] + [json.dumps({"party_id": "P"})]
    res = _run(env, "\n".join(lines), "--json", name="apps.jsonl")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["count"] == 4
    assert all("outcome" in d for d in doc["decisions"][:3])
    assert "application_id: required but missing" in doc["decisions"][3]["problems"]


def test_bad_application_is_one_error_listing_every_problem(env: dict[str, Any]) -> None:
    res = _run(env, {"party_id": "P1", "amount": "abc"})
    assert res.exit_code == 2
    for field in ("application_id", "party_type", "product_intent", "channel", "amount",
                  "applied_on"):
        assert field in res.output


def test_bad_model_dir_spec(env: dict[str, Any]) -> None:
    path = env["root"] / "one.json"
    path.write_text(json.dumps(env["apps"][0]), "utf-8")
    res = runner.invoke(app, ["decide", "--application", str(path), "--model-dir", "nodir"])
    assert res.exit_code == 2 and "ALIAS=DIR" in res.output


def test_pack_may_be_a_stored_version(env: dict[str, Any]) -> None:
    """`--pack NAME@N` decides with the version kept in the strategy store (and its hash)."""
    folder = env["root"] / "stored-pack"
    folder.mkdir(exist_ok=True)
    text = DEFAULT_PACK.read_text("utf-8").replace("团伙欺诈评分极高", "团伙欺诈评分极高（存）")
    (folder / "pack.yaml").write_text(text, "utf-8")
    submitted = runner.invoke(app, ["strategy", "submit", str(folder), "--by", "zhao.min",
                                    "--json"])
    assert submitted.exit_code == 0, submitted.output
    ref = json.loads(submitted.stdout)["ref"]
    res = _run(env, env["apps"][0], "--json", "--pack", ref)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["pack_version"] == load_pack(folder / "pack.yaml").hash
    missing = _run(env, env["apps"][0], "--json", "--pack", "origination-default@999")
    assert missing.exit_code != 0 and "999" in missing.output
