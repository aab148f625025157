"""`/api/models`: the registry listed and shown with links to report files, approved and retired
with maker ≠ checker; only registered report files are served."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk

from xiaowei.modelling.registry import MODELS_DIR, ModelRegistry


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any],
         tmp_path: Path) -> Iterator[Desk]:
    source = tmp_path / "fitted"
    shutil.copytree(pipeline_bank["model"], source)
    (source / "report.html").write_text("<h1>模型报告 model report</h1>", "utf-8")
    home = tmp_path / "home"
    ModelRegistry(pipeline_store, home / MODELS_DIR).register(source, "app_score", "analyst.a")
    with open_desk(pipeline_store, pipeline_bank, home=home) as opened:
        yield opened


def test_list_show_and_report_links(desk: Desk) -> None:
    listed = desk.client.get("/api/models", headers=desk.as_("auditor"))
    assert listed.status_code == 200, listed.text
    assert [m["id"] for m in listed.json()["items"]] == ["app_score@1"]
    assert listed.json()["items"][0]["status"] == "draft"
    shown = desk.client.get("/api/models/app_score/1", headers=desk.as_("analyst.b")).json()
    assert shown["feature_names"] and shown["history"][0]["to_status"] == "draft"
    links = {r["name"]: r["href"] for r in shown["reports"]}
    assert links == {"report.html": "/api/models/app_score/1/files/report.html"} | {
        k: v for k, v in links.items() if k != "report.html"}
    page = desk.client.get(links["report.html"], headers=desk.as_("auditor"))
    assert page.status_code == 200 and "model report" in page.text
    assert page.headers["content-type"].startswith("text/html")
    for bad in ("..%2F..%2F..%2Fetc%2Fpasswd", "nothing.html", "model.pkl"):
        res = desk.client.get(f"/api/models/app_score/1/files/{bad}", headers=desk.as_("auditor"))
        assert res.status_code == 404, bad
    for name, status in {"cm": 403, "approver": 403, "supervisor": 403, "admin": 200}.items():
        assert desk.client.get("/api/models", headers=desk.as_(name)).status_code == status
    assert desk.client.get("/api/models/app_score/9",
                           headers=desk.as_("auditor")).status_code == 404


def test_approve_and_retire_with_maker_checker(desk: Desk) -> None:
    before = desk.scalar("select count(*) from model_event")
    for name in ("auditor", "admin", "approver"):
        res = desk.client.post("/api/models/app_score/1/approve", headers=desk.as_(name))
        assert res.status_code == 403, name
    own = desk.client.post("/api/models/app_score/1/approve", headers=desk.as_("analyst.a"))
    assert own.status_code == 409
    assert desk.scalar("select count(*) from model_event") == before
    ok = desk.client.post("/api/models/app_score/1/approve", json={"note": "validated"},
                          headers=desk.as_("analyst.b"))
    assert ok.status_code == 200 and ok.json()["approved_by"] == "analyst.b", ok.text
    gone = desk.client.post("/api/models/app_score/1/retire", json={"note": "replaced"},
                            headers=desk.as_("analyst.a"))
    assert gone.status_code == 200 and gone.json()["status"] == "retired"
    again = desk.client.post("/api/models/app_score/1/approve", headers=desk.as_("analyst.b"))
    assert again.status_code == 409
    retired = desk.client.get("/api/models", params={"status": "retired"},
                              headers=desk.as_("auditor")).json()
    assert retired["total"] == 1
