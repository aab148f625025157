"""`/api/strategies`: list, show, diff, submit (YAML body, size-limited), approve, publish and
roll back through the strategy store — maker ≠ checker, permissions by role, nothing stored by
a refused request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk

from xiaowei.origination.decide import DEFAULT_PACK
from xiaowei.strategies.store import StrategyStore

PACK = DEFAULT_PACK.read_text("utf-8")
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank) as opened:
        yield opened


def _pack(version: str) -> str:
    text = PACK.replace('version: "2025.2"', f'version: "{version}"', 1)
    assert text != PACK
    return text


def _versions(desk: Desk) -> int:
    return int(desk.scalar("select count(*) from strategy_version"))


def test_submit_approve_publish_rollback(desk: Desk) -> None:
    post = desk.client.post
    first = post("/api/strategies", content=_pack("2099.1"), params={"note": "v1"},
                 headers={**desk.as_("analyst.a"), **YAML})
    assert first.status_code == 201, first.text
    ref = first.json()["id"]
    name, version = ref.split("@")
    assert first.json()["status"] == "draft" and first.json()["created"] is True
    same = post("/api/strategies", content=_pack("2099.1"),
                headers={**desk.as_("analyst.b"), **YAML})
    assert same.status_code == 200 and same.json()["id"] == ref and not same.json()["created"]
    own = post(f"/api/strategies/{name}/{version}/approve", headers=desk.as_("analyst.a"))
    assert own.status_code == 409 and "analyst.a" in own.json()["detail"]  # maker ≠ checker
    ok = post(f"/api/strategies/{name}/{version}/approve", json={"note": "checked"},
              headers=desk.as_("analyst.b"))
    assert ok.status_code == 200 and ok.json()["approved_by"] == "analyst.b", ok.text
    live = post(f"/api/strategies/{name}/{version}/publish", headers=desk.as_("analyst.a"))
    assert live.status_code == 200 and live.json()["status"] == "live", live.text
    second = post("/api/strategies", content=_pack("2099.2"),
                  headers={**desk.as_("analyst.a"), "Content-Type": "text/plain"})
    v2 = second.json()["version"]
    post(f"/api/strategies/{name}/{v2}/approve", headers=desk.as_("analyst.b"))
    assert post(f"/api/strategies/{name}/{v2}/publish",
                headers=desk.as_("analyst.b")).json()["status"] == "live"
    diff = desk.client.get(f"/api/strategies/{name}/{v2}/diff", params={"against": version},
                           headers=desk.as_("auditor"))
    assert diff.status_code == 200 and diff.json()["changes"], diff.text
    assert any("2099" in line for line in diff.json()["changes"])
    bare = post(f"/api/strategies/{name}/rollback", json={}, headers=desk.as_("analyst.a"))
    assert bare.status_code == 422
    back = post(f"/api/strategies/{name}/rollback", json={"note": "v2 refuses too many"},
                headers=desk.as_("analyst.a"))
    assert back.status_code == 200 and back.json()["id"] == ref, back.text
    assert StrategyStore(desk.store).live_version(name)[0] == int(version)
    shown = desk.client.get(f"/api/strategies/{name}/{v2}", headers=desk.as_("admin")).json()
    assert shown["status"] == "rolled_back" and "pack.yaml" in shown["texts"]
    assert [e["to_status"] for e in shown["history"]] == ["draft", "approved", "live",
                                                          "rolled_back"]
    listed = desk.client.get("/api/strategies", params={"status": "live", "size": 1},
                             headers=desk.as_("auditor")).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == ref


def test_refusals_store_nothing(desk: Desk) -> None:
    before = _versions(desk)
    for name in ("cm", "approver", "supervisor", "auditor", "admin"):
        res = desk.client.post("/api/strategies", content=_pack("2099.9"),
                               headers={**desk.as_(name), **YAML})
        assert res.status_code == 403, (name, res.text)
    for name, status in {"cm": 403, "approver": 403, "auditor": 200, "analyst.a": 200}.items():
        assert desk.client.get("/api/strategies", headers=desk.as_(name)).status_code == status
    broken = desk.client.post("/api/strategies", content="pack: [unclosed",
                              headers={**desk.as_("analyst.a"), **YAML})
    assert broken.status_code == 422 and "pack.yaml" in broken.json()["detail"]
    wrong = desk.client.post("/api/strategies", content=PACK.replace("inputs:", "inputz:", 1),
                             headers={**desk.as_("analyst.a"), **YAML})
    assert wrong.status_code == 422, wrong.text
    empty = desk.client.post("/api/strategies", content=" ",
                             headers={**desk.as_("analyst.a"), **YAML})
    assert empty.status_code == 422
    huge = desk.client.post("/api/strategies", content="#" * (600 * 1024),
                            headers={**desk.as_("analyst.a"), **YAML})
    assert huge.status_code == 413
    assert _versions(desk) == before
    missing = desk.client.get("/api/strategies/no-such-pack/1", headers=desk.as_("auditor"))
    assert missing.status_code == 404
    assert desk.client.post("/api/strategies/no-such-pack/1/approve",
                            headers=desk.as_("analyst.b")).status_code == 404
    assert desk.client.post("/api/strategies/x/1/publish",
                            headers=desk.as_("auditor")).status_code == 403
