"""What every source generator shares: where rows go and how records are keyed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from xiaowei.sim import arrow
from xiaowei.sim.writer import DatasetWriter


def record_keys(prefix: str, chunk: int, n: int) -> np.ndarray:
    """Source record ids, unique across chunks: REG000300001234."""
    return np.char.add(f"{prefix}{chunk:05d}", np.char.zfill(np.arange(n).astype(str), 7))


class Emit:
    """Routes generated tables into the dataset's zones.

    `link` records, in the ground-truth zone only, which party a source record is really
    about — what entity resolution will later be measured against.
    """

    def __init__(self, writer: DatasetWriter) -> None:
        self.writer = writer

    def raw(self, table: str, batch: pa.Table) -> None:
        self.writer.write("raw", table, batch)

    def bank(self, table: str, batch: pa.Table) -> None:
        self.writer.write("bank", table, batch)

    def truth(self, table: str, batch: pa.Table) -> None:
        self.writer.write("truth", table, batch)

    def link(self, source: str, record_id: np.ndarray, party_idx: np.ndarray) -> None:
        self.truth("record_links", arrow.table(
            source=np.full(len(record_id), source), record_id=record_id,
            party_idx=party_idx))
