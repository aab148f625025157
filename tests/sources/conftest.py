"""Fixtures for the source tests: a tiny simulated bank, its raw tables as CSV and JSON Lines,
the shipped contracts, and a fake online source server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xiaowei.data.sources import SourceContract, export_table, packaged_contracts
from xiaowei.data.sources.testing import FakeSourceServer
from xiaowei.sim import SimResult, generate


@pytest.fixture(scope="session")
def tiny_sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return generate("tiny", 7, tmp_path_factory.mktemp("sources-tiny"))


@pytest.fixture(scope="session")
def contracts() -> dict[str, SourceContract]:
    return packaged_contracts()


@pytest.fixture(scope="session")
def exported(tiny_sim: SimResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny sim's raw tables written as CSV and JSON Lines, in a dataset-like folder."""
    root = tmp_path_factory.mktemp("sources-exported")
    for path in sorted((Path(tiny_sim.out) / "raw").glob("*.parquet")):
        for kind in ("csv", "jsonl"):
            export_table(path, kind, root / "raw" / f"{path.stem}.{kind}")
    return root


@pytest.fixture
def fake_server(tiny_sim: SimResult, contracts: dict[str, SourceContract]
                ) -> Iterator[FakeSourceServer]:
    raw = Path(tiny_sim.out) / "raw"
    tables = {name: pq.read_table(raw / f"{name}.parquet")
              for name in ("court_cases", "tax_invoices", "registry_companies")}
    with FakeSourceServer(tables, contracts) as server:
        yield server
