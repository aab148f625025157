"""Helpers for the workbench tests: an app on the tiny bank's store with one demo user per
role, and signing a client in through the security API (as the login page does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from xiaowei.api import create_app
from xiaowei.config import Settings
from xiaowei.security.demo_users import create_demo_users
from xiaowei.security.sessions import CSRF_COOKIE

ROLES = ("customer_manager", "approver", "risk_analyst", "supervisor", "auditor", "admin")


def user_name(role: str) -> str:
    return f"demo.{role}".replace("_", "-")


def workbench_app(engine: Engine, bank: dict[str, Any]) -> tuple[FastAPI, dict[str, str]]:
    """The API with the pages on ``engine``'s store, and the demo users' passwords."""
    passwords = create_demo_users(engine)
    settings = Settings(home=Path(bank["home"]),
                        database_url=engine.url.render_as_string(hide_password=False),
                        analytic_path=Path(bank["analytic"]))
    return create_app(settings, model_dirs={"app_score": str(bank["model"])}), passwords


def sign_in(client: TestClient, passwords: dict[str, str], role: str) -> str:
    """Sign ``client`` in as the demo user of ``role``; returns the session's CSRF token."""
    name = user_name(role)
    reply = client.post("/api/auth/session",
                        data={"username": name, "password": passwords[name]})
    assert reply.status_code == 200, reply.text
    return client.cookies.get(CSRF_COOKIE) or reply.json()["csrf_token"]


def first_app(bank: dict[str, Any], party_type: str | None = None) -> dict[str, Any]:
    """A template application of the tiny bank (a real customer) to submit under a new key."""
    for a in bank["apps"]:
        if party_type is None or a["party_type"] == party_type:
            return dict(a)
    raise AssertionError(f"the tiny bank has no application of a {party_type}")


def app_in_branch(engine: Engine, bank: dict[str, Any], role: str = "approver",
                  skip: int = 0) -> dict[str, Any]:
    """A template application of a customer whose home branch is the demo ``role`` user's
    (so the new application lands in that user's scope); ``skip`` picks a later one."""
    from sqlalchemy import func, select

    from xiaowei.store.database import transaction
    from xiaowei.store.tables import Application, AppUser

    with transaction(engine) as session:
        branch = session.scalar(select(AppUser.branch_id).where(
            AppUser.name == user_name(role)))
        latest = select(Application.party_id, func.max(Application.applied_at).label("at")) \
            .group_by(Application.party_id).subquery()
        home = dict(session.execute(
            select(Application.party_id, Application.branch_id).join(
                latest, (latest.c.party_id == Application.party_id)
                & (latest.c.at == Application.applied_at))).all())
    found = [a for a in bank["apps"] if home.get(a["party_id"]) == branch]
    assert len(found) > skip, f"no customer of branch {branch} in the tiny bank"
    return dict(found[skip])
