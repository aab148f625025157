"""A migrated, empty transactional store (SQLite and PostgreSQL) for the security tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from xiaowei.store import migrate
from xiaowei.store.database import make_engine, transaction
from xiaowei.store.tables import Branch, CustomerManager


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """Two branches, each with a customer manager."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with transaction(engine) as session:
        for b in ("B1", "B2"):
            session.add(Branch(branch_id=b, name=f"支行{b}", region_code="330100"))
        session.flush()
        for m, b in (("M1", "B1"), ("M2", "B2")):
            session.add(CustomerManager(manager_id=m, name=f"经理{m}", branch_id=b, risk_tier=2,
                                        hired_on=dt.date(2020, 1, 1), phone="13812345678"))
    yield engine
    engine.dispose()
