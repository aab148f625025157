"""`POST /v1/staff/events`: a customer manager's phone posts a batch of their own behaviour
events — stored once, another manager's events quarantined as "not yours"; an administrator
reports for anyone; roles without the permission get 403 and a body that is not a batch of
events 422, storing nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk
from tests.auth_support import auth

from xiaowei.staff.event_intake import events_table

URL = "/v1/staff/events"


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank) as opened:
        yield opened


def _now() -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()


def checkin(event_id: str, manager: str, **change: Any) -> dict[str, Any]:
    return {"event_id": event_id, "kind": "checkin", "manager_id": manager,
            "occurred_at": _now(), "device_id": f"MD-{manager}", "lat": 30.2741,
            "lon": 120.1551, "accuracy_m": 15.0, "mock_location": False, **change}


def operation(event_id: str, manager: str) -> dict[str, Any]:
    return {"event_id": event_id, "kind": "operation", "manager_id": manager,
            "occurred_at": _now(), "action": "export", "object_type": "customer",
            "object_id": "branch", "row_count": 800}


def _stored(desk: Desk) -> dict[str, int]:
    return {t: int(desk.scalar(f"select count(*) from {t}"))
            for t in ("staff_event", "load_batch", "quarantined_row")}


def other_manager(desk: Desk) -> str:
    return str(desk.scalar("select manager_id from app_user where name = 'cm.x'"))


def test_a_manager_posts_their_own_events_once(desk: Desk) -> None:
    mine = [checkin("APP-1", desk.manager), operation("APP-2", desk.manager)]
    res = desk.client.post(URL, json=mine, headers=desk.as_("cm"))
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["accepted"] == ["APP-1", "APP-2"] and report["quarantined"] == []
    again = desk.client.post(URL, json=mine, headers=desk.as_("cm"))
    assert again.status_code == 200
    assert again.json()["duplicates"] == ["APP-1", "APP-2"] and again.json()["accepted"] == []
    assert _stored(desk)["staff_event"] == 2
    stored = events_table(desk.store, "operation").to_pylist()
    assert [(o["event_id"], o["manager_id"], o["row_count"]) for o in stored] == [
        ("APP-2", desk.manager, 800)]


def test_another_manager_s_events_are_not_yours(desk: Desk) -> None:
    other = other_manager(desk)
    batch = [checkin("APP-3", desk.manager), checkin("APP-4", other),
             checkin("APP-5", "M-NOBODY")]
    res = desk.client.post(URL, json=batch, headers=desk.as_("cm"))
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["accepted"] == ["APP-3"]
    refused = {q["event_id"]: q for q in report["quarantined"]}
    assert set(refused) == {"APP-4", "APP-5"}
    for q in refused.values():
        assert q["field"] == "manager_id" and "not your events" in q["reason"]
        assert q["problems"][0]["zh"] == "不是本人的事件"
    assert int(desk.scalar("select count(*) from staff_event where manager_id = :m",
                           m=other)) == 0
    assert int(desk.scalar("select count(*) from quarantined_row where batch_id = :b",
                           b=report["batch_id"])) == 2


def test_an_administrator_reports_for_any_manager(desk: Desk) -> None:
    other = other_manager(desk)
    batch = [checkin("GW-1", desk.manager), checkin("GW-2", other),
             checkin("GW-3", "M-NOBODY"), checkin("GW-4", other, lat=0, lon=0)]
    res = desk.client.post(URL, json=batch, headers=desk.as_("admin"))
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["accepted"] == ["GW-1", "GW-2"]
    assert [(q["row"], q["field"]) for q in report["quarantined"]] == [(3, "manager_id"),
                                                                       (4, "lat,lon")]
    assert "unknown staff" in report["quarantined"][0]["reason"]


@pytest.mark.parametrize("name", ["supervisor", "approver", "auditor", "analyst.a"])
def test_roles_without_the_permission_are_refused(desk: Desk, name: str) -> None:
    before = _stored(desk)
    res = desk.client.post(URL, json=[checkin("X-1", desk.manager)], headers=desk.as_(name))
    assert res.status_code == 403, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert _stored(desk) == before


def test_a_token_must_cover_the_permission(desk: Desk) -> None:
    narrow = auth(desk.store, "cm", scopes=["customers"])
    assert desk.client.post(URL, json=[checkin("X-2", desk.manager)],
                            headers=narrow).status_code == 403
    scoped = auth(desk.store, "cm", scopes=["staff_events"])
    assert desk.client.post(URL, json=[checkin("X-2", desk.manager)],
                            headers=scoped).status_code == 200
    assert desk.client.post(URL, json=[checkin("X-3", desk.manager)]).status_code == 401


@pytest.mark.parametrize(("body", "named"), [
    ({"event_id": "not a list"}, "body"),
    ([checkin("X-4", "M"), "text", 7], "1"),
    ([], "body"),
    ([{"kind": "checkin"}] * 1001, "body"),
])
def test_a_body_that_is_not_a_batch_is_a_422_naming_the_rows(desk: Desk, body: Any,
                                                              named: str) -> None:
    before = _stored(desk)
    res = desk.client.post(URL, json=body, headers=desk.as_("cm"))
    assert res.status_code == 422, res.text
    doc = res.json()
    assert res.headers["content-type"].startswith("application/problem+json")
    assert any(p.startswith(f"{named}:") for p in doc["problems"]), doc
    if named == "1":
        assert [p.split(":")[0] for p in doc["problems"]] == ["1", "2"]
    assert _stored(desk) == before
