"""Demo users for ``make demo``: one user per role, with generated passwords shown once.

Why a function here rather than in the demo command: the demo must create users exactly as
an administrator would (hashed passwords, audited, the customer manager linked to a real
manager row of its branch), so it goes through :mod:`xiaowei.security.users`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from xiaowei.security.passwords import generate_password
from xiaowei.security.roles import default_roles
from xiaowei.security.users import UserError, add_user, set_password
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser, CustomerManager

DEMO_ACTOR = "demo"


def _first_manager(engine: Engine, branches: Sequence[str] | None) -> tuple[str, str]:
    """(branch, manager): the first given branch that has a customer manager."""
    with transaction(engine) as session:
        query = select(CustomerManager.branch_id, CustomerManager.manager_id).order_by(
            CustomerManager.branch_id, CustomerManager.manager_id)
        rows = session.execute(query).all()
    order = list(branches) if branches else sorted({b for b, _ in rows})
    for branch in order:
        for row_branch, manager in rows:
            if row_branch == branch:
                return branch, manager
    raise UserError("no customer manager in the given branches: load the bank first")


def create_demo_users(engine: Engine,
                      branches: Sequence[str] | None = None) -> dict[str, str]:
    """Create (or, on a rerun, reset the password of) ``demo.<role>`` for every role, placed
    in the first of ``branches`` with a customer manager; returns ``{name: password}`` —
    the only time the passwords are known, so print them once."""
    branch, manager = _first_manager(engine, branches)
    passwords: dict[str, str] = {}
    for role in default_roles().roles.values():
        name = f"demo.{role.name}".replace("_", "-")
        password = generate_password()
        with transaction(engine) as session:
            exists = session.scalar(select(AppUser.user_id).where(AppUser.name == name))
        if exists:
            set_password(engine, name, password, by=DEMO_ACTOR)
        else:
            add_user(engine, name, role.name, password,
                     branch=branch if role.needs_branch or role.needs_manager else None,
                     manager=manager if role.needs_manager else None,
                     display_name=f"{role.zh} {role.en} (demo)", by=DEMO_ACTOR)
        passwords[name] = password
    return passwords
