"""Retrying a write that met a concurrent writer — the same rule for every versioned store.

Why: two people registering a model or submitting a pack at the same moment both read "the
next version is 4"; the database's unique key lets one win and the other fail with a conflict.
A fresh transaction then sees version 4 taken and takes 5. Only conflicts are retried
(unique violations, serialisation failures, deadlocks, SQLite's "database is locked"); any
other error is a real fault and surfaces at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

T = TypeVar("T")
RETRIES = 10


def is_write_conflict(exc: DBAPIError) -> bool:
    """A conflict with a concurrent writer, which a fresh transaction may not meet again."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig)
    if isinstance(exc, IntegrityError):
        return sqlstate == "23505" or "UNIQUE constraint failed" in text
    if isinstance(exc, OperationalError):
        return sqlstate in {"40001", "40P01"} or "database is locked" in text
    return False


def retry_on_conflict(
    attempt: Callable[[], T],
    busy: Callable[[str], Exception],
    can_retry: Callable[[], bool] = lambda: True,
    retries: int = RETRIES,
) -> T:
    """Run ``attempt`` (one whole transaction) until it does not meet a concurrent writer.

    ``busy`` makes the caller's own error when every try met one; ``can_retry`` lets the
    caller decline a retry (e.g. when the conflict means "the same content already exists").
    """
    for n in range(retries):
        try:
            return attempt()
        except DBAPIError as exc:
            if not is_write_conflict(exc) or not can_retry():
                raise
            if n == retries - 1:
                raise busy(f"the store stayed busy with concurrent changes after {retries} "
                           "tries; try again") from exc
            time.sleep(random.uniform(0, 0.005 * 2**n))
    raise AssertionError("unreachable")  # pragma: no cover
