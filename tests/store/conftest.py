"""Fixtures for the store tests: a migrated database on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine
