"""Everything a source generator needs about the chunk it is writing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.sim import hashing
from xiaowei.sim.population import Parties
from xiaowei.sim.sources.common import Emit


@dataclass
class Chunk:
    seed: int
    number: int
    parties: Parties
    level: np.ndarray  # (n, months) business activity multiplier
    emit: Emit

    def rng(self, table: str) -> np.random.Generator:
        """One independent stream per (table, chunk): tables can change without moving others."""
        return hashing.stream(self.seed, table, self.number)
