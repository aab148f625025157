"""Warning levels for a whole book at once: tag columns in, one row per signal that holds out.

Why vectorised over columns and not a loop over customers: the nightly batch monitors every
borrower (about a million at bank size); comparing one NumPy column with three thresholds per
signal costs milliseconds where a Python loop would cost minutes. :func:`levels_for_party`
runs the same arithmetic for one customer (the customer 360 page, a test), so the two cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from xiaowei.postloan.warning_catalogue import LEVEL_KEYS, Level, Signal, WarningCatalogue

HIT_SCHEMA = pa.schema([
    ("entity_id", pa.string()),
    ("signal", pa.string()),
    ("level", pa.int8()),
    ("value", pa.float64()),
    ("threshold", pa.float64()),
])


def _as_float(column: Any) -> np.ndarray:
    """A tag column as float64 with NaN for a missing value (booleans become 0/1)."""
    if isinstance(column, pa.ChunkedArray | pa.Array):
        if pa.types.is_boolean(column.type):
            column = column.cast(pa.int8())
        return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False),
                          dtype=np.float64)
    array = np.asarray(column)
    if array.dtype == object:
        return np.array([np.nan if v is None else float(v) for v in array], dtype=np.float64)
    return array.astype(np.float64)


def signal_value(signal: Signal, columns: Mapping[str, Any], n: int) -> np.ndarray:
    """The value a signal compares: the tag, or the tag ÷ its ``per`` tag (NaN when the
    divisor is missing or zero); NaN wherever the tag is missing."""
    value = _as_float(columns[signal.tag]) if signal.tag in columns else np.full(n, np.nan)
    if signal.per is None:
        return value
    per = _as_float(columns[signal.per]) if signal.per in columns else np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(per > 0, value / per, np.nan)


def signal_level(signal: Signal, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the worst level that holds (0 = none) and the threshold it crossed."""
    level = np.zeros(len(value), dtype=np.int8)
    crossed = np.full(len(value), np.nan)
    known = ~np.isnan(value)
    for rank, key in enumerate(LEVEL_KEYS, start=1):
        line = signal.threshold(key)
        if line is None:
            continue
        if signal.direction == "flag":
            holds = known & (value >= 0.5)
            line_value = 1.0
        elif signal.direction == "below":
            line_value = float(line)
            holds = known & (value <= line_value)
        else:
            line_value = float(line)
            holds = known & (value >= line_value)
        level = np.where(holds, np.int8(rank), level)  # later keys are worse: they win
        crossed = np.where(holds, line_value, crossed)
    return level, crossed


@dataclass(frozen=True)
class BookLevels:
    """The levels of every signal for every entity (rows in ``entities`` order)."""

    entities: np.ndarray
    by_signal: Mapping[str, np.ndarray]  # signal → int8 level per entity

    @property
    def worst(self) -> np.ndarray:
        """Each entity's worst level over all signals."""
        if not self.by_signal:
            return np.zeros(len(self.entities), dtype=np.int8)
        return np.max(np.vstack(list(self.by_signal.values())), axis=0).astype(np.int8)

    def count(self, level: Level) -> np.ndarray:
        """How many signals of each entity hold at exactly ``level``."""
        if not self.by_signal:
            return np.zeros(len(self.entities), dtype=np.int16)
        return np.sum(np.vstack(list(self.by_signal.values())) == int(level), axis=0)


def evaluate(catalogue: WarningCatalogue, entities: Sequence[str] | np.ndarray,
             columns: Mapping[str, Any]) -> tuple[BookLevels, pa.Table]:
    """Levels for every entity (``columns``: tag → a column aligned with ``entities``; a tag
    absent from ``columns`` counts as missing everywhere) and the hits as a table
    (entity_id, signal, level, value, threshold), one row per signal that holds."""
    ids = np.asarray(entities, dtype=object)
    n = len(ids)
    by_signal: dict[str, np.ndarray] = {}
    parts: list[pa.Table] = []
    for signal in catalogue.signals:
        value = signal_value(signal, columns, n)
        level, crossed = signal_level(signal, value)
        by_signal[signal.name] = level
        hit = np.flatnonzero(level > 0)
        if len(hit):
            parts.append(pa.table({
                "entity_id": pa.array(ids[hit], pa.string()),
                "signal": pa.array(np.full(len(hit), signal.name), pa.string()),
                "level": pa.array(level[hit], pa.int8()),
                "value": pa.array(value[hit], pa.float64()),
                "threshold": pa.array(crossed[hit], pa.float64())}, schema=HIT_SCHEMA))
    hits = pa.concat_tables(parts) if parts else HIT_SCHEMA.empty_table()
    return BookLevels(ids, by_signal), hits


def levels_for_party(catalogue: WarningCatalogue, tags: Mapping[str, Any]
                     ) -> list[dict[str, Any]]:
    """One customer's signals that hold, worst first: the same arithmetic as :func:`evaluate`,
    with the explanation a person reads (signal, level, value, threshold, zh/en)."""
    columns = {t: np.array([np.nan if tags.get(t) is None else float(tags[t])])
               for t in catalogue.tags}
    _, hits = evaluate(catalogue, ["_"], columns)
    out = []
    for row in hits.to_pylist():
        signal = catalogue.signal(row["signal"])
        level = Level(row["level"])
        out.append({"signal": signal.name, "zh": signal.zh, "en": signal.en,
                    "level": level.key, "value": row["value"], "threshold": row["threshold"],
                    "tag": signal.tag, "per": signal.per})
    return sorted(out, key=lambda h: -Level.of(h["level"]))
