"""`xiaowei users add|passwd|list|disable` and `xiaowei token create|revoke`: the people and
systems who sign in.

A new password is read from ``$XIAOWEI_NEW_PASSWORD`` when set (for scripts and vaults), else
generated and printed once — it is stored only as an argon2 hash and cannot be shown again.
A token's bearer text is likewise printed once. Every change is audited; who acts is ``--by``,
else ``$XIAOWEI_USER``, else the OS login. Refusals exit 2 with ``错误 error: …``.

``--json``: ``add`` / ``passwd`` → ``{name, role, branch, …, password?}`` (``password`` only
when generated); ``list`` → a JSON list of ``{name, display_name, role, branch, manager_id,
active, customers?}`` (``customers``: how many a customer manager holds); ``token create`` →
``{token_id, access_token, token_type, scopes, expires_at}``; ``token revoke`` →
``{token_id, revoked_at}``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from xiaowei.cli.output import current_user, err, fail, out, print_json
from xiaowei.config import get_settings
from xiaowei.security import audit
from xiaowei.security.passwords import PasswordError, check_password, generate_password
from xiaowei.security.roles import RoleError, default_roles
from xiaowei.security.tokens import TokenError, create_token, revoke_token
from xiaowei.security.users import (
    UserError,
    add_user,
    disable_user,
    list_users,
    set_password,
)
from xiaowei.store.database import make_engine, transaction
from xiaowei.store.migrate import current_revision, head_revision
from xiaowei.store.tables import AppUser

PASSWORD_ENV = "XIAOWEI_NEW_PASSWORD"

app = typer.Typer(help="用户 — users who sign in (roles, branches, passwords)",
                  no_args_is_help=True)
token_app = typer.Typer(help="令牌 — scoped bearer tokens for systems", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
By = Annotated[str | None, typer.Option("--by", help="who acts (default: $XIAOWEI_USER)")]


@contextmanager
def store() -> Iterator[Any]:
    """The migrated store; any refusal from the security layer becomes a clear exit 2."""
    url = get_settings().database_url
    if current_revision(url) != head_revision():
        fail("the transactional store is not at the latest schema: run `xiaowei db upgrade`")
    engine = make_engine(url)
    try:
        yield engine
    except (UserError, RoleError, PasswordError, TokenError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def _new_password() -> tuple[str, bool]:
    """(password, generated): ``$XIAOWEI_NEW_PASSWORD`` if set, else a generated one."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        try:
            return check_password(given), False
        except PasswordError as exc:
            fail(f"{PASSWORD_ENV}: {exc}")
    return generate_password(), True


def _show_password(doc: dict[str, Any], password: str, generated: bool, as_json: bool) -> None:
    if generated:
        doc["password"] = password
    if as_json:
        print_json(doc)
        return
    out.print(f"用户 user [bold]{escape(doc['name'])}[/] ({escape(str(doc.get('role', '')))})")
    if generated:
        out.print(f"初始密码（只显示一次）password, shown once: [bold]{escape(password)}[/]")
    else:
        out.print(f"密码取自 password taken from ${PASSWORD_ENV}")


@app.command("add")
def add(name: Annotated[str, typer.Argument(help="登录名 sign-in name, e.g. wang.li")],
        role: Annotated[str, typer.Option("--role", help="role from roles.yaml")],
        branch: Annotated[str | None, typer.Option("--branch", help="branch id")] = None,
        manager: Annotated[str | None, typer.Option(
            "--manager", help="customer_manager id (role customer_manager)")] = None,
        display_name: Annotated[str | None, typer.Option("--display-name")] = None,
        by: By = None, as_json: JsonFlag = False) -> None:
    """新增用户 — add a user with a role and branch."""
    password, generated = _new_password()
    with store() as engine:
        view = add_user(engine, name, role, password, branch=branch, manager=manager,
                        display_name=display_name, by=current_user(by))
        _show_password(view.to_json(), password, generated, as_json)


@app.command("passwd")
def passwd(name: Annotated[str, typer.Argument(help="登录名 sign-in name")],
           by: By = None, as_json: JsonFlag = False) -> None:
    """重设密码 — set a new password."""
    password, generated = _new_password()
    with store() as engine:
        set_password(engine, name, password, by=current_user(by))
        _show_password({"name": name.strip().lower()}, password, generated, as_json)


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="登录名 sign-in name")],
            by: By = None, as_json: JsonFlag = False) -> None:
    """停用用户 — disable a user: their sessions and tokens stop working at once."""
    with store() as engine:
        disable_user(engine, name, by=current_user(by))
    if as_json:
        print_json({"name": name.strip().lower(), "active": False})
    else:
        out.print(f"已停用 disabled [bold]{escape(name)}[/]")


@app.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """用户列表 — every user with role, branch and (for managers) customers held."""
    with store() as engine:
        views = list_users(engine)
    if as_json:
        sys.stdout.write(json.dumps([v.to_json() for v in views], ensure_ascii=False) + "\n")
        return
    roles = default_roles()
    table = Table("name", "role", "branch", "manager", "customers", "active")
    for v in views:
        role = roles.roles.get(v.role)
        table.add_row(escape(v.name), escape(f"{role.zh} {v.role}" if role else v.role),
                      v.branch or "—", v.manager_id or "—",
                      "—" if v.customers is None else str(v.customers),
                      "yes" if v.active else "no")
    out.print(table)


@token_app.command("create")
def token_create(name: Annotated[str, typer.Argument(help="the user the token acts as")],
                 scope: Annotated[list[str], typer.Option(
                     "--scope", help="'*', a permission or a resource; repeatable")],
                 days: Annotated[int, typer.Option("--days", min=1, max=366)] = 30,
                 by: By = None, as_json: JsonFlag = False) -> None:
    """签发令牌 — issue a scoped bearer token; its text is printed once."""
    with store() as engine, transaction(engine) as session:
        user = session.scalar(select(AppUser).where(AppUser.name == name.strip().lower()))
        if user is None or not user.active:
            raise UserError(f"no active user {name!r}")
        issued = create_token(session, user, scope, lifetime=dt.timedelta(days=days))
        audit.record(session, current_user(by), "token.create", ("token", issued.token_id),
                     {"user": user.name, "scopes": issued.scopes, "days": days})
    doc = {"token_id": issued.token_id, "access_token": issued.bearer, "token_type": "bearer",
           "scopes": issued.scopes, "expires_at": issued.expires_at.isoformat()}
    if as_json:
        print_json(doc)
    else:
        out.print(f"令牌 token [bold]{issued.token_id}[/] for {escape(user.name)}, "
                  f"expires {issued.expires_at:%Y-%m-%d %H:%M} UTC")
        out.print(f"（只显示一次 shown once）[bold]{escape(issued.bearer)}[/]")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="the token's id")],
                 by: By = None, as_json: JsonFlag = False) -> None:
    """吊销令牌 — revoke a token at once."""
    with store() as engine, transaction(engine) as session:
        row = revoke_token(session, token_id)
        audit.record(session, current_user(by), "token.revoke", ("token", token_id))
    if as_json:
        print_json({"token_id": token_id, "revoked_at": row.revoked_at})
    else:
        err.print(f"已吊销 revoked token {escape(token_id)}")
