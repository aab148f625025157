"""The role matrix: for each role × endpoint, allowed, 403, or — for a record outside the
caller's scope — 404; a customer manager sees exactly their own customers.

Expectations are computed here with plain SQL over the tiny bank (who manages which
application, which branch it came in at), independently of the scope clauses under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from tests.auth_support import audit_count, auth, stored, user

from xiaowei.api import create_app
from xiaowei.config import Settings

BRANCH_ROLES = ("approver", "supervisor")
ALL_ROLES = ("risk_analyst", "auditor", "admin")


@dataclass
class Matrix:
    client: TestClient
    store: Engine
    users: dict[str, dict[str, Any]]  # name -> {role, branch, manager}
    headers: dict[str, dict[str, str]]

    def parties(self, sql: str, **params: Any) -> set[str]:
        with self.store.connect() as connection:
            return {r[0] for r in connection.execute(text(sql), params)}

    def expected_parties(self, name: str) -> set[str]:
        who = self.users[name]
        if who["role"] in ALL_ROLES:
            return self.parties("select party_id from party")
        if who["role"] in BRANCH_ROLES:
            return self.parties("select party_id from application where branch_id = :b",
                                b=who["branch"])
        return self.parties("select party_id from application where manager_id = :m union "
                            "select party_id from task where assignee_id = :m and party_id "
                            "is not null", m=who["manager"])


@pytest.fixture
def matrix(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Matrix]:
    with pipeline_store.connect() as connection:
        managers = connection.execute(text(
            "select manager_id, branch_id from customer_manager order by manager_id")).all()
    (m0, b0), (m1, b1) = managers[0], next(m for m in managers if m[1] != managers[0][1])
    m2 = next(m for m, b in managers if b == b0 and m != m0)
    users = {"cm.0": {"role": "customer_manager", "branch": b0, "manager": m0},
             "cm.2": {"role": "customer_manager", "branch": b0, "manager": m2},
             "cm.1": {"role": "customer_manager", "branch": b1, "manager": m1},
             "approver.0": {"role": "approver", "branch": b0, "manager": None},
             "approver.1": {"role": "approver", "branch": b1, "manager": None},
             "supervisor.0": {"role": "supervisor", "branch": b0, "manager": None},
             "analyst": {"role": "risk_analyst", "branch": None, "manager": None},
             "auditor": {"role": "auditor", "branch": None, "manager": None},
             "admin": {"role": "admin", "branch": None, "manager": None}}
    for name, who in users.items():
        user(pipeline_store, name, who["role"], branch=who["branch"], manager=who["manager"])
    settings = Settings(home=Path(pipeline_bank["home"]),
                        database_url=pipeline_store.url.render_as_string(hide_password=False),
                        analytic_path=Path(pipeline_bank["analytic"]))
    app = create_app(settings, model_dirs={"app_score": str(pipeline_bank["model"])})
    with TestClient(app, base_url="https://testserver") as client:
        yield Matrix(client, pipeline_store, users,
                     {name: auth(pipeline_store, name) for name in users})


def _listed(m: Matrix, name: str) -> tuple[set[str], int]:
    ids: set[str] = set()
    page, total = 1, -1
    while True:
        res = m.client.get("/api/customers", params={"page": page, "size": 50},
                           headers=m.headers[name])
        assert res.status_code == 200, (name, res.text)
        doc = res.json()
        total = doc["total"]
        for item in doc["items"]:
            assert ("pii" not in item and "*" in item["name_masked"]) or len(
                item["name_masked"]) <= 1, item
        ids |= {item["id"] for item in doc["items"]}
        if not doc["items"]:
            return ids, total
        page += 1


def test_each_role_lists_exactly_the_customers_it_may_see(matrix: Matrix) -> None:
    seen = {}
    for name in matrix.users:
        ids, total = _listed(matrix, name)
        expected = matrix.expected_parties(name)
        assert ids == expected and total == len(expected), name
        seen[name] = ids
    assert seen["cm.0"] and seen["cm.2"] and seen["cm.0"] != seen["cm.2"]
    assert seen["cm.0"] < seen["approver.0"] < seen["admin"]  # own ⊂ branch ⊂ all
    assert seen["approver.0"] != seen["approver.1"]


def test_detail_is_404_outside_the_scope_and_unmasking_is_audited(matrix: Matrix) -> None:
    own = matrix.expected_parties("cm.0")
    other_manager = matrix.expected_parties("cm.2") - own
    other_branch = matrix.expected_parties("approver.1") - matrix.expected_parties("approver.0")
    mine, theirs, far = sorted(own)[0], sorted(other_manager)[0], sorted(other_branch)[0]
    cases = {  # user -> {party: status}
        "cm.0": {mine: 200, theirs: 404, far: 404},
        "cm.2": {mine: 404 if mine not in matrix.expected_parties("cm.2") else 200,
                 theirs: 200, far: 404},
        "approver.0": {mine: 200, theirs: 200, far: 404},
        "approver.1": {mine: 404, far: 200},
        "supervisor.0": {mine: 200, far: 404},
        "analyst": {mine: 200, far: 200}, "auditor": {mine: 200, far: 200},
        "admin": {mine: 200, far: 200, "NO-SUCH-PARTY": 404},
    }
    for name, expected in cases.items():
        for party, status in expected.items():
            res = matrix.client.get(f"/api/customers/{party}", headers=matrix.headers[name])
            assert res.status_code == status, (name, party, res.text)
            if status == 200:
                assert res.json()["id"] == party and "pii" not in res.json()
    before = audit_count(matrix.store, "pii.view")
    revealed = matrix.client.get(f"/api/customers/{mine}", params={"reveal": "true"},
                                 headers=matrix.headers["cm.0"])
    assert revealed.status_code == 200 and revealed.json()["pii"]["name"]
    assert "*" not in revealed.json()["pii"]["name"]
    assert audit_count(matrix.store, "pii.view") == before + 1
    for name in ("analyst", "auditor", "supervisor.0", "admin"):  # no pii:view
        res = matrix.client.get(f"/api/customers/{mine}", params={"reveal": "true"},
                                headers=matrix.headers[name])
        assert res.status_code == 403 and "pii:view" in res.text, name
    outside = matrix.client.get(f"/api/customers/{far}", params={"reveal": "true"},
                                headers=matrix.headers["cm.0"])
    assert outside.status_code == 404
    assert audit_count(matrix.store, "pii.view") == before + 1


def test_who_may_submit_applications(matrix: Matrix, pipeline_bank: dict[str, Any]) -> None:
    apps = iter(pipeline_bank["apps"])
    for name, status in {"approver.0": 403, "supervisor.0": 403, "analyst": 403,
                         "auditor": 403, "cm.0": 201, "admin": 201}.items():
        doc = {**next(apps), "application_id": f"RM-{name}"}
        before = stored(matrix.store)
        res = matrix.client.post("/v1/applications", json=doc, headers=matrix.headers[name])
        assert res.status_code == status, (name, res.text)
        if status == 403:
            assert stored(matrix.store) == before, name


def test_who_may_read_an_application(matrix: Matrix, pipeline_bank: dict[str, Any]) -> None:
    doc = {**pipeline_bank["apps"][1], "application_id": "RM-READ"}
    assert matrix.client.post("/v1/applications", json=doc,
                              headers=matrix.headers["admin"]).status_code == 201
    with matrix.store.connect() as connection:
        manager, branch = connection.execute(text(
            "select manager_id, branch_id from application where application_id = 'RM-READ'"
        )).one()
    for name, who in matrix.users.items():
        allowed = (who["role"] in ALL_ROLES
                   or (who["role"] in BRANCH_ROLES and who["branch"] == branch)
                   or (who["role"] == "customer_manager" and who["manager"] == manager))
        res = matrix.client.get("/v1/applications/RM-READ", headers=matrix.headers[name])
        assert res.status_code == (200 if allowed else 404), (name, res.text)
    assert any(w["role"] == "customer_manager" and w["manager"] != manager
               for w in matrix.users.values())  # someone really was refused


# -- the routers of tasks, tags, strategies, models, reports and users ----------------------

TASK_ALL_ROLES = ("auditor", "admin")


def expected_tasks(m: Matrix, name: str) -> set[str]:
    who = m.users[name]
    if who["role"] in TASK_ALL_ROLES:
        return m.parties("select task_id from task")
    if who["role"] in BRANCH_ROLES:
        return m.parties("select t.task_id from task t join application a on a.application_id "
                         "= t.application_id where a.branch_id = :b", b=who["branch"])
    if who["role"] == "customer_manager":
        return m.parties("select task_id from task where assignee_id = :m", m=who["manager"])
    return set()


def _review_case(m: Matrix, bank: dict[str, Any], key: str) -> str:
    doc = {**bank["apps"][2], "application_id": key}
    res = m.client.post("/v1/applications", json=doc,
                        headers={**m.headers["admin"], "X-Automated-Ok": "false"})
    assert res.status_code == 201, res.text
    return next(iter(m.parties("select task_id from task where application_id = :k", k=key)))


def test_each_role_lists_exactly_the_tasks_it_may_see(matrix: Matrix,
                                                      pipeline_bank: dict[str, Any]) -> None:
    task = _review_case(matrix, pipeline_bank, "RM-TASKS")
    for name, who in matrix.users.items():
        res = matrix.client.get("/api/tasks", params={"size": 200}, headers=matrix.headers[name])
        if who["role"] == "risk_analyst":
            assert res.status_code == 403, name
            continue
        expected = expected_tasks(matrix, name)
        ids: set[str] = set()
        for page in range(1, res.json()["total"] // 200 + 2):
            ids |= {t["id"] for t in matrix.client.get(
                "/api/tasks", params={"size": 200, "page": page},
                headers=matrix.headers[name]).json()["items"]}
        assert ids == expected and res.json()["total"] == len(expected), name
        detail = matrix.client.get(f"/api/tasks/{task}", headers=matrix.headers[name])
        assert detail.status_code == (200 if task in expected else 404), name
    assert task in expected_tasks(matrix, "admin")
    assert any(task not in expected_tasks(matrix, n) for n in matrix.users
               if matrix.users[n]["role"] != "risk_analyst")  # someone really was refused


READS = {  # path -> roles answered 200 (every other role: 403)
    "/api/tags": {"customer_manager", "approver", "supervisor", "risk_analyst", "auditor",
                  "admin"},
    "/api/strategies": {"risk_analyst", "auditor", "admin"},
    "/api/models": {"risk_analyst", "auditor", "admin"},
    "/api/reports/backtests": {"risk_analyst", "auditor", "admin"},
    "/api/users": {"supervisor", "auditor", "admin"},
}


def test_each_role_reads_only_the_lists_it_may(matrix: Matrix) -> None:
    for path, allowed in READS.items():
        for name, who in matrix.users.items():
            res = matrix.client.get(path, headers=matrix.headers[name])
            assert res.status_code == (200 if who["role"] in allowed else 403), (path, name)
            if res.status_code == 200:
                doc = res.json()
                assert {"items", "page", "size", "total"} <= set(doc)
                assert all("id" in item for item in doc["items"])


def test_customer_tags_follow_the_customer_scope(matrix: Matrix) -> None:
    own = matrix.expected_parties("cm.0")
    far = sorted(matrix.expected_parties("approver.1") - matrix.expected_parties("approver.0"))
    for name in matrix.users:
        visible = matrix.expected_parties(name)
        for party in (sorted(own)[0], far[0]):
            res = matrix.client.get(f"/api/customers/{party}/tags",
                                    headers=matrix.headers[name])
            assert res.status_code == (200 if party in visible else 404), (name, party)


def test_refused_changes_store_nothing(matrix: Matrix, pipeline_bank: dict[str, Any]) -> None:
    task = _review_case(matrix, pipeline_bank, "RM-REFUSED")
    posts = {  # path, body -> roles refused with 403 (the rest are not tried here)
        (f"/api/tasks/{task}/approve", None): ("cm.0", "supervisor.0", "analyst", "auditor",
                                               "admin"),
        (f"/api/tasks/{task}/check", '{"confirm": true}'): ("cm.0", "analyst", "admin"),
        ("/api/strategies/x/1/approve", None): ("approver.0", "auditor", "admin", "cm.0"),
        ("/api/strategies/x/rollback", '{"note": "n"}'): ("approver.0", "auditor", "admin"),
        ("/api/models/x/1/approve", None): ("approver.0", "auditor", "admin", "supervisor.0"),
        ("/api/users", '{"name": "eve", "role": "admin"}'): ("supervisor.0", "auditor",
                                                            "analyst", "cm.0"),
        ("/api/users/admin/disable", None): ("supervisor.0", "auditor", "approver.0"),
    }
    before = stored(matrix.store)
    users = matrix.parties("select name from app_user")
    for (path, body), names in posts.items():
        for name in names:
            res = matrix.client.post(path, content=body, headers={
                **matrix.headers[name], "Content-Type": "application/json"})
            assert res.status_code == 403, (path, name, res.text)
    outside = matrix.client.post(f"/api/tasks/{task}/claim", headers=matrix.headers[
        "approver.1" if matrix.users["approver.0"]["branch"] == matrix.parties(
            "select branch_id from application where application_id = 'RM-REFUSED'").pop()
        else "approver.0"])
    assert outside.status_code == 404
    assert stored(matrix.store) == before and matrix.parties("select name from app_user") == users
