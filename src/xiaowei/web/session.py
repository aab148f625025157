"""Who is using the workbench: the pages' view of :mod:`xiaowei.security`'s web sessions.

Why a module of its own: the pages ask only :func:`current_user` (a
:class:`~xiaowei.security.principal.Principal`, or None) and :func:`csrf_token`; how a session
is kept (a hashed cookie in ``web_session``, a CSRF token given at sign-in through
``POST /api/auth/session``) stays in the security package. Pages never see a password.

The CSRF token sits in a readable cookie that only this site's pages can read; every form
copies it into a hidden field, and :func:`csrf_ok` checks it against the session's stored
hash — so a page on another site cannot post as the signed-in person.
"""

from __future__ import annotations

from fastapi import Request

from xiaowei.security.principal import Principal
from xiaowei.security.roles import default_roles
from xiaowei.security.sessions import (
    COOKIE,
    CSRF_COOKIE,
    CSRF_FIELD,
    SessionError,
    csrf_matches,
    find_session,
)
from xiaowei.store.database import transaction

WebUser = Principal
__all__ = ["CSRF_FIELD", "WebUser", "csrf_ok", "csrf_token", "current_user", "role_label"]


def current_user(request: Request) -> Principal | None:
    """The signed-in person of this request, or None (no cookie, signed out, expired)."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    with transaction(request.app.state.engine) as session:
        try:
            user, _row = find_session(session, cookie)
        except SessionError:
            return None
        return Principal.of(user)


def csrf_token(request: Request) -> str:
    """The session's CSRF token as the sign-in handed it to the browser (readable cookie)."""
    return request.cookies.get(CSRF_COOKIE, "")


def csrf_ok(request: Request, token: str | None) -> bool:
    """Whether ``token`` is this session's CSRF token (checked against the stored hash)."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or not token:
        return False
    with transaction(request.app.state.engine) as session:
        try:
            _user, row = find_session(session, cookie)
        except SessionError:
            return False
        return csrf_matches(row, token)


def role_label(role: str, lang: str) -> str:
    """The role in the person's language (客户经理 / customer manager)."""
    found = default_roles().role(role)
    return found.zh if lang == "zh_CN" else found.en
