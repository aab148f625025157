"""Engines and transactions for the transactional store (SQLite embedded, PostgreSQL at scale).

Why a helper and not bare ``create_engine``: SQLite ignores foreign keys unless told on every
connection, and loads must be all-or-nothing; doing both here means no caller forgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from xiaowei.config import get_settings

SQLITE_BUSY_TIMEOUT_MS = 5000
BEGIN_IMMEDIATE = "xiaowei_sqlite_begin_immediate"  # an execution option (see for_writing)


def normalise_url(url: str | URL) -> URL:
    """Give a bare ``postgresql://`` URL the psycopg 3 driver, which is the one we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module, which would otherwise begin
    # only before DML: SAVEPOINTs and DDL then roll back like on PostgreSQL (see _on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets the web pages read while a load writes; in-memory databases ignore it.
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def for_writing(engine: Engine) -> Engine:
    """``engine`` for a transaction that reads, then writes (intake's).

    Why: SQLite's plain BEGIN takes the write lock only at the first write; if another writer
    committed since this transaction's first read, that write fails at once with "database is
    locked" — the busy timeout cannot help, the snapshot is stale. BEGIN IMMEDIATE takes the
    lock first, so concurrent writers wait their turn (up to the busy timeout) instead of
    failing and retrying. PostgreSQL ignores the option.
    """
    return engine.execution_options(**{BEGIN_IMMEDIATE: True})


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: the configured database), ready for xiaowei's rules."""
    parsed = normalise_url(url if url is not None else get_settings().database_url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit, so a load can return what it wrote."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on any exception.

    Loads run inside one of these so that a failure half-way leaves nothing half-loaded.
    """
    with session_factory(engine)() as session, session.begin():
        yield session
