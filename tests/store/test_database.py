"""Engines obey SQLite's missing defaults, and transactions are all-or-nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from xiaowei.store.database import make_engine, normalise_url, session_factory, transaction
from xiaowei.store.tables import Branch, Party

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def _party(party_id: str, uscc: str | None = None) -> Party:
    return Party(
        party_id=party_id,
        party_type="enterprise",
        uscc=uscc,
        name="杭州某某贸易有限公司",
        name_masked="杭州****有限公司",
        region_code="330106",
        created_at=NOW,
    )


def _counts_in(session: Session) -> tuple[int, int]:
    branches = session.scalar(select(func.count()).select_from(Branch))
    parties = session.scalar(select(func.count()).select_from(Party))
    return int(branches or 0), int(parties or 0)


def _counts(engine: Engine) -> tuple[int, int]:
    with session_factory(engine)() as session:
        return _counts_in(session)


def test_transaction_commits_on_success(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Branch(branch_id="B001", name="西湖支行", region_code="330106"))
        session.add(_party("P00000001"))
    assert _counts(engine) == (1, 1)


def test_transaction_rolls_back_everything_on_exception(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Branch(branch_id="B001", name="西湖支行", region_code="330106"))
    before = _counts(engine)

    with pytest.raises(RuntimeError, match="half-way"), transaction(engine) as session:
        session.add(Branch(branch_id="B002", name="拱墅支行", region_code="330105"))
        session.add_all([_party("P00000001"), _party("P00000002")])
        session.flush()  # the rows really reached the database before the failure
        assert _counts_in(session) == (2, 2)
        raise RuntimeError("load failed half-way")

    assert before == (1, 0)
    assert _counts(engine) == before


def test_savepoint_rolls_back_only_the_inner_block(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Branch(branch_id="B001", name="西湖支行", region_code="330106"))
        session.flush()
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(_party("P00000001"))
            session.flush()
            raise RuntimeError("one bad row")
    assert _counts(engine) == (1, 0)


def test_objects_stay_readable_after_the_transaction(engine: Engine) -> None:
    with transaction(engine) as session:
        branch = Branch(branch_id="B001", name="西湖支行", region_code="330106")
        session.add(branch)
    assert branch.name == "西湖支行"


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()
    assert path.exists()


def test_default_url_comes_from_settings(xiaowei_home: Path) -> None:
    engine = make_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert (xiaowei_home / "xiaowei.db").exists()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_bare_postgresql_urls_get_the_psycopg_driver(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver
