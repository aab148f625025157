"""A whole synthetic bank brought in: simulate → load (both stores) → govern.

Why one function: the demo, the benchmarks and many tests need exactly this sequence, and
a sequence written out four times drifts (one copy forgets to migrate, another to govern).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xiaowei.data.govern.build import GovernReport, govern
from xiaowei.data.load import LoadReport, load_dataset
from xiaowei.data.raw_import import import_sources
from xiaowei.sim import SimResult, generate
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine


@dataclass(frozen=True)
class BroughtIn:
    bank: SimResult
    database_url: str
    analytic_path: Path
    load: LoadReport | None  # None when only the analytic side was loaded
    governed: GovernReport | None


def simulate_and_load(root: Path, size: str = "tiny", seed: int = 7, *,
                      governed: bool = True, transactional: bool = True) -> BroughtIn:
    """Everything under `root`: dataset `ds/`, SQLite `bank.db`, DuckDB `analytic.duckdb`.

    ``transactional=False`` loads only the analytic side (sources through their contracts,
    the bank's tables as they are): all that governance and tags need, and much faster at
    the `bank` size, where the transactional load is the slow part.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    bank = generate(size, seed, root / "ds")
    path = root / "analytic.duckdb"
    url = f"sqlite:///{root / 'bank.db'}"
    with AnalyticStore(path) as store:
        if transactional:
            migrate.upgrade(url)
            engine = make_engine(url)
            try:
                load = load_dataset(bank.out, engine, store)
            finally:
                engine.dispose()
        else:
            files = {p.stem: p for p in sorted((bank.out / "raw").glob("*.parquet"))}
            files |= {f"bank_{p.stem}": p for p in sorted((bank.out / "bank").glob("*.parquet"))}
            load = None
            import_sources(store.connection, files, "raw", lambda _i, _n: None)
        report = govern(bank.out, store) if governed else None
    return BroughtIn(bank, url if transactional else "", path, load, report)
