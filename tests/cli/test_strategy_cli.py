"""`xiaowei strategy …`: the verb set end to end, documented JSON keys, and refusals that exit
2 with ``错误 error:``, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "strategy" / "data"
RECORD_KEYS = {
    "name", "version", "ref", "status", "status_zh", "content_hash", "pack_version", "label",
    "main_file", "files", "source_path", "submitted_by", "submitted_at", "approved_by",
    "approved_at",
}


def _pack(tmp_path: Path, folder: str, old: str = "", new: str = "") -> Path:
    path = tmp_path / folder
    path.mkdir()
    text = (EXAMPLE / "example_pack.yaml").read_text("utf-8")
    (path / "pack.yaml").write_text(text.replace(old, new) if old else text, "utf-8")
    shutil.copy(EXAMPLE / "blacklist.txt", path / "blacklist.txt")
    return path


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["strategy", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(*args: str) -> str:
    result = runner.invoke(app, ["strategy", *args])
    assert result.exit_code == 2, result.output
    assert "错误 error:" in result.stderr
    return " ".join(result.stderr.split())


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", db_url)
    monkeypatch.delenv("XIAOWEI_USER", raising=False)
    return db_url


def test_submit_approve_publish_rollback_list_show_diff(store: str, tmp_path: Path) -> None:
    doc = _json("submit", str(_pack(tmp_path, "v1")), "--by", "zhao.min", "--note", "first")
    assert set(doc) == RECORD_KEYS | {"created"}
    assert (doc["ref"], doc["status"], doc["created"]) == ("example@1", "draft", True)
    assert doc["files"] == ["blacklist.txt", "pack.yaml"]
    assert _json("submit", str(_pack(tmp_path, "again")), "--by", "x")["created"] is False
    v2 = _pack(tmp_path, "v2", "tag.age < 22", "tag.age < 30")
    assert _json("submit", str(v2 / "pack.yaml"), "--by", "zhao.min")["version"] == 2

    assert _refused("approve", "example@1", "--by", "ZHAO.MIN").count("maker–checker") == 1
    for ref in ("example@1", "example@2"):
        assert set(_json("approve", ref, "--by", "li.na")) == RECORD_KEYS
        assert _json("publish", ref, "--by", "chen.gang")["status"] == "live"

    listed = _json("list")
    assert [(r["ref"], r["status"]) for r in listed["strategies"]] == [
        ("example@1", "superseded"), ("example@2", "live")]
    assert _json("diff", "example@1", "example@2") == {
        "old": "example@1", "new": "example@2",
        "changes": ["rule O001: when `tag.age < 22` → `tag.age < 30`"]}

    shown = _json("show", "example")
    assert set(shown) == RECORD_KEYS | {"events", "summary", "pack"}
    assert shown["ref"] == "example@2" and shown["pack"] == {"verified": True, "problem": None}
    assert set(shown["summary"]) == {"segments", "flows", "nodes", "lists", "models"}
    assert shown["summary"]["lists"] == {"blacklist": 2, "vip": 1}
    assert [(e["from"], e["to"], e["by"]) for e in shown["events"]] == [
        (None, "draft", "zhao.min"), ("draft", "approved", "li.na"),
        ("approved", "live", "chen.gang")]
    assert set(shown["events"][0]) == {"ref", "from", "to", "by", "at", "note"}

    back = _json("rollback", "example", "--by", "chen.gang", "--note", "approvals fell")
    assert (back["ref"], back["status"]) == ("example@1", "live")
    assert _json("show", "example@2")["events"][-1]["note"] == "approvals fell"
    text = runner.invoke(app, ["strategy", "show", "example@1", "--text"])
    assert text.stdout == (EXAMPLE / "example_pack.yaml").read_text("utf-8")


def test_refusals_exit_2_with_a_clear_message(store: str, tmp_path: Path) -> None:
    bad = _pack(tmp_path, "bad", "tag.age < 22", "tag.agex < 22")
    message = _refused("submit", str(bad), "--by", "zhao.min")
    assert "pack.yaml:145:" in message and "unknown name 'tag.agex'" in message
    assert "no strategy pack named 'nothing'" in _refused("show", "nothing@1")
    _json("submit", str(_pack(tmp_path, "v1")), "--by", "zhao.min")
    assert "it is draft" in _refused("publish", "example@1", "--by", "chen.gang")
    assert "explicit version" in _refused("approve", "example", "--by", "li.na")
    assert "no version is live" in _refused("rollback", "example", "--by", "a", "--note", "x")
    assert "example@1 draft" in _refused("show", "example")


def test_human_output_names_the_next_step(store: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["strategy", "submit", str(_pack(tmp_path, "v1")),
                                 "--by", "zhao.min"])
    assert result.exit_code == 0, result.output
    assert "example@1" in result.stdout
    assert "xiaowei strategy approve example@1" in " ".join(result.stdout.split())
