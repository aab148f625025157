"""Scoped, revocable bearer tokens for systems (and the OAuth2 password flow).

Why only a hash is stored: a bearer token is a password that a program holds; whoever copies
the ``api_token`` table must not be able to use one. The text handed out once is
``xw_<token_id>.<secret>``: the id finds the row without scanning, the secret is compared by
its SHA-256 in constant time. A token's scopes narrow its user's permissions (never widen
them); it expires, and can be revoked at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from xiaowei.security.roles import default_roles
from xiaowei.store.tables import ApiToken, AppUser

PREFIX = "xw_"
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOUCH_EVERY = dt.timedelta(minutes=5)  # how stale ``last_used_at`` may get (saves writes)


class TokenError(ValueError):
    """A bearer token that signs nobody in (forged, unknown, expired, revoked, disabled user);
    the message says which, for an HTTP 401."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``bearer`` is the text to hand out — shown once, never stored."""

    token_id: str
    bearer: str
    scopes: list[str]
    expires_at: dt.datetime


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: AppUser, scopes: list[str], *,
                 lifetime: dt.timedelta = dt.timedelta(days=DEFAULT_DAYS),
                 now: dt.datetime | None = None) -> IssuedToken:
    """Issue a token for ``user`` with ``scopes`` (``*``, permissions or resources)."""
    if not scopes:
        raise TokenError("a token needs at least one scope (use '*' for all of the role's)")
    default_roles().check_scopes(scopes)
    if not dt.timedelta(0) < lifetime <= dt.timedelta(days=MAX_DAYS):
        raise TokenError(f"a token lives between a moment and {MAX_DAYS} days, not {lifetime}")
    now = now or dt.datetime.now(dt.UTC)
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = ApiToken(token_id=token_id, user_id=user.user_id, secret_sha256=_sha256(secret),
                   scopes=list(scopes), created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return IssuedToken(token_id, f"{PREFIX}{token_id}.{secret}", list(scopes), row.expires_at)


def verify_token(session: Session, bearer: str,
                 now: dt.datetime | None = None) -> tuple[AppUser, ApiToken]:
    """The user and token row behind ``bearer``; :class:`TokenError` saying why not."""
    now = now or dt.datetime.now(dt.UTC)
    body = bearer[len(PREFIX):] if bearer.startswith(PREFIX) else ""
    token_id, _, secret = body.partition(".")
    row = session.get(ApiToken, token_id) if token_id and secret else None
    if row is None or not hmac.compare_digest(row.secret_sha256, _sha256(secret)):
        raise TokenError("the bearer token is not valid (unknown or forged)")
    if row.revoked_at is not None:
        raise TokenError(f"the bearer token {token_id} was revoked")
    if row.expires_at <= now:
        raise TokenError(f"the bearer token {token_id} expired at {row.expires_at:%Y-%m-%d %H:%M}"
                         " UTC")
    user = session.get(AppUser, row.user_id)
    if user is None or not user.active:
        raise TokenError("the token's user is disabled")
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return user, row


def revoke_token(session: Session, token_id: str,
                 now: dt.datetime | None = None) -> ApiToken:
    """Revoke at once (idempotent: revoking twice keeps the first time)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(f"no token {token_id!r}")
    if row.revoked_at is None:
        row.revoked_at = now or dt.datetime.now(dt.UTC)
    return row
