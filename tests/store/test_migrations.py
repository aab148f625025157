"""Migrations build exactly the modelled schema, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.pool import NullPool

from xiaowei.store.database import make_engine
from xiaowei.store.migrate import current_revision, downgrade, head_revision, upgrade
from xiaowei.store.tables import Base

MODEL_TABLES = {
    "branch",
    "customer_manager",
    "party",
    "application",
    "decision",
    "loan",
    "repayment",
    "task",
    "load_batch",
    "quarantined_row",
    "model_version",
    "model_event",
    "strategy_version",
    "strategy_event",
    "strategy_live",
    "task_event",
    "application_intake",
    "decision_log",
    "app_user",
    "api_token",
    "web_session",
    "login_attempt",
    "audit_log",
    "audit_head",
    "loan_payment",
    "staff_event",
}
REGISTRY_TABLES = {"model_version", "model_event"}
STRATEGY_TABLES = {"strategy_version", "strategy_event", "strategy_live"}
PIPELINE_TABLES = {"task_event", "application_intake", "decision_log"}
AUTH_TABLES = {"app_user", "api_token", "web_session", "login_attempt", "audit_log",
               "audit_head"}
PAYMENT_TABLES = {"loan_payment"}
STAFF_TABLES = {"staff_event"}
HEAD = "0008"


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_declare_the_expected_tables() -> None:
    assert set(Base.metadata.tables) == MODEL_TABLES


def test_fresh_database_has_no_revision(db_url: str) -> None:
    assert current_revision(db_url) is None


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    upgrade(db_url)
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}
    assert current_revision(db_url) == head_revision() == HEAD

    downgrade(db_url)
    assert _tables(db_url) == {"alembic_version"}
    assert current_revision(db_url) is None

    upgrade(db_url)
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}
    assert current_revision(db_url) == HEAD


def test_model_registry_revision_goes_down_to_0001_and_back(db_url: str) -> None:
    later = (REGISTRY_TABLES | STRATEGY_TABLES | PIPELINE_TABLES | AUTH_TABLES | PAYMENT_TABLES
             | STAFF_TABLES)
    upgrade(db_url, "0001")
    assert _tables(db_url) == MODEL_TABLES - later | {"alembic_version"}
    upgrade(db_url, "0002")
    assert current_revision(db_url) == "0002"
    since_0002 = (STRATEGY_TABLES | PIPELINE_TABLES | AUTH_TABLES | PAYMENT_TABLES
                  | STAFF_TABLES)
    assert _tables(db_url) == MODEL_TABLES - since_0002 | {"alembic_version"}

    downgrade(db_url, "0001")
    assert current_revision(db_url) == "0001"
    assert _tables(db_url) == MODEL_TABLES - later | {"alembic_version"}
    upgrade(db_url)
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}


def test_strategy_revision_goes_down_to_0002_and_back(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "0002")
    assert current_revision(db_url) == "0002"
    since_0002 = (STRATEGY_TABLES | PIPELINE_TABLES | AUTH_TABLES | PAYMENT_TABLES
                  | STAFF_TABLES)
    assert _tables(db_url) == MODEL_TABLES - since_0002 | {"alembic_version"}
    upgrade(db_url)
    assert current_revision(db_url) == HEAD
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}


def test_tier_cap_revision_goes_down_to_0007_and_back(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "0007")
    assert current_revision(db_url) == "0007"
    assert "staff_tier_cap" not in _columns(db_url, "customer_manager")
    upgrade(db_url)
    assert "staff_tier_cap" in _columns(db_url, "customer_manager")


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_staff_event_revision_goes_down_to_0006_and_back(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "0006")
    assert current_revision(db_url) == "0006"
    assert _tables(db_url) == MODEL_TABLES - STAFF_TABLES | {"alembic_version"}
    upgrade(db_url)
    assert current_revision(db_url) == HEAD
    assert _tables(db_url) == MODEL_TABLES | {"alembic_version"}


TASK_QUEUE_COLUMNS = {"claimed_by", "claimed_at", "closed_at", "result", "queue", "revision"}


def _task_columns(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return {c["name"] for c in inspect(engine).get_columns("task")}
    finally:
        engine.dispose()


def test_pipeline_revision_goes_down_to_0003_and_back(db_url: str) -> None:
    upgrade(db_url)
    assert _task_columns(db_url) >= TASK_QUEUE_COLUMNS
    downgrade(db_url, "0003")
    assert current_revision(db_url) == "0003"
    assert _tables(db_url) == (MODEL_TABLES - PIPELINE_TABLES - AUTH_TABLES - PAYMENT_TABLES
                               - STAFF_TABLES | {"alembic_version"})
    assert not TASK_QUEUE_COLUMNS & _task_columns(db_url)
    upgrade(db_url)
    assert current_revision(db_url) == HEAD
    assert _task_columns(db_url) >= TASK_QUEUE_COLUMNS


def test_existing_tasks_get_revision_zero(db_url: str) -> None:
    """A task written before 0004 must read as revision 0, not NULL, after the upgrade."""
    from sqlalchemy import text

    upgrade(db_url, "0003")
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO task (task_id, kind, status, created_at, payload) "
                "VALUES ('T1', 'visit', 'open', '2026-01-01 00:00:00+00:00', '{}')"))
        upgrade(db_url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT revision FROM task")).scalar_one() == 0
    finally:
        engine.dispose()


def test_migrated_schema_equals_models(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrated_constraints_carry_conventional_names(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        uniques = {u["name"] for u in inspector.get_unique_constraints("party")}
        foreign = {f["name"] for f in inspector.get_foreign_keys("application")}
        indexes = {i["name"] for i in inspector.get_indexes("application")}
    finally:
        engine.dispose()
    assert {"uq_party_uscc", "uq_party_id_number_index"} <= uniques
    assert "fk_application_party_id_party" in foreign
    assert "ix_application_party_id" in indexes
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        model_uniques = {u["name"] for u in inspector.get_unique_constraints("model_version")}
        event_keys = {f["name"] for f in inspector.get_foreign_keys("model_event")}
    finally:
        engine.dispose()
    assert "uq_model_version_name_content_hash" in model_uniques
    assert "fk_model_event_name_model_version" in event_keys
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        strategy_uniques = {u["name"] for u in inspector.get_unique_constraints(
            "strategy_version")}
        strategy_keys = {f["name"] for t in ("strategy_event", "strategy_live")
                         for f in inspector.get_foreign_keys(t)}
    finally:
        engine.dispose()
    assert "uq_strategy_version_name_content_hash" in strategy_uniques
    assert strategy_keys == {"fk_strategy_event_name_strategy_version",
                             "fk_strategy_live_name_strategy_version"}


@pytest.mark.parametrize("url", ["postgresql+psycopg://u@localhost/db", "sqlite:///x.db"])
def test_offline_mode_writes_sql_for_a_dba(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command

    from xiaowei.store.migrate import alembic_config

    command.upgrade(alembic_config(url), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE party" in sql
    assert "CONSTRAINT uq_party_id_number_index UNIQUE (id_number_index)" in sql
