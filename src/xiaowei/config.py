"""Settings read from the environment.

Why one place: every store, command and test must agree on where the data lives, and an
operator sets these in a bank's deployment without touching code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where xiaowei keeps its files and which transactional database it talks to."""

    home: Path
    database_url: str
    analytic_path: Path

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("XIAOWEI_HOME", "./var")).resolve()
        database_url = os.environ.get("XIAOWEI_DATABASE_URL") or f"sqlite:///{home / 'xiaowei.db'}"
        analytic = Path(os.environ.get("XIAOWEI_ANALYTIC_PATH", str(home / "analytic.duckdb")))
        return cls(home=home, database_url=database_url, analytic_path=analytic.resolve())

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def get_settings() -> Settings:
    """Read settings afresh each call, so tests and commands can change the environment."""
    return Settings.from_env()
