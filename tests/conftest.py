"""Fixtures shared by every test: a private XIAOWEI_HOME, and real databases.

PostgreSQL is never skipped: if it cannot start, the tests that need it fail with the
script's output, because a store proven only on SQLite is not proven for a bank.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from xiaowei.store.database import make_engine

REPO = Path(__file__).resolve().parents[1]

# In CI the examples are fixed (derandomised), so a run fails only for a reason a rerun
# reproduces; developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
PG_SCRIPT = REPO / "scripts" / "pg_test_cluster.sh"


@pytest.fixture(autouse=True)
def xiaowei_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep key files, databases and settings of every test inside its own tmp_path."""
    home = tmp_path / "xiaowei-home"
    monkeypatch.setenv("XIAOWEI_HOME", str(home))
    for name in ("XIAOWEI_DATABASE_URL", "XIAOWEI_ANALYTIC_PATH", "XIAOWEI_PII_KEY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def pg_url() -> str:
    """``XIAOWEI_TEST_PG_URL``, or the throw-away cluster of scripts/pg_test_cluster.sh."""
    url = os.environ.get("XIAOWEI_TEST_PG_URL")
    if url:
        return url
    result = subprocess.run(
        [str(PG_SCRIPT), "start"], capture_output=True, text=True, timeout=900, check=False
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        pytest.fail(
            f"{PG_SCRIPT} start failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return lines[-1]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xiaowei.db'}"
        return
    base = make_url(request.getfixturevalue("pg_url"))
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    options = " ".join(filter(None, [base.query.get("options"), f"-csearch_path={schema}"]))
    yield base.update_query_dict({"options": options}).render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()
