"""`/api/tasks`: the caller's tasks (filters, pages), a review's file, and the reviewer's steps
with maker–checker and the approval authority by role enforced; a refused step stores
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk
from tests.auth_support import stored

NOTE = {"note": "现场核实经营正常 · visit confirmed the business"}


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank) as opened:
        yield opened


def _task(desk: Desk, task_id: str) -> dict[str, Any]:
    return desk.scalar("select status || '|' || coalesce(claimed_by, '-') from task "
                       "where task_id = :t", t=task_id)


def test_listing_is_scoped_filtered_and_paged(desk: Desk, pipeline_bank: dict[str, Any]
                                              ) -> None:
    first = desk.review(pipeline_bank, "TK-L1")
    second = desk.review(pipeline_bank, "TK-L2", skip=1)
    res = desk.client.get("/api/tasks", params={"queue": "manual_review", "size": 200},
                          headers=desk.as_("approver"))
    assert res.status_code == 200, res.text
    doc = res.json()
    ids = [t["id"] for t in doc["items"]]
    assert {first, second} <= set(ids) and doc["total"] == len(ids)
    assert all(t["queue"] == "manual_review" and isinstance(t["overdue"], bool)
               for t in doc["items"])
    elsewhere = desk.client.get("/api/tasks", params={"size": 200},
                                headers=desk.as_("approver.x")).json()
    assert not {first, second} & {t["id"] for t in elsewhere["items"]}
    paged = [desk.client.get("/api/tasks", params={"queue": "manual_review", "size": 1,
                                                   "page": n},
                             headers=desk.as_("approver")).json()["items"][0]["id"]
             for n in range(1, len(ids) + 1)]
    assert paged == ids  # a stable order across pages
    assert desk.client.get("/api/tasks", params={"mine": "true"},
                           headers=desk.as_("approver")).json()["total"] == 0
    assert desk.client.post(f"/api/tasks/{first}/claim",
                            headers=desk.as_("approver")).status_code == 200
    mine = desk.client.get("/api/tasks", params={"mine": "true"},
                           headers=desk.as_("approver")).json()
    assert [t["id"] for t in mine["items"]] == [first]
    held = desk.client.get("/api/tasks", params={"status": "acknowledged"},
                           headers=desk.as_("approver")).json()
    assert first in {t["id"] for t in held["items"]} and second not in {
        t["id"] for t in held["items"]}
    bad = desk.client.get("/api/tasks", params={"status": "sleeping", "size": 500},
                          headers=desk.as_("approver"))
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    assert desk.client.get("/api/tasks", headers=desk.as_("analyst.a")).status_code == 403


def test_a_review_task_returns_its_file_within_scope_only(desk: Desk,
                                                         pipeline_bank: dict[str, Any]) -> None:
    task = desk.review(pipeline_bank, "TK-F1")
    res = desk.client.get(f"/api/tasks/{task}", headers=desk.as_("approver"))
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["id"] == task and doc["task"]["kind"] == "manual_review"
    review = doc["review"]
    assert review["application"]["application_id"] == "TK-F1"
    assert review["proposal"]["outcome"] in ("approve", "reject") and review["reasons"]
    assert "*" in review["application"]["party_name"]  # masked
    for name, status in {"approver.x": 404, "supervisor": 200, "auditor": 200, "admin": 200,
                         "analyst.a": 403}.items():
        got = desk.client.get(f"/api/tasks/{task}", headers=desk.as_(name))
        assert got.status_code == status, (name, got.text)
    assert desk.client.get("/api/tasks/NO-SUCH", headers=desk.as_("admin")).status_code == 404


def test_claim_and_approve_within_authority_writes_the_decision(
        desk: Desk, pipeline_bank: dict[str, Any]) -> None:
    task = desk.review(pipeline_bank, "TK-A1")
    before = stored(desk.store)
    for name, status in {"cm": 404, "supervisor": 403, "approver.x": 404,
                         "auditor": 403}.items():  # cm: not theirs (404 before 403)
        res = desk.client.post(f"/api/tasks/{task}/claim", headers=desk.as_(name))
        assert res.status_code == status, (name, res.text)
    assert stored(desk.store) == before and _task(desk, task) == "open|-"
    assert desk.client.post(f"/api/tasks/{task}/claim",
                            headers=desk.as_("approver")).status_code == 200
    taken = desk.client.post(f"/api/tasks/{task}/claim", headers=desk.as_("senior.a"))
    assert taken.status_code == 409 and "approver" in taken.json()["detail"]
    res = desk.client.post(f"/api/tasks/{task}/approve", json={**NOTE, "amount": 200000},
                           headers=desk.as_("approver"))
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "done" and res.json()["stage"] == "final"
    assert desk.scalar("select decided_by || '|' || cast(approved_amount as integer) from "
                       "decision where application_id = 'TK-A1'") == "approver|200000"
    again = desk.client.post(f"/api/tasks/{task}/approve", json=NOTE,
                             headers=desk.as_("approver"))
    assert again.status_code == 409


def test_above_authority_needs_a_senior_approver_and_a_second_checker(
        desk: Desk, pipeline_bank: dict[str, Any]) -> None:
    small, large = desk.review(pipeline_bank, "TK-B1"), desk.review(pipeline_bank, "TK-B2",
                                                                    skip=1)
    assert desk.client.post(f"/api/tasks/{small}/claim",
                            headers=desk.as_("approver")).status_code == 200
    before = stored(desk.store)
    over = desk.client.post(f"/api/tasks/{small}/approve",
                            json={**NOTE, "amount": 3_500_000}, headers=desk.as_("approver"))
    assert over.status_code == 403 and "authority" in over.json()["detail"]
    assert "3,000,000" in over.json()["detail"]
    assert stored(desk.store) == before and _task(desk, small) == "acknowledged|approver"

    assert desk.client.post(f"/api/tasks/{large}/claim",
                            headers=desk.as_("senior.a")).status_code == 200
    made = desk.client.post(f"/api/tasks/{large}/approve", json={**NOTE, "amount": 3_500_000},
                            headers=desk.as_("senior.a"))
    assert made.status_code == 200 and made.json()["stage"] == "checker", made.text
    assert desk.scalar("select count(*) from decision where application_id = 'TK-B2'") == 0
    own = desk.client.post(f"/api/tasks/{large}/check", json={"confirm": True},
                           headers=desk.as_("senior.a"))
    assert own.status_code == 409  # maker ≠ checker
    before = stored(desk.store)
    weak = desk.client.post(f"/api/tasks/{large}/check", json={"confirm": True},
                            headers=desk.as_("approver"))
    assert weak.status_code == 403 and stored(desk.store) == before
    bare = desk.client.post(f"/api/tasks/{large}/check", json={"confirm": False},
                            headers=desk.as_("senior.b"))
    assert bare.status_code == 422 and "note" in bare.json()["detail"]
    done = desk.client.post(f"/api/tasks/{large}/check", json={"confirm": True, **NOTE},
                            headers=desk.as_("senior.b"))
    assert done.status_code == 200 and done.json()["status"] == "done", done.text
    assert desk.scalar("select decided_by || '|' || cast(approved_amount as integer) from "
                       "decision where application_id = 'TK-B2'") == "senior.a|3500000"


def test_reject_and_bad_bodies(desk: Desk, pipeline_bank: dict[str, Any]) -> None:
    task = desk.review(pipeline_bank, "TK-R1")
    not_held = desk.client.post(f"/api/tasks/{task}/reject", json=NOTE,
                                headers=desk.as_("approver"))
    assert not_held.status_code == 409
    desk.client.post(f"/api/tasks/{task}/claim", headers=desk.as_("approver"))
    for body in ({"amount": -5}, {"amount": "abc"}, {"note": "x" * 3000}):
        res = desk.client.post(f"/api/tasks/{task}/approve", json=body,
                               headers=desk.as_("approver"))
        assert res.status_code == 422 and res.json()["problems"], body
    assert desk.client.post(f"/api/tasks/{task}/reject", json={"amount": 5, **NOTE},
                            headers=desk.as_("approver")).status_code == 422
    res = desk.client.post(f"/api/tasks/{task}/reject", json=NOTE, headers=desk.as_("approver"))
    assert res.status_code == 200 and res.json()["status"] == "done", res.text
    assert desk.scalar("select outcome from decision where application_id = 'TK-R1'") == "reject"
