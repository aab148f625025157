"""A running API on the tiny bank with one user per role placed around one review case — what
the task, tag, strategy, model, user and report API tests share (a plain module, not conftest).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from tests.api_support import bank_settings, model_dirs
from tests.auth_support import auth, user

from xiaowei.api import create_app


@dataclass
class Desk:
    client: TestClient
    store: Engine
    branch: str  # the branch of the review cases
    other_branch: str
    manager: str  # the customer manager of the first case
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, name: str) -> dict[str, str]:
        return self.headers[name]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.store.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def review(self, bank: dict[str, Any], key: str, skip: int = 0) -> str:
        """Submit an application the applicant wants a person to decide, in ``branch``; the
        review task's id."""
        doc = {**branch_app(self.store, bank, self.branch, skip), "application_id": key}
        res = self.client.post("/v1/applications", json=doc, headers={
            **self.headers["admin"], "X-Automated-Ok": "false"})
        assert res.status_code == 201, res.text
        task = self.scalar("select task_id from task where application_id = :k and kind = "
                           "'manual_review'", k=key)
        assert task is not None, res.text
        return str(task)


def branch_app(store: Engine, bank: dict[str, Any], branch: str, skip: int = 0
               ) -> dict[str, Any]:
    """A template application of a customer whose latest application came in at ``branch``."""
    with store.connect() as connection:
        home = dict(connection.execute(text(
            "select a.party_id, a.branch_id from application a where a.applied_at = "
            "(select max(b.applied_at) from application b where b.party_id = a.party_id)")).all())
    found = [a for a in bank["apps"] if home.get(a["party_id"]) == branch]
    assert len(found) > skip, branch
    return dict(found[skip])


@contextmanager
def open_desk(store: Engine, bank: dict[str, Any], home: Path | None = None) -> Iterator[Desk]:
    """The app, and users: admin, cm (a manager of ``branch``), approver and approver.x (another
    branch), senior.a and senior.b (senior approvers), supervisor, analyst.a/b, auditor."""
    with store.connect() as connection:
        rows = connection.execute(text(
            "select branch_id, min(manager_id), count(*) from customer_manager "
            "group by branch_id order by count(*) desc, branch_id")).all()
    (branch, manager, _), (other, other_manager, _) = rows[0], rows[1]
    people = {"admin": ("admin", None, None), "cm": ("customer_manager", branch, manager),
              "cm.x": ("customer_manager", other, other_manager),
              "approver": ("approver", branch, None), "approver.x": ("approver", other, None),
              "senior.a": ("senior_approver", branch, None),
              "senior.b": ("senior_approver", branch, None),
              "supervisor": ("supervisor", branch, None),
              "analyst.a": ("risk_analyst", None, None),
              "analyst.b": ("risk_analyst", None, None), "auditor": ("auditor", None, None)}
    for name, (role, at, managed) in people.items():
        user(store, name, role, branch=at, manager=managed)
    settings = bank_settings(store, bank)
    if home is not None:
        settings = replace(settings, home=home)
    app = create_app(settings, model_dirs=model_dirs(bank))
    with TestClient(app, base_url="https://testserver") as client:
        yield Desk(client, store, branch, other, manager,
                   {name: auth(store, name) for name in people})
