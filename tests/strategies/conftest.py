"""Fixtures for the strategy store: a migrated store on each backend and small pack folders.

A pack here is a copy of the engine tests' example pack (with its blacklist file), edited by
plain text replacement so each test says exactly what differs between its versions.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from xiaowei.strategies import StrategyStore

EXAMPLE = Path(__file__).resolve().parents[1] / "strategy" / "data"

MakePack = Callable[..., Path]


@pytest.fixture
def make_pack(tmp_path: Path) -> MakePack:
    """``make_pack("v2", {"tag.age < 22": "tag.age < 30"})``: a pack folder under tmp_path,
    the example pack with each old text replaced by the new one (each must occur)."""

    def make(folder: str = "pack", edits: dict[str, str] | None = None) -> Path:
        path = tmp_path / "packs" / folder
        path.mkdir(parents=True, exist_ok=True)
        text = (EXAMPLE / "example_pack.yaml").read_text("utf-8")
        for old, new in (edits or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        (path / "pack.yaml").write_text(text, "utf-8")
        shutil.copy(EXAMPLE / "blacklist.txt", path / "blacklist.txt")
        return path

    return make


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def store(engine: Engine) -> StrategyStore:
    return StrategyStore(engine)
