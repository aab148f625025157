"""`xiaowei model register|approve|retire|list|show`: documented JSON keys, clear refusals,
the user fallback, on SQLite and PostgreSQL; and `xiaowei db` applying and undoing 0002."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaowei.cli.model_registry_cmd import registry_app
from xiaowei.store.migrate import head_revision

runner = CliRunner()

RECORD_KEYS = {
    "name", "version", "ref", "kind", "status", "status_zh", "content_hash", "files",
    "data_fingerprint", "target", "features", "params", "metrics", "created_at", "source_dir",
    "registered_by", "registered_at", "approved_by", "approved_at", "retired_by", "retired_at",
    "path",
}
MANIFEST = {
    "kind": "scorecard", "features": ["revenue_growth_12m", "tax_grade"],
    "params": {"bins": 5}, "metrics": {"auc": 0.78}, "data_fingerprint": "c0" * 32,
    "target": "bad_90d", "created_at": "2025-06-30T09:00:00+08:00",
}


def _model(tmp_path: Path, folder: str, body: bytes = b"w1", **changes: Any) -> Path:
    path = tmp_path / folder
    path.mkdir()
    doc = {k: v for k, v in {**MANIFEST, **changes}.items() if v is not None}
    (path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    (path / "body.bin").write_bytes(body)
    return path


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(registry_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # stdout holds exactly one JSON document


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's configured database is the test's SQLite file or PostgreSQL schema."""
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", db_url)
    monkeypatch.delenv("XIAOWEI_USER", raising=False)
    return db_url


def test_register_approve_list_show_retire(store: str, tmp_path: Path) -> None:
    source = _model(tmp_path, "fit")
    doc = _json("register", str(source), "--name", "admission_sc", "--by", "wang.li")
    assert set(doc) == RECORD_KEYS | {"created"}
    assert (doc["ref"], doc["status"], doc["created"]) == ("admission_sc@1", "draft", True)
    assert doc["features"] == MANIFEST["features"] and doc["registered_by"] == "wang.li"
    assert (Path(doc["path"]) / "body.bin").read_bytes() == b"w1"

    again = _json("register", str(source), "--name", "admission_sc", "--by", "li.na")
    assert (again["ref"], again["created"]) == ("admission_sc@1", False)

    own = runner.invoke(registry_app, ["approve", "admission_sc@1", "--by", "wang.li"])
    assert own.exit_code == 2
    assert "second person" in own.stderr and own.stdout == ""

    approved = _json("approve", "admission_sc@1", "--by", "li.na", "--note", "OK by MRM")
    assert set(approved) == RECORD_KEYS
    assert (approved["status"], approved["approved_by"]) == ("approved", "li.na")

    _json("register", str(_model(tmp_path, "fit2", body=b"w2")), "--name", "admission_sc",
          "--by", "wang.li")
    listed = _json("list")
    assert set(listed) == {"models"}
    assert [(m["ref"], m["status"]) for m in listed["models"]] == [
        ("admission_sc@1", "approved"), ("admission_sc@2", "draft")]
    assert all(set(m) == RECORD_KEYS for m in listed["models"])
    assert _json("list", "--name", "other") == {"models": []}

    shown = _json("show", "admission_sc@approved")
    assert set(shown) == RECORD_KEYS | {"events", "artifact"}
    assert shown["ref"] == "admission_sc@1"
    assert shown["artifact"] == {"verified": True, "problem": None}
    assert [(e["from"], e["to"], e["by"], e["note"]) for e in shown["events"]] == [
        (None, "draft", "wang.li", None), ("draft", "approved", "li.na", "OK by MRM")]
    assert all(set(e) == {"from", "to", "by", "at", "note"} for e in shown["events"])

    retired = _json("retire", "admission_sc@1", "--by", "zhao.min")
    assert (retired["status"], retired["retired_by"]) == ("retired", "zhao.min")
    refused = runner.invoke(registry_app, ["approve", "admission_sc@1", "--by", "li.na"])
    assert refused.exit_code == 2 and "it is retired" in refused.stderr


