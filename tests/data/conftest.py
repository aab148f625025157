"""A tiny simulated bank and fresh stores for the loader tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from xiaowei.sim import SimResult, generate
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return generate("tiny", 11, tmp_path_factory.mktemp("tiny-load"))


@pytest.fixture
def dataset_copy(tiny_dataset: SimResult, tmp_path: Path) -> Path:
    """A private copy that a test may break."""
    dest = tmp_path / "dataset"
    shutil.copytree(tiny_dataset.out, dest)
    return dest


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    migrate.upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def analytic(tmp_path: Path) -> Iterator[AnalyticStore]:
    with AnalyticStore(tmp_path / "analytic.duckdb") as store:
        yield store
