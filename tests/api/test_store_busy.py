"""A store busy with concurrent writers: writers wait, and a lock that outlasts the retries is a
503 with Retry-After (nothing stored, try again), never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from tests.api_support import model_dirs

from xiaowei.api.problems import MEDIA_TYPE, install_problem_handlers
from xiaowei.origination.intake import StoreBusy, submit
from xiaowei.origination.intake_decider import open_intake_decider
from xiaowei.store.database import SQLITE_BUSY_TIMEOUT_MS, make_engine
from xiaowei.store.tables import ApplicationIntake


def _app(error: Exception) -> FastAPI:
    app = FastAPI()

    @app.post("/write")
    def write() -> None:
        raise error

    install_problem_handlers(app)
    return app


@pytest.mark.parametrize("error", [
    OperationalError("INSERT …", {}, Exception("database is locked")),
    StoreBusy("the store stayed busy with concurrent changes after 10 tries; try again"),
])
def test_a_lock_is_a_503_with_retry_after(error: Exception) -> None:
    with TestClient(_app(error), raise_server_exceptions=False) as client:
        res = client.post("/write")
    assert res.status_code == 503, res.text
    assert res.headers["Retry-After"] == "1"
    assert res.headers["content-type"].startswith(MEDIA_TYPE)
    assert res.json()["type"] == "urn:xiaowei:problem:store-busy"
    assert "locked" not in res.text  # the database's words stay in the server


def test_another_operational_error_stays_a_500() -> None:
    error = OperationalError("SELECT …", {}, Exception("no such table: secret_table"))
    with TestClient(_app(error), raise_server_exceptions=False) as client:
        res = client.post("/write")
    assert res.status_code == 500 and "secret_table" not in res.text


def test_sqlite_writers_wait_instead_of_failing() -> None:
    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    engine.dispose()
    assert timeout == SQLITE_BUSY_TIMEOUT_MS >= 1000


def test_concurrent_submissions_all_succeed(pipeline_store: Engine,
                                            pipeline_bank: dict[str, Any]) -> None:
    """16 threads deciding and writing at once (SQLite file and PostgreSQL): all stored."""
    templates = pipeline_bank["apps"][:16]
    failures: list[BaseException] = []
    with open_intake_decider(pipeline_bank["analytic"],
                             model_dirs=model_dirs(pipeline_bank)) as exact:
        assert not exact.decider.concurrent  # one online runner: intake serialises its calls
    with open_intake_decider(pipeline_bank["analytic"], model_dirs=model_dirs(pipeline_bank),
                             serving=True) as opened:
        assert opened.decider.concurrent  # intake does not serialise these decisions

        def one(i: int) -> None:
            try:
                for n in range(2):
                    doc = {**templates[i], "application_id": f"BUSY-{i}-{n}"}
                    assert submit(pipeline_store, opened.decider, doc, user="ops.admin",
                                  party_key=opened.party_key).created
            except BaseException as exc:  # collected and asserted below
                failures.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(templates))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with pipeline_store.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(ApplicationIntake).where(
            ApplicationIntake.application_id.startswith("BUSY-")))
    assert failures == []
    assert stored == 2 * len(templates)


def test_a_writing_transaction_holds_sqlite_write_lock_from_begin(tmp_path: Any) -> None:
    """for_writing: the lock is taken at BEGIN (a later writer waits its turn), so a
    read-then-write transaction cannot fail on a stale snapshot; plain BEGIN stays shared."""
    import sqlite3

    from xiaowei.store.database import for_writing

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")

    def other_can_write() -> bool:
        other = sqlite3.connect(tmp_path / "lock.db", timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    with engine.begin() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert other_can_write()
    with for_writing(engine).begin() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert not other_can_write()
    engine.dispose()
