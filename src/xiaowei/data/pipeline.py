"""A whole synthetic bank brought in: simulate → load (both stores) → govern.

Why one function: the demo, the benchmarks and many tests need exactly this sequence, and
a sequence written out four times drifts (one copy forgets to migrate, another to govern).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xiaowei.data.govern.build import GovernReport, govern
from xiaowei.data.load import LoadReport, load_dataset
from xiaowei.sim import SimResult, generate
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine


@dataclass(frozen=True)
class BroughtIn:
    bank: SimResult
    database_url: str
    analytic_path: Path
    load: LoadReport
    governed: GovernReport | None


def simulate_and_load(root: Path, size: str = "tiny", seed: int = 7, *,
                      governed: bool = True) -> BroughtIn:
    """Everything under `root`: dataset `ds/`, SQLite `bank.db`, DuckDB `analytic.duckdb`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    bank = generate(size, seed, root / "ds")
    url = f"sqlite:///{root / 'bank.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    path = root / "analytic.duckdb"
    try:
        with AnalyticStore(path) as store:
            load = load_dataset(bank.out, engine, store)
            report = govern(bank.out, store) if governed else None
    finally:
        engine.dispose()
    return BroughtIn(bank, url, path, load, report)
