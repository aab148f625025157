"""`xiaowei backtest`: the --json contract, stored versions, and clear errors for bad packs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.modelling.workbench import fit
from xiaowei.origination.decide import DEFAULT_PACK, demo_training_table
from xiaowei.store.analytic import AnalyticStore

runner = CliRunner()
# Two months of applications keep the point-in-time tag computation short.
WINDOW = ("--since", "2024-03-01", "--until", "2024-04-30")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("backtest_cli")
    brought = simulate_and_load(root, "tiny", 15)
    with AnalyticStore(brought.analytic_path) as analytic:
        fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
            root / "model")
    return {"root": root, "analytic": brought.analytic_path, "model": root / "model"}


@pytest.fixture
def env(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("XIAOWEI_HOME", str(setup["root"] / "home"))
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(setup["analytic"]))
    monkeypatch.delenv("XIAOWEI_DATABASE_URL", raising=False)
    return setup


def _backtest(env: dict[str, Any], *args: str) -> Any:
    return runner.invoke(app, ["backtest", *args, "--model-dir", f"app_score={env['model']}",
                               *WINDOW])


def test_json_is_one_object_with_the_contract_keys(env: dict[str, Any]) -> None:
    out = env["root"] / "report"
    res = _backtest(env, "--pack", str(DEFAULT_PACK), "--against", str(DEFAULT_PACK),
                    "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"summary", "by_segment", "swap", "reasons_changed", "node_performance",
            "files"} <= set(doc)
    assert doc["files"] == {"html": str(out / "backtest.html"),
                            "cases": str(out / "cases.parquet")}
    assert Path(doc["files"]["html"]).read_text("utf-8").count("<svg") >= 3
    assert Path(doc["files"]["cases"]).stat().st_size > 0
    assert doc["summary"]["champion"]["applications"] > 0
    assert doc["summary"]["changed_outcomes"] == 0
    assert doc["window"]["since"] == "2024-03-01"


def test_a_stored_version_is_compared_with_a_file(env: dict[str, Any]) -> None:
    sub = runner.invoke(app, ["strategy", "submit", str(DEFAULT_PACK), "--by", "wang.li",
                              "--json"])
    assert sub.exit_code == 0, sub.output
    ref = json.loads(sub.stdout)["ref"]
    res = _backtest(env, "--pack", str(DEFAULT_PACK), "--against", ref, "--out",
                    str(env["root"] / "stored"), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["versions"]["champion"]["label"] == ref
    assert doc["versions"]["champion"]["pack_version"] == \
        doc["versions"]["challenger"]["pack_version"]
    assert doc["summary"]["changed_outcomes"] == 0


def test_a_missing_pack_file_is_named(env: dict[str, Any]) -> None:
    res = _backtest(env, "--pack", str(env["root"] / "nope.yaml"), "--against",
                    str(DEFAULT_PACK), "--json")
    assert res.exit_code != 0
    assert "nope.yaml" in res.output and res.stdout.strip() == ""


def test_a_broken_pack_is_named_with_its_line(env: dict[str, Any]) -> None:
    bad = env["root"] / "broken.yaml"
    bad.write_text(DEFAULT_PACK.read_text("utf-8").replace(
        "action: reject, reason: AF01", "action: rejekt, reason: AF01"), "utf-8")
    res = _backtest(env, "--pack", str(DEFAULT_PACK), "--against", str(bad))
    assert res.exit_code != 0
    assert "broken.yaml:" in res.output and "rejekt" in res.output


def test_an_unknown_stored_version_is_a_clear_error(env: dict[str, Any]) -> None:
    res = _backtest(env, "--pack", "no-such-pack@3", "--against", str(DEFAULT_PACK))
    assert res.exit_code != 0
    assert "no-such-pack" in res.output
