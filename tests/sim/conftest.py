"""Simulated banks shared by the simulator tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from xiaowei.sim import SimResult, generate


@pytest.fixture(scope="session")
def tiny_bank(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return generate("tiny", 7, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return generate("small", 7, tmp_path_factory.mktemp("small"))


class Tables:
    """SQL over a dataset folder's Parquet files: `zone.table` names each file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.con = duckdb.connect()
        for zone in ("bank", "raw", "truth"):
            self.con.execute(f"CREATE SCHEMA {zone}")
            for f in sorted((root / zone).glob("*.parquet")):
                self.con.execute(
                    f"CREATE VIEW {zone}.{f.stem} AS SELECT * FROM read_parquet('{f}')")

    def one(self, sql: str) -> object:
        row = self.con.execute(sql).fetchone()
        assert row is not None
        return row[0]

    def column(self, sql: str) -> list:
        return [r[0] for r in self.con.execute(sql).fetchall()]


@pytest.fixture(scope="session")
def small(small_bank: SimResult) -> Tables:
    return Tables(small_bank.out)


@pytest.fixture(scope="session")
def tiny(tiny_bank: SimResult) -> Tables:
    return Tables(tiny_bank.out)