def test_human_output_lists_statuses(store: str, tmp_path: Path) -> None:
    runner.invoke(registry_app, ["register", str(_model(tmp_path, "a")), "--name", "churn",
                                 "--by", "wang.li"])
    result = runner.invoke(registry_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "churn@1" in result.stdout and "draft" in result.stdout
    shown = runner.invoke(registry_app, ["show", "churn@1"])
    assert shown.exit_code == 0 and "artifact verified" in shown.stdout


def test_missing_features_refused_naming_key(store: str, tmp_path: Path) -> None:
    source = _model(tmp_path, "bad", features=None)
    result = runner.invoke(registry_app, ["register", str(source), "--name", "churn",
                                          "--by", "wang.li"])
    assert result.exit_code == 2
    assert "missing key 'features'" in result.stderr and "model.json" in result.stderr
    assert _json("list") == {"models": []}


def test_show_reports_a_tampered_artifact(store: str, tmp_path: Path) -> None:
    doc = _json("register", str(_model(tmp_path, "a")), "--name", "churn", "--by", "wang.li")
    (Path(doc["path"]) / "body.bin").write_bytes(b"edited")
    shown = _json("show", "churn@1")
    assert shown["artifact"]["verified"] is False
    assert "body.bin modified" in shown["artifact"]["problem"]


def test_user_falls_back_to_environment_then_os_user(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "os.account")
    first = _json("register", str(_model(tmp_path, "a")), "--name", "churn")
    assert first["registered_by"] == "os.account"
    monkeypatch.setenv("XIAOWEI_USER", "env.user")
    second = _json("register", str(_model(tmp_path, "b", body=b"w2")), "--name", "churn")
    assert second["registered_by"] == "env.user"
    # The env user registered version 2, so the env user may not approve it; --by wins.
    assert runner.invoke(registry_app, ["approve", "churn@2"]).exit_code == 2
    assert _json("approve", "churn@2", "--by", "li.na")["approved_by"] == "li.na"
    assert _json("approve", "churn@1")["approved_by"] == "env.user"


@pytest.mark.parametrize(("args", "message"), [
    (["approve", "churn"], "needs an explicit version like 'churn@3'"),
    (["approve", "churn@x"], "must be a positive integer or 'approved'"),
    (["show", "churn@4"], "no model named 'churn'"),
    (["list", "--name", "Bad Name"], "not allowed"),
])
def test_bad_references_are_clear_errors(store: str, args: list[str], message: str) -> None:
    result = runner.invoke(registry_app, [*args, "--by", "li.na"] if args[0] == "approve"
                           else args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_db_upgrade_applies_0002_and_downgrade_returns_to_0001(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real command line on a fresh XIAOWEI_HOME, then the same commands in-process."""
    from xiaowei.cli.main import app

    home = tmp_path / "fresh"
    env = {**os.environ, "XIAOWEI_HOME": str(home)}
    env.pop("XIAOWEI_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "xiaowei", "db", "upgrade", "--json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revision"] == head_revision()  # 0002 and later

    monkeypatch.setenv("XIAOWEI_HOME", str(home))

    def db(*args: str) -> dict[str, Any]:
        result = runner.invoke(app, ["db", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert db("downgrade", "--revision", "0001")["revision"] == "0001"
    current = db("current")
    assert (current["revision"], current["head"]) == ("0001", head_revision())
    assert db("upgrade")["revision"] == head_revision()


def test_mounted_as_xiaowei_model(store: str, tmp_path: Path) -> None:
    from xiaowei.cli.main import app

    source = _model(tmp_path, "fit")
    done = runner.invoke(app, ["model", "register", str(source), "--name", "churn", "--by",
                               "wang.li", "--json"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["model", "list", "--json"])
    assert [m["ref"] for m in json.loads(listed.stdout)["models"]] == ["churn@1"]
