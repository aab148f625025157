"""`xiaowei quality report`: one JSON document, an HTML file, a clear error on an empty store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.store.analytic import AnalyticStore

runner = CliRunner()


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny bank loaded, not governed: the report must work before governance too."""
    root = tmp_path_factory.mktemp("quality-cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIAOWEI_HOME", str(root / "home"))
        return simulate_and_load(root, "tiny", 15, governed=False).analytic_path


def test_json_and_html(loaded_store: Path, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(loaded_store))
    page = tmp_path / "out" / "quality.html"
    res = runner.invoke(app, ["quality", "report", "--json", "--as-of", "2025-12-31",
                              "--html", str(page)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # stdout holds exactly one JSON document
    assert doc["as_of"] == "2025-12-31"
    assert len(doc["sources"]) == 19 and doc["overall"]["light"] in {"green", "amber", "red"}
    assert doc["sources"]["tax_filings"]["linkage"]["unlinked"] is None  # not governed yet
    assert page.exists() and "registry_companies" in page.read_text(encoding="utf-8")
    assert str(page) in res.stderr


def test_terminal_table(loaded_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(loaded_store))
    monkeypatch.setenv("COLUMNS", "160")
    res = runner.invoke(app, ["quality", "report"])
    assert res.exit_code == 0, res.output
    assert "tax_filings" in res.stdout and "总体 overall" in res.stdout


def test_bad_as_of_is_refused(loaded_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(loaded_store))
    res = runner.invoke(app, ["quality", "report", "--as-of", "31/12/2025"])
    assert res.exit_code == 2 and "--as-of" in res.stderr


def test_nothing_loaded_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["quality", "report", "--json"])
    assert res.exit_code == 2
    assert "nothing is loaded" in res.stderr and res.stdout == ""
    with AnalyticStore(tmp_path / "xiaowei-home" / "analytic.duckdb"):
        pass  # a store that exists but holds no source
    res = runner.invoke(app, ["quality", "report"])
    assert res.exit_code == 2 and "xiaowei load" in res.stderr
