"""Users of the platform: add, set a password, disable, list — the logic behind
``xiaowei users``; every change is audited in the same transaction.

Why a user's branch and manager link are checked against the role (``roles.yaml``): the
row-level scope is computed from them, so a customer manager without a manager row would see
nothing, and an approver without a branch nothing — a mistake better refused at creation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaowei.security import audit
from xiaowei.security.passwords import hash_password
from xiaowei.security.principal import Principal, visible_parties
from xiaowei.security.roles import RoleError, default_roles
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser, Branch, CustomerManager, Party

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class UserError(ValueError):
    """A user change refused: bad name, unknown role, branch or manager, name taken …"""


@dataclass(frozen=True)
class UserView:
    name: str
    display_name: str
    role: str
    branch: str | None
    manager_id: str | None
    active: bool
    customers: int | None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "display_name": self.display_name,
                               "role": self.role, "branch": self.branch,
                               "manager_id": self.manager_id, "active": self.active}
        if self.customers is not None:
            doc["customers"] = self.customers
        return doc


def check_name(name: str) -> str:
    text = (name or "").strip().lower()
    if not NAME.fullmatch(text):
        raise UserError(f"user name {name!r} is not allowed: 2–64 lower-case letters, digits, "
                        "'.', '_' or '-', starting with a letter or digit (e.g. 'wang.li')")
    return text


def _placement(session: Session, role: str, branch: str | None,
               manager: str | None) -> tuple[str | None, str | None]:
    try:
        spec = default_roles().role(role)
    except RoleError as exc:
        raise UserError(str(exc)) from None
    if manager is not None:
        if not spec.needs_manager:
            raise UserError(f"role {role!r} is not linked to a customer manager; drop --manager")
        row = session.get(CustomerManager, manager)
        if row is None:
            raise UserError(f"no customer manager {manager!r} in the store")
        if branch is not None and branch != row.branch_id:
            raise UserError(f"manager {manager!r} belongs to branch {row.branch_id!r}, "
                            f"not {branch!r}")
        branch = row.branch_id
    elif spec.needs_manager:
        raise UserError(f"role {role!r} needs --manager M (the customer_manager row whose "
                        "customers this user holds)")
    if branch is not None and session.get(Branch, branch) is None:
        raise UserError(f"no branch {branch!r} in the store")
    if spec.needs_branch and branch is None:
        raise UserError(f"role {role!r} needs --branch BRANCH")
    return branch, manager


def add_user(engine: Engine, name: str, role: str, password: str, *, branch: str | None = None,
             manager: str | None = None, display_name: str | None = None,
             by: str = "admin") -> UserView:
    """Create a user; :class:`UserError` when the name is taken or the placement is wrong."""
    key = check_name(name)
    digest = hash_password(password)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        if session.scalar(select(AppUser).where(AppUser.name == key)) is not None:
            raise UserError(f"user {key!r} already exists (use 'xiaowei users passwd')")
        branch, manager = _placement(session, role, branch, manager)
        if manager and session.scalar(select(AppUser).where(AppUser.manager_id == manager)):
            raise UserError(f"customer manager {manager!r} already has a user")
        session.add(AppUser(user_id=f"U{uuid.uuid4().hex[:20]}", name=key,
                            display_name=(display_name or key)[:64], role=role,
                            branch_id=branch, manager_id=manager, password_hash=digest,
                            active=True, created_at=now, password_changed_at=now))
        session.flush()
        audit.record(session, by, "user.add", ("user", key),
                     {"role": role, "branch": branch, "manager_id": manager}, at=now)
    return UserView(key, display_name or key, role, branch, manager, True, None)


def _user(session: Session, name: str) -> AppUser:
    found = session.scalar(select(AppUser).where(AppUser.name == check_name(name)))
    if found is None:
        raise UserError(f"no user {name!r}")
    return found


def set_password(engine: Engine, name: str, password: str, *, by: str = "admin") -> None:
    digest = hash_password(password)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        user = _user(session, name)
        user.password_hash, user.password_changed_at = digest, now
        audit.record(session, by, "user.passwd", ("user", user.name), at=now)


def disable_user(engine: Engine, name: str, *, by: str = "admin") -> None:
    """Disable (never delete: the audit log names them); their tokens and sessions stop."""
    with transaction(engine) as session:
        user = _user(session, name)
        user.active = False
        audit.record(session, by, "user.disable", ("user", user.name))


def list_users(engine: Engine) -> list[UserView]:
    """Every user by name; a customer manager's row counts the customers they hold."""
    views = []
    with transaction(engine) as session:
        for user in session.scalars(select(AppUser).order_by(AppUser.name)):
            customers = None
            if user.manager_id is not None:
                principal = Principal.of(user)
                customers = session.scalar(select(func.count()).select_from(Party)
                                           .where(visible_parties(principal)))
            views.append(UserView(user.name, user.display_name, user.role, user.branch_id,
                                  user.manager_id, user.active, customers))
    return views
