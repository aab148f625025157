"""Helpers the security and API tests share: users, tokens, audit counts (a plain module, not
conftest, so tests import it like any other code)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select

from xiaowei.security.tokens import create_token
from xiaowei.security.users import add_user
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser, AuditLog

PASSWORD = "correct-horse-battery-staple"


def user(engine: Engine, name: str, role: str, *, branch: str | None = None,
         manager: str | None = None) -> None:
    add_user(engine, name, role, PASSWORD, branch=branch, manager=manager, by="test")


def token(engine: Engine, name: str, scopes: list[str] | None = None,
          lifetime: dt.timedelta = dt.timedelta(hours=1)) -> str:
    """A bearer token's text for user ``name`` (made directly: no argon2 round trip)."""
    with transaction(engine) as session:
        row = session.scalar(select(AppUser).where(AppUser.name == name))
        assert row is not None, name
        return create_token(session, row, scopes or ["*"], lifetime=lifetime).bearer


def auth(engine: Engine, name: str, scopes: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(engine, name, scopes)}"}


def audit_count(engine: Engine, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditLog)
    if action is not None:
        query = query.where(AuditLog.action == action)
    with engine.connect() as connection:
        return connection.scalar(query) or 0


def stored(engine: Engine) -> dict[str, int]:
    """Rows in every table a request could write to — equal before and after a refusal."""
    from xiaowei.store.tables import (
        Application,
        ApplicationIntake,
        Decision,
        DecisionLog,
        QuarantinedRow,
        Task,
    )

    tables = (Application, ApplicationIntake, Decision, DecisionLog, Task, QuarantinedRow,
              AuditLog)
    with engine.connect() as connection:
        return {t.__tablename__: connection.scalar(select(func.count()).select_from(t)) or 0
                for t in tables}
