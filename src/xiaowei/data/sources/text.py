"""Values as text, and text typed back: the common ground of every file kind and payload.

Why: a CSV line, a JSON Lines record and an HTTP payload reach the contract as text, and a
Parquet value that does not have its contract type is read as text too; so one typing step,
tolerant of bad values, gives all of them the same accepted rows.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def cast_lenient(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """Cast, and where a value will not cast, null it and flag it (bisecting to find it)."""
    try:
        return pc.cast(values, target), pa.repeat(False, len(values))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(values) == 1:
            return pa.nulls(1, target), pa.array([True])
    mid = len(values) // 2
    left, left_bad = cast_lenient(values.slice(0, mid), target)
    right, right_bad = cast_lenient(values.slice(mid), target)
    return pa.concat_arrays([left, right]), pa.concat_arrays([left_bad, right_bad])


def as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as text, as a person would read it in a quarantine list."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type):
        return values
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def json_text(value: Any) -> str | None:
    """A JSON value as the text a contract types (numbers keep their exact digits)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def records_as_text(records: list[dict[str, Any]]) -> pa.Table:
    """JSON objects as a table of text columns (every key any record has)."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return pa.table({n: pa.array([json_text(r.get(n)) for r in records], pa.string())
                     for n in names}) if names else pa.table({})
