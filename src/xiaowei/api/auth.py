"""`/api/auth`: sign in (OAuth2 password flow for systems, a form for browsers), sign out,
and who am I. The rules live in :mod:`xiaowei.security` (sign-in, tokens, sessions)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from xiaowei.api.deps import CurrentPrincipal, engine_of
from xiaowei.security import audit
from xiaowei.security.roles import RoleError, default_roles
from xiaowei.security.sessions import (
    COOKIE,
    CSRF_COOKIE,
    close_session,
    cookie_attributes,
    open_session,
)
from xiaowei.security.signin import SignInFailed, sign_in
from xiaowei.security.throttle import Throttled
from xiaowei.security.tokens import create_token, revoke_token
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser

router = APIRouter(prefix="/api/auth", tags=["auth"])
TOKEN_LIFETIME = dt.timedelta(hours=12)


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _signed_in(request: Request, name: str, password: str) -> AppUser:
    try:
        return sign_in(engine_of(request), name, password, _remote(request))
    except Throttled as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) \
            from None
    except SignInFailed as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


@router.post("/token")
def token(request: Request,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    """OAuth2 password flow: ``username``, ``password`` (and optional ``scope``, space
    separated; default ``*``: all of the role's permissions) → a bearer token for 12 hours."""
    scopes = form.scopes or ["*"]
    try:
        default_roles().check_scopes(scopes)
    except RoleError as exc:
        raise HTTPException(400, str(exc)) from None
    user = _signed_in(request, form.username, form.password)
    with transaction(engine_of(request)) as session:
        issued = create_token(session, session.get_one(AppUser, user.user_id), scopes,
                              lifetime=TOKEN_LIFETIME)
    return {"access_token": issued.bearer, "token_type": "bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()), "scope": " ".join(scopes)}


def cross_site_refusal(request: Request) -> str | None:
    """Why a browser request came from another site, or None when it did not.

    Login CSRF: a page elsewhere could post its own user name and password here and sign the
    victim's browser into the attacker's account (what the victim then types lands there).
    There is no session yet to hold a CSRF token, so the browser's own word is used, as OWASP
    advises: ``Sec-Fetch-Site`` (sent by every current browser) and ``Origin`` (sent on every
    cross-origin POST) must name this host. Systems posting without either header (curl, the
    bank's channel systems) are not browsers and cannot be lured."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {site!r}"
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        if origin == "null" or urlsplit(origin).netloc != host:
            return f"Origin {origin[:80]!r} is not this site ({host})"
    return None


@router.post("/session")
def session_login(request: Request, username: Annotated[str, Form()],
                  password: Annotated[str, Form()]) -> JSONResponse:
    """Web sign-in: sets the session cookie (Secure, HttpOnly, SameSite=Strict) and returns
    the CSRF token that every later POST of this session must carry. A sign-in posted from
    another site is refused (403) before the password is checked (login CSRF)."""
    refusal = cross_site_refusal(request)
    if refusal:
        raise HTTPException(403, f"sign-in refused: {refusal} (sign in on this site's page)")
    user = _signed_in(request, username, password)
    with transaction(engine_of(request)) as session:
        opened = open_session(session, session.get_one(AppUser, user.user_id))
    reply = JSONResponse({"name": user.name, "role": user.role,
                          "csrf_token": opened.csrf_token,
                          "expires_at": opened.expires_at.isoformat()})
    reply.set_cookie(COOKIE, opened.cookie, **cookie_attributes(opened.expires_at))
    reply.set_cookie(CSRF_COOKIE, opened.csrf_token,
                     **cookie_attributes(opened.expires_at, http_only=False))
    return reply


@router.post("/logout", status_code=204, response_class=Response)
async def logout(request: Request, principal: CurrentPrincipal) -> Response:
    """Sign out: ends the session (cookie) or revokes the token (bearer)."""
    auth = request.headers.get("authorization", "")
    engine = engine_of(request)

    def end() -> None:
        with transaction(engine) as session:
            if auth.lower().startswith("bearer "):
                token_id = auth.split(None, 1)[1].removeprefix("xw_").split(".", 1)[0]
                revoke_token(session, token_id)
            else:
                close_session(session, request.cookies.get(COOKIE, ""))
            audit.record(session, principal.name, "logout", ("user", principal.user_id))

    await run_in_threadpool(end)
    reply = Response(status_code=204)
    reply.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    reply.delete_cookie(CSRF_COOKIE, path="/", secure=True, samesite="strict")
    return reply


@router.get("/me")
def me(principal: CurrentPrincipal) -> dict[str, Any]:
    """The caller: name, role, branch, manager link and permissions."""
    role = default_roles().role(principal.role)
    return {"user_id": principal.user_id, "name": principal.name, "role": principal.role,
            "role_label": {"zh": role.zh, "en": role.en}, "branch": principal.branch_id,
            "manager_id": principal.manager_id, "permissions": sorted(principal.permissions)}
