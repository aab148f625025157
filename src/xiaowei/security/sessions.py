"""Web sessions: a secure cookie that signs a browser in, and its CSRF token.

Why a server-side session and a synchronizer token: a cookie is sent by the browser with
every request — including one a hostile page makes it send — so a request that changes
something must also carry a secret that only our own pages know: the CSRF token, issued at
sign-in, kept (as a hash) beside the session, and sent back in the ``X-CSRF-Token`` header or
the ``csrf_token`` form field. The cookie itself is ``Secure`` (TLS only), ``HttpOnly``
(scripts cannot read it) and ``SameSite=Strict`` (other sites cannot make the browser send
it). The CSRF token is also set as a readable cookie so pages' scripts can copy it into the
header (double submit); it is checked against the session's hash, not against that cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xiaowei.store.tables import AppUser, WebSession

COOKIE = "xiaowei_session"
CSRF_COOKIE = "xiaowei_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LIFETIME = dt.timedelta(hours=8)  # one working day; sign in again tomorrow


class SessionError(ValueError):
    """A cookie that signs nobody in (unknown, expired, signed out, disabled user)."""


@dataclass(frozen=True)
class NewSession:
    """What the browser receives at sign-in (the cookie value and CSRF token, shown once)."""

    cookie: str
    csrf_token: str
    expires_at: dt.datetime


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_session(session: Session, user: AppUser,
                 now: dt.datetime | None = None) -> NewSession:
    now = now or dt.datetime.now(dt.UTC)
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(session_id=_sha256(cookie), user_id=user.user_id,
                           csrf_sha256=_sha256(csrf), created_at=now, expires_at=now + LIFETIME))
    session.flush()
    return NewSession(cookie, csrf, now + LIFETIME)


def find_session(session: Session, cookie: str,
                 now: dt.datetime | None = None) -> tuple[AppUser, WebSession]:
    """The user and session row behind a cookie value; :class:`SessionError` otherwise."""
    now = now or dt.datetime.now(dt.UTC)
    row = session.get(WebSession, _sha256(cookie)) if cookie else None
    if row is None or row.revoked_at is not None:
        raise SessionError("the session is not valid (signed out or unknown); sign in again")
    if row.expires_at <= now:
        raise SessionError("the session expired; sign in again")
    user = session.get(AppUser, row.user_id)
    if user is None or not user.active:
        raise SessionError("the session's user is disabled")
    return user, row


def csrf_matches(row: WebSession, presented: str | None) -> bool:
    """Whether the request carried this session's CSRF token (compared in constant time)."""
    return bool(presented) and hmac.compare_digest(row.csrf_sha256, _sha256(presented or ""))


def close_session(session: Session, cookie: str, now: dt.datetime | None = None) -> bool:
    """Sign the browser out; False when there was no open session."""
    row = session.get(WebSession, _sha256(cookie)) if cookie else None
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now or dt.datetime.now(dt.UTC)
    return True


def cookie_attributes(expires_at: dt.datetime, *, http_only: bool = True) -> dict[str, Any]:
    """Attributes for ``Response.set_cookie``: Secure, HttpOnly, SameSite=Strict, path /."""
    max_age = max(0, int((expires_at - dt.datetime.now(dt.UTC)).total_seconds()))
    return {"max_age": max_age, "path": "/", "secure": True, "httponly": http_only,
            "samesite": "strict"}
