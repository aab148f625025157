"""Sign-in with a name and password: throttled, audited, rehashing old password hashes.

Why one function for both doors (the OAuth2 token endpoint and the web form): the rules —
throttle first, same time for unknown names as for wrong passwords, every attempt counted and
audited — must not differ between them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from xiaowei.security import audit, throttle
from xiaowei.security.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser


class SignInFailed(ValueError):
    """Wrong name or password, or a disabled user (one message: nothing is revealed)."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误 · wrong user name or password")


def sign_in(engine: Engine, name: str, password: str, remote: str | None = None,
            now: dt.datetime | None = None) -> AppUser:
    """The user if ``name`` and ``password`` match an active user.

    Raises :class:`~xiaowei.security.throttle.Throttled` (too many failures; the password is
    not even checked) or :class:`SignInFailed`. Each attempt is counted and audited
    (``login.ok``, ``login.failed``, ``login.throttled``).
    """
    now = now or dt.datetime.now(dt.UTC)
    key = throttle.normalise(name or "")
    try:
        with transaction(engine) as session:
            throttle.check(session, key, now)
            user = session.scalar(select(AppUser).where(AppUser.name == key))
    except throttle.Throttled as exc:
        with transaction(engine) as session:
            audit.record(session, key or "-", "login.throttled", ("user", key),
                         {"remote": remote, "retry_after": exc.retry_after}, at=now)
        raise
    ok = verify_password(user.password_hash if user else dummy_hash(), password or "")
    ok = ok and user is not None and user.active
    with transaction(engine) as session:
        throttle.note(session, key, ok, remote, now)
        if not ok or user is None:
            reason = "unknown user" if user is None else (
                "disabled" if not user.active else "wrong password")
            audit.record(session, key or "-", "login.failed", ("user", key),
                         {"remote": remote, "reason": reason}, at=now)
        else:
            if needs_rehash(user.password_hash):
                stored = session.get_one(AppUser, user.user_id)
                stored.password_hash = hash_password(password)
            audit.record(session, user.name, "login.ok", ("user", user.user_id),
                         {"remote": remote}, at=now)
    if not ok or user is None:
        raise SignInFailed()
    return user
