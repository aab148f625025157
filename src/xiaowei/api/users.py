"""`/api/users`: the platform's users — list (with the customers a customer manager holds),
add, disable, reset a password — through :mod:`xiaowei.security.users`, which audits each
change in its transaction.

Who: changes need ``users:manage`` (the administrator); reading needs it or a ``staff`` read
scope — a supervisor sees their branch's users, the auditor all. Why passwords are generated
here and shown once: an administrator who types a password knows it (and tends to reuse one);
a generated one is handed to the user, who changes it, and the store keeps only its hash.
An administrator may not disable themselves: the last administrator locked out is a call to
the database team.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xiaowei.api.deps import CurrentPrincipal, engine_of, require
from xiaowei.api.paging import Page, PageNo, PageSize, page_of
from xiaowei.security.passwords import generate_password
from xiaowei.security.principal import Principal
from xiaowei.security.roles import default_roles
from xiaowei.security.users import (
    UserError,
    UserView,
    add_user,
    check_name,
    disable_user,
    list_users,
    set_password,
)

router = APIRouter(prefix="/api/users", tags=["users"])
Manager = Annotated[Principal, require("users:manage")]


def _user_reader(principal: CurrentPrincipal) -> Principal:
    if not principal.has("users:manage") and principal.scope("staff") is None:
        raise HTTPException(403, f"{principal.name} ({principal.role}) lacks permission "
                                 "'users:manage' or a 'staff:read' scope")
    return principal


Reader = Annotated[Principal, Depends(_user_reader)]


class RoleLabel(BaseModel):
    zh: str
    en: str


class UserItem(BaseModel):
    """A user; ``customers``: how many customers a customer manager holds."""

    id: str = Field(description="the sign-in name")
    display_name: str
    role: str
    role_label: RoleLabel
    branch: str | None
    manager_id: str | None
    active: bool
    customers: int | None


class NewUser(BaseModel):
    name: str = Field(min_length=2, max_length=64, description="lower-case sign-in name")
    role: str = Field(min_length=1, max_length=32)
    branch: str | None = Field(None, max_length=32)
    manager: str | None = Field(None, max_length=32,
                                description="the customer_manager row (customer managers)")
    display_name: str | None = Field(None, max_length=64)


class Issued(BaseModel):
    """A user and their new password — shown this once, never stored in clear."""

    user: UserItem
    password: str


def _item(view: UserView) -> UserItem:
    roles = default_roles().roles
    role = roles.get(view.role)
    label = RoleLabel(zh=role.zh, en=role.en) if role else RoleLabel(zh=view.role, en=view.role)
    return UserItem(id=view.name, display_name=view.display_name, role=view.role,
                    role_label=label, branch=view.branch, manager_id=view.manager_id,
                    active=view.active, customers=view.customers)


def _refused(exc: UserError) -> HTTPException:
    text = str(exc)
    if text.startswith("no user"):
        return HTTPException(404, text)
    if "already" in text:
        return HTTPException(409, text)
    return HTTPException(422, text)


@router.get("")
def users(request: Request, principal: Reader, page: PageNo = 1,
          size: PageSize = 50) -> Page[UserItem]:
    """Users by name: all for the administrator and auditor, the branch's for a supervisor."""
    views = list_users(engine_of(request))
    if not principal.has("users:manage") and principal.scope("staff") != "all":
        views = [v for v in views if principal.branch_id and v.branch == principal.branch_id]
    return page_of([_item(v) for v in views], page, size)


def _find(request: Request, name: str) -> UserView:
    try:
        key = check_name(name)
    except UserError:
        raise HTTPException(404, f"no user {name!r}") from None
    found = next((v for v in list_users(engine_of(request)) if v.name == key), None)
    if found is None:
        raise HTTPException(404, f"no user {name!r}")
    return found


@router.post("", status_code=201)
async def add(request: Request, principal: Manager, body: Annotated[NewUser, Body()]) -> Issued:
    """Add a user with a generated password (shown once); audited as ``user.add``."""
    password = generate_password()
    try:
        view = await run_in_threadpool(
            lambda: add_user(engine_of(request), body.name, body.role, password,
                             branch=body.branch, manager=body.manager,
                             display_name=body.display_name, by=principal.name))
    except UserError as exc:
        raise _refused(exc) from None
    return Issued(user=_item(_find(request, view.name)), password=password)


@router.post("/{name}/disable")
async def disable(request: Request, name: str, principal: Manager) -> UserItem:
    """Disable a user (never deleted: the audit log names them); their tokens stop working."""
    view = _find(request, name)
    if view.name == principal.name:
        raise HTTPException(409, "an administrator may not disable themselves")
    await run_in_threadpool(disable_user, engine_of(request), view.name, by=principal.name)
    return _item(_find(request, view.name))


@router.post("/{name}/password")
async def reset_password(request: Request, name: str, principal: Manager) -> Issued:
    """Give the user a new generated password (shown once); audited as ``user.passwd``."""
    view = _find(request, name)
    password = generate_password()
    await run_in_threadpool(set_password, engine_of(request), view.name, password,
                            by=principal.name)
    return Issued(user=_item(view), password=password)
