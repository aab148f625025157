"""Latest tag values of every entity, held in memory for sub-millisecond single-entity reads.

Why not a query per read: measured on 20k entities × 20 tags, even the smallest DuckDB point
query costs ~1.2 ms (DuckDB 2.0 does not use an ART index for it, and planning alone is a few
hundred µs), over the 1 ms budget of an online read. A feature store answers online reads
from a key-value copy of the latest values; this is that copy: the open intervals as one Arrow
table sorted by entity, plus a dict from entity id to its row span. A read is a dict lookup and
a zero-copy slice of ~20 rows. The copy is rebuilt from DuckDB after each ``apply`` in the same
process, or on ``refresh()`` (DuckDB allows one writer per file, so a reader in another process
reopens to see a new run anyway).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.engine.tags.layout import typed_value


class LatestSnapshot:
    """Row spans per entity over an Arrow table of (entity_id, tag, typed values) rows."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table.sort_by([("entity_id", "ascending"), ("tag", "ascending")])
        ids = self._table["entity_id"].combine_chunks()
        n = len(ids)
        if n:
            # Boundaries found in Arrow: only one Python string per entity, not one per value
            # (a bank's 40 million values as Python objects would take gigabytes).
            changed = pc.not_equal(ids.slice(1), ids.slice(0, n - 1))
            starts = np.flatnonzero(np.r_[True, changed.to_numpy(zero_copy_only=False)])
            stops = np.r_[starts[1:], n]
            self._spans = dict(
                zip(
                    ids.take(pa.array(starts)).to_pylist(),
                    zip(starts.tolist(), stops.tolist(), strict=True),
                    strict=True,
                )
            )
        else:
            self._spans = {}

    def __len__(self) -> int:
        return len(self._spans)

    def get(self, entity_id: str) -> dict[str, Any]:
        """The entity's tag → value (Python types); empty when it has no current value."""
        span = self._spans.get(entity_id)
        if span is None:
            return {}
        rows = self._table.slice(span[0], span[1] - span[0]).to_pylist()
        return {row["tag"]: typed_value(row) for row in rows}
