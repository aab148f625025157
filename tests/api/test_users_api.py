"""`/api/users`: the administrator lists, adds (a generated password shown once), disables and
resets; a supervisor reads their branch's users; nobody else changes anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk
from tests.auth_support import audit_count


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank) as opened:
        yield opened


def _token(desk: Desk, name: str, password: str) -> int:
    return desk.client.post("/api/auth/token",
                            data={"username": name, "password": password}).status_code


def _users(desk: Desk) -> int:
    return int(desk.scalar("select count(*) from app_user"))


def test_admin_lists_adds_disables_and_resets(desk: Desk) -> None:
    listed = desk.client.get("/api/users", params={"size": 200}, headers=desk.as_("admin"))
    assert listed.status_code == 200
    items = {u["id"]: u for u in listed.json()["items"]}
    assert list(items) == sorted(items) and listed.json()["total"] == len(items)
    assert items["cm"]["customers"] > 0 and items["approver"]["customers"] is None
    assert items["senior.a"]["role_label"]["zh"] == "高级审批人"
    added = desk.client.post("/api/users", json={"name": "li.na", "role": "approver",
                                                 "branch": desk.branch},
                             headers=desk.as_("admin"))
    assert added.status_code == 201, added.text
    password = added.json()["password"]
    assert added.json()["user"]["id"] == "li.na" and len(password) >= 12
    assert _token(desk, "li.na", password) == 200
    assert desk.client.post("/api/users", json={"name": "li.na", "role": "approver",
                                                "branch": desk.branch},
                            headers=desk.as_("admin")).status_code == 409
    for body in ({"name": "x y", "role": "approver"}, {"name": "zz", "role": "boss"},
                 {"name": "wu.qi", "role": "approver"}):
        res = desk.client.post("/api/users", json=body, headers=desk.as_("admin"))
        assert res.status_code == 422, (body, res.text)
    reset = desk.client.post("/api/users/li.na/password", headers=desk.as_("admin"))
    assert reset.status_code == 200 and reset.json()["password"] != password
    assert _token(desk, "li.na", password) == 401
    assert _token(desk, "li.na", reset.json()["password"]) == 200
    gone = desk.client.post("/api/users/li.na/disable", headers=desk.as_("admin"))
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert _token(desk, "li.na", reset.json()["password"]) == 401
    assert desk.client.post("/api/users/admin/disable",
                            headers=desk.as_("admin")).status_code == 409
    assert desk.client.post("/api/users/nobody/disable",
                            headers=desk.as_("admin")).status_code == 404
    assert audit_count(desk.store, "user.disable") == 1


def test_who_may_read_and_change_users(desk: Desk) -> None:
    branch = desk.client.get("/api/users", params={"size": 200},
                             headers=desk.as_("supervisor")).json()
    assert branch["items"] and {u["branch"] for u in branch["items"]} == {desk.branch}
    assert "approver.x" not in {u["id"] for u in branch["items"]}
    everyone = desk.client.get("/api/users", params={"size": 200}, headers=desk.as_("auditor"))
    assert "approver.x" in {u["id"] for u in everyone.json()["items"]}
    for name in ("cm", "approver", "analyst.a"):
        assert desk.client.get("/api/users", headers=desk.as_(name)).status_code == 403
    before, audited = _users(desk), audit_count(desk.store)
    for name in ("supervisor", "auditor", "cm", "analyst.a"):
        res = desk.client.post("/api/users", json={"name": "mallory", "role": "admin"},
                               headers=desk.as_(name))
        assert res.status_code == 403, name
        assert desk.client.post("/api/users/cm/disable",
                                headers=desk.as_(name)).status_code == 403
        assert desk.client.post("/api/users/cm/password",
                                headers=desk.as_(name)).status_code == 403
    assert _users(desk) == before and audit_count(desk.store) == audited
