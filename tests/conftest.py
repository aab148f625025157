"""Fixtures shared by every test: a private XIAOWEI_HOME, and real databases.

PostgreSQL is never skipped: if it cannot start, the tests that need it fail with the
script's output, because a store proven only on SQLite is not proven for a bank.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import Engine
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



@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head, disposed so its schema can be dropped."""
    from xiaowei.store.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()

# --- the origination pipeline's tiny bank (intake, API, `xiaowei apply`) ---------------------

PIPELINE_TABLES = ("branch", "customer_manager", "party", "application", "decision", "loan",
                   "repayment")


@pytest.fixture(scope="session")
def pipeline_bank(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A governed `tiny` bank (seed 15, as the decide tests) with a fitted scorecard, built
    once per session: its files, its SQLite store and application templates."""
    from xiaowei.data.pipeline import simulate_and_load
    from xiaowei.modelling.workbench import fit
    from xiaowei.origination.decide import demo_training_table
    from xiaowei.store.analytic import AnalyticStore

    root = tmp_path_factory.mktemp("pipeline-bank")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIAOWEI_HOME", str(root / "home"))  # the PII key of the stored parties
        brought = simulate_and_load(root, "tiny", 15)
        with AnalyticStore(brought.analytic_path) as analytic:
            fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
                root / "model")
            rows = analytic.connection.sql(
                "select a.application_id, a.party_id, p.party_type, a.product_intent, "
                "a.channel, a.amount_yuan, a.applied_on::varchar, a.declared_revenue_yuan, "
                "a.employees from gov.application a join (select party_id, any_value("
                "party_type) party_type from gov.party_profile group by 1) p using (party_id) "
                "order by a.application_id").fetchall()
    keys = ("application_id", "party_id", "party_type", "product_intent", "channel", "amount",
            "applied_on", "declared_revenue", "employees")
    # The transactional store keys customers by the bank's party ids, governance by resolved
    # ones: an application names the bank's customer (intake finds the governed party).
    engine = make_engine(brought.database_url)
    with engine.connect() as connection:
        bank_party = dict(connection.exec_driver_sql(
            "select application_id, party_id from application").fetchall())
    engine.dispose()
    apps = [{k: v for k, v in zip(keys, r, strict=True) if v is not None} for r in rows
            if r[0] in bank_party]
    for a in apps:
        a["party_id"] = bank_party[a["application_id"]]
    return {"root": root, "home": root / "home", "analytic": brought.analytic_path,
            "model": root / "model", "url": brought.database_url, "apps": apps}


@pytest.fixture
def pipeline_store(db_url: str, pipeline_bank: dict[str, Any],
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated store (SQLite or PostgreSQL) holding a copy of the tiny bank's records."""
    from sqlalchemy import insert, select

    from xiaowei.store import migrate
    from xiaowei.store.tables import Base

    monkeypatch.setenv("XIAOWEI_HOME", str(pipeline_bank["home"]))
    migrate.upgrade(db_url)
    source, engine = make_engine(pipeline_bank["url"]), make_engine(db_url)
    with source.connect() as src, engine.begin() as dst:
        for name in PIPELINE_TABLES:
            table = Base.metadata.tables[name]
            rows = [dict(r) for r in src.execute(select(table)).mappings()]
            if rows:
                dst.execute(insert(table), rows)
    source.dispose()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``xiaowei demo --size tiny --seed 7 --json`` run once for the session: the demo takes
    a minute and several tests read its one document (summary, KPIs, post-loan, operations);
    ``database_url`` is where it stored its users."""
    from typer.testing import CliRunner

    from xiaowei.cli.main import app
    from xiaowei.config import get_settings

    home = tmp_path_factory.mktemp("tiny-demo") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIAOWEI_HOME", str(home))
        for name in ("XIAOWEI_DATABASE_URL", "XIAOWEI_ANALYTIC_PATH", "XIAOWEI_PII_KEY"):
            mp.delenv(name, raising=False)
        res = CliRunner().invoke(app, ["demo", "--size", "tiny", "--seed", "7", "--json"])
        assert res.exit_code == 0, res.output
        url = get_settings().database_url
    return {"doc": json.loads(res.stdout), "home": home, "database_url": url}
