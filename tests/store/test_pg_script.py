"""The PostgreSQL test cluster script prints the URL tests and people connect with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from xiaowei.store.database import make_engine

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg_test_cluster.sh"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PG_SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=60,
    )


def test_url_is_fixed_and_follows_the_port_setting() -> None:
    env = {k: v for k, v in os.environ.items() if k != "XIAOWEI_PG_PORT"}
    default = subprocess.run(
        [str(PG_SCRIPT), "url"], capture_output=True, text=True, env=env, check=True
    )
    assert default.stdout == "postgresql+psycopg://xiaowei_pg@127.0.0.1:54329/xiaowei_test\n"
    assert _run("url", XIAOWEI_PG_PORT="55432").stdout.strip().endswith(":55432/xiaowei_test")


def test_unknown_command_is_refused() -> None:
    result = _run("explode")
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_database_answers_and_runs_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version_num")).scalar()
    finally:
        engine.dispose()
    assert int(str(version)) >= 120000
