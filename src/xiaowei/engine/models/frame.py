"""Tables in, typed columns out: the one adapter every model reads its input through.

Why one adapter: analysts bring CSV, Parquet, pandas frames and Arrow tables, and a model must
see the same values whichever came in — numbers as float64 with NaN for missing, everything
else as Python strings with None for missing — and must say *which column* is wrong when a
value is not what the model was fitted on. pandas is accepted when present, never required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class ModelInputError(ValueError):
    """Input a model cannot use; the message names the column and what is wrong with it."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(f"column {column!r}: {message}" if column else message)
        self.column = column


@dataclass(frozen=True)
class Columns:
    """Named columns of equal length: float64 arrays (numeric) or object arrays (categorical)."""

    names: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    rows: int

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.values[name]
        except KeyError:
            raise ModelInputError("is missing from the data", name) from None

    def is_numeric(self, name: str) -> bool:
        return self[name].dtype.kind == "f"

    def select(self, names: Sequence[str]) -> Columns:
        """Only ``names``, in that order; refuses a name the data lacks."""
        missing = [n for n in names if n not in self.values]
        if missing:
            raise ModelInputError(f"the data lacks columns the model needs: {missing}")
        return Columns(tuple(names), {n: self.values[n] for n in names}, self.rows)


def category_key(value: Any) -> str:
    """The text a category is known by: the same text ``as_columns`` would give it.

    A code that arrives as a number (5211, 5211.0) is the category "5211", as pyarrow casts
    it, so one applicant scored alone lands in the bin the whole file would have put it in.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_columns(data: Any, categorical: Sequence[str] = ()) -> Columns:
    """Read a pyarrow Table, a pandas DataFrame or a mapping of 1-D arrays as ``Columns``.

    Numeric columns become float64 (missing → NaN); strings, booleans-as-text and the columns
    named in ``categorical`` become object arrays of ``str`` (missing → None). A numeric
    column that is *also* named categorical is read as text (codes such as industry 5211).
    """
    table = _as_arrow(data)
    forced = set(categorical)
    unknown = forced - set(table.column_names)
    if unknown:
        raise ModelInputError(f"categorical columns not in the data: {sorted(unknown)}")
    values: dict[str, np.ndarray] = {}
    for name in table.column_names:
        column = table.column(name)
        if name in forced or not _is_number(column.type):
            values[name] = _as_text(column, name)
        else:
            values[name] = _as_float(column, name)
    return Columns(tuple(table.column_names), values, table.num_rows)


def _as_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_arrow") and not isinstance(data, Mapping):  # DuckDB relations
        return data.to_arrow()
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, Mapping):
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise ModelInputError(f"columns have different lengths: {sorted(lengths)}")
        return pa.table({str(k): _arrow_array(v) for k, v in data.items()})
    raise ModelInputError(f"expected a table (pyarrow, pandas or a mapping), got {type(data)}")


def _arrow_array(values: Any) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return pa.array(array, mask=np.isnan(array))
    return pa.array(array.tolist() if array.dtype.kind == "O" else array)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _as_float(column: pa.ChunkedArray, name: str) -> np.ndarray:
    floats = pc.cast(column, pa.float64())
    out = floats.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    if np.isinf(out).any():
        raise ModelInputError("holds infinite values; replace them or mark them missing", name)
    return out


def _as_text(column: pa.ChunkedArray, name: str) -> np.ndarray:
    if pa.types.is_null(column.type):
        return np.full(len(column), None, dtype=object)
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ModelInputError(f"cannot be read as text or numbers ({column.type})", name) from exc
    return np.array(text.to_pylist(), dtype=object)
