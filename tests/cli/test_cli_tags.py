"""`xiaowei govern` and `xiaowei tags …`: the machine-readable outputs other tools rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app

runner = CliRunner()


@pytest.fixture
def governed_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAOWEI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XIAOWEI_DATABASE_URL", raising=False)
    monkeypatch.delenv("XIAOWEI_ANALYTIC_PATH", raising=False)
    ds = tmp_path / "ds"
    for args in (["sim", "--size", "tiny", "--seed", "15", "--out", str(ds), "--json"],
                 ["load", str(ds), "--json"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["govern", str(ds), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["parties"] > 300 and doc["tables"]["tax_filing"] > 1000
    return ds


def test_tags_list_json_names_category_version() -> None:
    res = runner.invoke(app, ["tags", "list", "--json"])
    assert res.exit_code == 0, res.output
    tags = json.loads(res.stdout)
    assert isinstance(tags, list) and len(tags) >= 80
    assert all({"name", "category", "version"} <= set(t) for t in tags)


def test_tags_compute_and_show(governed_home: Path) -> None:
    res = runner.invoke(app, ["tags", "compute", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["as_of"] == "2025-12-31"  # defaults to the latest date of the loaded data
    assert len(doc["fingerprint"]) == 64 and doc["tags"] >= 80 and doc["parties"] > 300
    assert doc["seconds"] >= 0
    again = json.loads(runner.invoke(app, ["tags", "compute", "--json"]).stdout)
    assert again["fingerprint"] == doc["fingerprint"]
    earlier = json.loads(runner.invoke(
        app, ["tags", "compute", "--as-of", "2025-06-30", "--json"]).stdout)
    assert earlier["fingerprint"] != doc["fingerprint"]

    import duckdb

    home = Path(governed_home).parent / "home"
    with duckdb.connect(str(home / "analytic.duckdb"), read_only=True) as con:
        party = con.execute("SELECT party_id FROM gov.party_profile "
                            "WHERE party_type = 'enterprise' LIMIT 1").fetchall()[0][0]
    shown = runner.invoke(app, ["tags", "show", party, "--json"])
    assert shown.exit_code == 0, shown.output
    tags = json.loads(shown.stdout)["tags"]
    assert tags["party_type"] == "enterprise" and tags["years_in_business"] > 0


def test_tags_show_unknown_party_says_so(governed_home: Path) -> None:
    res = runner.invoke(app, ["tags", "show", "P-NOBODY"])
    assert res.exit_code == 2
    assert "'P-NOBODY' is not in the governed data" in res.stderr


def test_tags_compute_rejects_a_bad_date(governed_home: Path) -> None:
    res = runner.invoke(app, ["tags", "compute", "--as-of", "31/12/2025"])
    assert res.exit_code == 2
    assert "--as-of must be a date like 2025-12-31" in res.stderr


def test_tags_changes_between_two_runs(governed_home: Path) -> None:
    """Two as-of runs a month apart: the history reports what changed in between."""
    for day in ("2025-11-30", "2025-12-31"):
        res = runner.invoke(app, ["tags", "compute", "--as-of", day, "--json"])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["tags", "changes", "--since", "2025-12-01", "--until",
                              "2025-12-31", "--tag", "years_in_business", "--json"])
    assert res.exit_code == 0, res.output
    events = json.loads(res.stdout)["changes"]
    assert events and all(e["tag"] == "years_in_business" and e["on"] == "2025-12-31"
                          for e in events)
    changed = [e for e in events if e["kind"] == "changed"]
    assert changed and all(float(e["new"]) > float(e["old"]) for e in changed)
