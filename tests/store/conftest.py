"""Fixtures for the store tests: a migrated database on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from xiaowei.store.database import make_engine
from xiaowei.store.migrate import upgrade


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head, disposed so its schema can be dropped."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
