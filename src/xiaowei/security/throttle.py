"""Sign-in throttling: too many failures for one name → wait (HTTP 429, ``Retry-After``).

Why from the ``login_attempt`` table and not a counter in memory: the bank runs several
server replicas, and a password-guessing client must not get N × 5 tries by spreading them.
Counting is per name, whether the name exists or not (so throttling does not reveal which
names exist); a successful sign-in starts the count afresh.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaowei.store.tables import LoginAttempt

LIMIT = 5
WINDOW = dt.timedelta(minutes=15)


class Throttled(Exception):
    """Too many recent failures; ``retry_after`` seconds until the next try is counted."""

    def __init__(self, name: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins for {name!r}; try again in "
                         f"{retry_after} seconds")


def normalise(name: str) -> str:
    return name.strip().lower()[:64]


def check(session: Session, name: str, now: dt.datetime | None = None, *,
          limit: int = LIMIT, window: dt.timedelta = WINDOW) -> None:
    """Raise :class:`Throttled` when ``name`` has ``limit`` failures within ``window`` since
    its last success."""
    now = now or dt.datetime.now(dt.UTC)
    key = normalise(name)
    last_ok = session.scalar(select(func.max(LoginAttempt.at))
                             .where(LoginAttempt.name == key, LoginAttempt.ok.is_(True)))
    since = now - window if last_ok is None else max(now - window, last_ok)
    failures = list(session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.name == key, LoginAttempt.ok.is_(False),
                                      LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc()).limit(limit)))
    if len(failures) >= limit:
        wait = (failures[limit - 1] + window - now).total_seconds()
        raise Throttled(key, max(1, math.ceil(wait)))


def note(session: Session, name: str, ok: bool, remote: str | None,
         now: dt.datetime | None = None) -> None:
    """Record one attempt (in the caller's transaction)."""
    session.add(LoginAttempt(name=normalise(name), at=now or dt.datetime.now(dt.UTC), ok=ok,
                             remote=(remote or None) and remote[:64]))
