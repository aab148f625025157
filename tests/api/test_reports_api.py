"""`/api/reports`: the latest stored KPI comparison and the backtests under XIAOWEI_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk

from xiaowei.reports.kpi_file import load_kpis, save_kpis


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any], home: Path) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank, home=home) as opened:
        yield opened


def test_kpis_once_stored(desk: Desk, home: Path) -> None:
    missing = desk.client.get("/api/reports/kpis", headers=desk.as_("analyst.a"))
    assert missing.status_code == 404 and "xiaowei demo" in missing.json()["detail"]
    doc = {"window": {"since": "2025-07-01", "until": "2025-12-31"},
           "digital": {"approvals_per_day": 312.5}, "traditional": {"approvals_per_day": 80.0},
           "targets": {}, "calibration": {"agree": True}}
    assert save_kpis(home, doc) == doc and load_kpis(home)["stored_at"]
    for name, status in {"analyst.a": 200, "supervisor": 200, "auditor": 200, "cm": 403}.items():
        res = desk.client.get("/api/reports/kpis", headers=desk.as_(name))
        assert res.status_code == status, name
    got = desk.client.get("/api/reports/kpis", headers=desk.as_("admin")).json()
    assert got["id"] == "latest" and got["digital"]["approvals_per_day"] == 312.5
    assert got["calibration"] == {"agree": True}
    (home / "reports" / "kpis.json").write_text("{not json", "utf-8")
    assert desk.client.get("/api/reports/kpis", headers=desk.as_("admin")).status_code == 404


def test_backtests_listed_with_links(desk: Desk, home: Path) -> None:
    assert desk.client.get("/api/reports/backtests",
                           headers=desk.as_("auditor")).json()["total"] == 0
    done = home / "backtests" / "abc123-vs-def456"
    done.mkdir(parents=True)
    (done / "backtest.html").write_text("<html></html>", "utf-8")
    (done / "cases.parquet").write_bytes(b"")
    (home / "backtests" / "half-made").mkdir()
    (home / "backtests" / "bad name!").mkdir()
    res = desk.client.get("/api/reports/backtests", headers=desk.as_("analyst.a")).json()
    assert [b["id"] for b in res["items"]] == ["abc123-vs-def456", "half-made"]
    first = res["items"][0]
    assert first["href"] == "/web/strategies/backtests/abc123-vs-def456"
    assert first["files"] == ["backtest.html", "cases.parquet"]
    assert res["items"][1]["href"] is None and not res["items"][1]["has_report"]
    for name in ("cm", "approver", "supervisor"):
        assert desk.client.get("/api/reports/backtests",
                               headers=desk.as_(name)).status_code == 403
