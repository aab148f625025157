"""Which pages a role may open, and which rows a person may see — on the security package's
permission matrix (``security/roles.yaml``) and row-level conditions
(:mod:`xiaowei.security.principal`).

Why one table of page permissions: a page that forgot its check is a leak, so every handler
calls :func:`require` first, and every record goes through a ``visible_*`` condition in the
query itself. A record outside a person's scope answers 404, never 403 — that it exists is
itself information.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from xiaowei.security.principal import (
    Principal,
    visible_applications,
    visible_parties,
    visible_tasks,
)
from xiaowei.store.tables import Application, Party, Task

PAGES: dict[str, Callable[[Principal], bool]] = {
    # the dashboard shows a branch's or the bank's figures: not for one manager's book
    "dashboard": lambda p: p.scope("applications") in ("branch", "all"),
    "applications.read": lambda p: p.can_read("applications"),
    "applications.submit": lambda p: p.has("applications:create"),
    "review.read": lambda p: p.can_read("review"),
    "review.decide": lambda p: p.has("review:decide"),
    "customers.read": lambda p: p.can_read("customers"),
    "strategies.read": lambda p: p.has("strategies:read"),
    "strategies.approve": lambda p: p.has("strategies:approve"),
    "strategies.publish": lambda p: p.has("strategies:publish"),
    "models.read": lambda p: p.has("models:read"),
    "tasks.read": lambda p: True,  # everyone has an inbox, if only of their own claims
    "field.use": lambda p: p.has("tasks:act"),
    "staff.read": lambda p: p.scope("staff") in ("branch", "all"),  # employees' data
}


def may(user: Principal, page: str) -> bool:
    check = PAGES.get(page)
    return check is not None and check(user)


def require(user: Principal | None, page: str) -> Principal:
    """The user, or 401 (not signed in) / 403 (the role may not open ``page``)."""
    if user is None:
        raise HTTPException(401, "not signed in")
    if not may(user, page):
        raise HTTPException(403, f"role {user.role} may not use {page}")
    return user


def application_scope(_session: Session, user: Principal) -> ColumnElement[bool]:
    """The condition on ``application`` rows this person may see."""
    return visible_applications(user)


def visible_application(session: Session, user: Principal, app: Application | None
                        ) -> Application:
    """The application, or 404 when it does not exist or lies outside the person's scope."""
    if app is None or not session.scalar(select(exists().where(
            Application.application_id == app.application_id, visible_applications(user)))):
        raise HTTPException(404, "no such application")
    return app


def visible_party(session: Session, user: Principal, party_id: str) -> None:
    """404 unless the customer exists and the person may see them."""
    if not session.scalar(select(exists().where(Party.party_id == party_id,
                                                visible_parties(user)))):
        raise HTTPException(404, "no such customer")


def visible_task(session: Session, user: Principal, task_id: str) -> None:
    """404 unless the person may see the task: in their task scope, or (reviewers) about an
    application they may see."""
    if session.scalar(select(exists().where(Task.task_id == task_id, visible_tasks(user)))):
        return
    app_id = session.scalar(select(Task.application_id).where(Task.task_id == task_id))
    if app_id is None or not may(user, "review.read"):
        raise HTTPException(404, "no such task")
    visible_application(session, user, session.get(Application, app_id))
