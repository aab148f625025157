"""Who is calling: a bearer token or a session cookie becomes a :class:`Principal`, and each
endpoint states the permission it needs (``require``).

Why here, once: every endpoint and page must authenticate the same way, and a cookie request
that changes state must carry the session's CSRF token — checked before the endpoint runs, so
a rejected request stores nothing. Forged, expired or revoked credentials are a 401, a missing
permission or CSRF token a 403; row-level scope is applied in each query
(:mod:`xiaowei.security.principal`), where a record outside it is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from xiaowei.security.principal import Principal
from xiaowei.security.sessions import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SessionError,
    csrf_matches,
    find_session,
)
from xiaowei.security.tokens import TokenError, verify_token
from xiaowei.store.database import transaction
from xiaowei.store.retry import retry_on_conflict

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def unauthorised(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _from_token(engine: Engine, bearer: str) -> Principal:
    # Retried on a write conflict: many requests arriving with one token all try to touch its
    # last use at once, and on SQLite all but one met "database is locked" (a 500, once 503).
    def attempt() -> Principal:
        with transaction(engine) as session:
            user, row = verify_token(session, bearer)
            return Principal.of(user, scopes=list(row.scopes or []))

    try:
        return retry_on_conflict(attempt, lambda message: HTTPException(
            503, message, headers={"Retry-After": "1"}))
    except TokenError as exc:
        raise unauthorised(str(exc)) from None


def _from_cookie(engine: Engine, cookie: str, csrf: str | None, unsafe: bool) -> Principal:
    with transaction(engine) as session:
        try:
            user, row = find_session(session, cookie)
        except SessionError as exc:
            raise unauthorised(str(exc)) from None
        if unsafe and not csrf_matches(row, csrf):
            raise HTTPException(403, f"CSRF token missing or wrong: send the {CSRF_HEADER} "
                                     f"header (or the {CSRF_FIELD} form field) given at sign-in")
        return Principal.of(user)


async def _csrf_presented(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get(CSRF_FIELD)
        return field if isinstance(field, str) else None
    return None


async def current_principal(request: Request,
                            bearer: Annotated[str | None, Depends(_bearer)]) -> Principal:
    """The caller: a bearer token (systems) or the session cookie (pages), else 401."""
    engine = engine_of(request)
    if bearer:
        principal = await run_in_threadpool(_from_token, engine, bearer)
    else:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise unauthorised("not signed in: send 'Authorization: Bearer <token>' "
                               "(POST /api/auth/token) or sign in (POST /api/auth/session)")
        unsafe = request.method in UNSAFE
        csrf = await _csrf_presented(request) if unsafe else None
        principal = await run_in_threadpool(_from_cookie, engine, cookie, csrf, unsafe)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Any:
    """A dependency giving the principal if it holds ``permission``, else a 403."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(permission):
            raise HTTPException(403, f"{principal.name} ({principal.role}) lacks permission "
                                     f"{permission!r}")
        return principal

    return Depends(check)


def require_read(resource: str) -> Any:
    """A dependency giving the principal if it may read some ``resource`` rows (any scope)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.scope(resource) is None:
            raise HTTPException(403, f"{principal.name} ({principal.role}) may not read "
                                     f"{resource}")
        return principal

    return Depends(check)
