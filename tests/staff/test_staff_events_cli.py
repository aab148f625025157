"""`xiaowei staff events`: a JSON Lines file of behaviour events stored once; refusals listed
with their reasons (exit 1); a file that cannot be read stops before anything is stored
(exit 2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.store.database import transaction
from xiaowei.store.tables import Branch, CustomerManager, LoadBatch, StaffEvent

EVENTS: list[dict[str, Any]] = [
    {"event_id": "C-1", "kind": "checkin", "manager_id": "M1",
     "occurred_at": "2025-09-01T09:15:00", "device_id": "MD-1", "lat": 30.2741,
     "lon": 120.1551, "accuracy_m": 12.5, "mock_location": False},
    {"event_id": "O-1", "kind": "operation", "manager_id": "M1",
     "occurred_at": "2025-09-01T11:00:00+08:00", "action": "approve",
     "object_type": "application", "object_id": "AP1"},
]


@pytest.fixture
def store(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL",
                       migrated_engine.url.render_as_string(hide_password=False))
    with transaction(migrated_engine) as session:
        session.add(Branch(branch_id="B001", name="西湖支行", region_code="330106"))
        session.flush()
        session.add(CustomerManager(manager_id="M1", name="王经理", branch_id="B001",
                                    risk_tier=2, hired_on=dt.date(2019, 7, 1)))
    return migrated_engine


def _file(tmp_path: Path, lines: list[Any], name: str = "events.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n\n",
                    "utf-8")
    return path


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table)) or 0


def test_a_file_is_stored_once(store: Engine, tmp_path: Path) -> None:
    path = _file(tmp_path, EVENTS)
    first = CliRunner().invoke(app, ["staff", "events", "--input", str(path), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["accepted"] == ["C-1", "O-1"]
    again = CliRunner().invoke(app, ["staff", "events", "--input", str(path)])
    assert again.exit_code == 0, again.output
    assert "duplicates 2" in again.stdout and "quarantined 0" in again.stdout
    assert _count(store, StaffEvent) == 2


def test_refusals_are_printed_and_exit_1(store: Engine, tmp_path: Path) -> None:
    path = _file(tmp_path, [*EVENTS, {**EVENTS[0], "event_id": "C-2", "lat": 91},
                            {**EVENTS[1], "event_id": "O-2", "manager_id": "M404"}])
    res = CliRunner().invoke(app, ["staff", "events", "--input", str(path)])
    assert res.exit_code == 1, res.output
    assert "stored 2" in res.stdout and "quarantined 2" in res.stdout
    assert "第 3 行 line 3 (C-2): lat:" in res.stderr and "outside ±90°" in res.stderr
    assert "第 4 行 line 4 (O-2): manager_id: 未登记的客户经理 · unknown staff" in res.stderr
    doc = json.loads(CliRunner().invoke(
        app, ["staff", "events", "--input", str(path), "--json"]).stdout)
    assert doc["duplicates"] == ["C-1", "O-1"]
    assert [(q["row"], q["field"]) for q in doc["quarantined"]] == [(3, "lat"),
                                                                   (4, "manager_id")]


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such file"),
    ("dir", "is a directory"),
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"event_id": "C-1"}\n{"event_id": \n', "line 2: 不是 JSON not JSON"),
    ('{"event_id": "C-1"}\n[1, 2]\n', "line 2: 事件应为 JSON 对象"),
])
def test_an_unreadable_file_stores_nothing(store: Engine, tmp_path: Path,
                                           content: str | bytes | None, words: str) -> None:
    path = tmp_path / "events.jsonl"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, "utf-8")
    res = CliRunner().invoke(app, ["staff", "events", "--input", str(path)])
    assert res.exit_code == 2, res.output
    assert words in res.stderr
    assert (_count(store, StaffEvent), _count(store, LoadBatch)) == (0, 0)


def test_the_group_is_registered() -> None:
    res = CliRunner().invoke(app, ["staff", "--help"])
    assert res.exit_code == 0 and "员工管理" in res.stdout and "events" in res.stdout
