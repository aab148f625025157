"""Every raw row checked against its source's contract: accepted, or quarantined with a reason.

Why vectorised and type-tolerant: the same check runs on a typed Parquet file, on a CSV or
JSON Lines file read entirely as text, and on an online payload, and must give the same answer
for the same data. A value that cannot be typed is a quarantined row naming the column and
the reason — never a crash that loses the whole file, and never a silently dropped row.
Per check, in = accepted + quarantined; rows outside a bulk load's date range are counted
apart, and a row whose business date cannot be read is quarantined (nobody can tell whether
it belongs to the range).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.data.sources.contract import ColumnSpec, SourceContract
from xiaowei.data.sources.dates import business_dates
from xiaowei.data.sources.text import as_text, cast_lenient

QUARANTINE_FIELDS = [pa.field("row_number", pa.int64()), pa.field("column", pa.string()),
                     pa.field("reason", pa.string()), pa.field("raw_line", pa.string())]
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_TYPE_REASON = {
    "int": "not an integer", "float": "not a number", "date": "not a date (YYYY-MM-DD)",
    "timestamp": "not a timestamp", "bool": "not true/false", "month": "not a month (YYYY-MM)",
    "string": "not text",
}


def quarantine_schema(contract: SourceContract) -> pa.Schema:
    """Quarantined rows: where and why, then every contract column's raw value as text."""
    return pa.schema([*QUARANTINE_FIELDS, *(pa.field(n, pa.string()) for n in contract.names)])


@dataclass
class RowCheck:
    """The outcome of checking one batch, before any date range is applied."""

    typed: pa.Table
    column: pa.Array
    reason: pa.Array
    business_date: pa.Array | None
    row_numbers: pa.Array
    raw: pa.Table
    extra_columns: list[str] = field(default_factory=list)


class _Marks:
    """First problem per row wins: one quarantined record per row keeps in = acc + quar."""

    def __init__(self, n: int) -> None:
        self.column = pa.nulls(n, pa.string())
        self.reason = pa.nulls(n, pa.string())

    def add(self, column: str, mask: pa.Array, reason: str) -> None:
        new = pc.and_(pc.fill_null(mask, False), pc.is_null(self.reason))
        if pc.any(new).as_py():
            self.column = pc.if_else(new, column, self.column)
            self.reason = pc.if_else(new, reason, self.reason)

    @property
    def ok(self) -> pa.Array:
        return pc.is_null(self.reason)


def _typed(values: pa.Array, spec: ColumnSpec) -> tuple[pa.Array, pa.Array]:
    """The column in its contract type, and a mask of values that would not type."""
    n = len(values)
    if spec.type in {"string", "month"}:
        text = as_text(values)
        if spec.type == "string":
            return text, pa.repeat(False, n)
        bad = pc.invert(pc.fill_null(pc.match_substring_regex(text, _MONTH), True))
        return pc.if_else(bad, pa.scalar(None, pa.string()), text), bad
    target = spec.arrow_type
    if values.type == target:
        return values, pa.repeat(False, n)
    is_text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    if not is_text and not pa.types.is_floating(values.type):
        try:
            return pc.cast(values, target), pa.repeat(False, n)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    text = pc.utf8_trim_whitespace(as_text(values))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return cast_lenient(text, target)


def _present(values: pa.Array, spec: ColumnSpec) -> pa.Array:
    present = pc.is_valid(values)
    if spec.type == "string":
        blank = pc.equal(pc.utf8_trim_whitespace(values), "")
        present = pc.and_(present, pc.invert(pc.fill_null(blank, False)))
    return present


def _value_checks(values: pa.Array, spec: ColumnSpec, usable: pa.Array, marks: _Marks) -> None:
    if spec.type == "float":
        finite = pc.is_finite(values)
        marks.add(spec.name, pc.and_(usable, pc.invert(finite)), "not a finite number")
    if spec.regex is not None:
        match = pc.match_substring_regex(values, spec.regex)
        marks.add(spec.name, pc.and_(usable, pc.invert(match)), f"does not match {spec.regex}")
    if spec.min is not None:
        low = pc.less(values, pa.scalar(spec.bound(spec.min), values.type))
        marks.add(spec.name, pc.and_(usable, low), f"below the minimum {spec.min}")
    if spec.max is not None:
        high = pc.greater(values, pa.scalar(spec.bound(spec.max), values.type))
        marks.add(spec.name, pc.and_(usable, high), f"above the maximum {spec.max}")
    if spec.allowed is not None:
        allowed = pa.array(spec.allowed).cast(values.type)
        inside = pc.is_in(values, value_set=allowed)
        marks.add(spec.name, pc.and_(usable, pc.invert(inside)), "not one of the allowed values")


def check_rows(contract: SourceContract, batch: pa.RecordBatch | pa.Table,
               row_numbers: pa.Array | None = None, seen_keys: set[str] | None = None
               ) -> RowCheck:
    """Type and check every row of ``batch``; ``seen_keys`` carries the unique key across
    the batches of one load (a duplicate of an earlier row is quarantined)."""
    raw = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    n = raw.num_rows
    numbers = row_numbers if row_numbers is not None else pa.array(range(1, n + 1), pa.int64())
    marks = _Marks(n)
    typed: dict[str, pa.Array] = {}
    for spec in contract.columns:
        if spec.name not in raw.column_names:
            typed[spec.name] = pa.nulls(n, spec.arrow_type)
            if spec.required:
                marks.add(spec.name, pa.repeat(True, n), "column is missing from the source")
            continue
        values, bad = _typed(raw.column(spec.name).combine_chunks(), spec)
        typed[spec.name] = values
        reason = _TYPE_REASON.get(spec.type, f"not a decimal with scale {values.type.scale}"
                                  if pa.types.is_decimal(values.type) else "wrong type")
        marks.add(spec.name, bad, reason)
        present = _present(values, spec)
        if spec.required:
            marks.add(spec.name, pc.and_(pc.invert(present), pc.invert(bad)),
                      "required value is empty")
        _value_checks(values, spec, present, marks)
    table = pa.table(typed, schema=contract.arrow_schema)
    dates = business_dates(contract, table)
    if dates is not None and contract.business_date is not None:
        marks.add(contract.business_date.column, pc.is_null(dates),
                  "business date is empty or not a date in a known format")
    if contract.unique:
        _mark_duplicates(contract, table, marks, seen_keys if seen_keys is not None else set())
    extra = [name for name in raw.column_names if name not in contract.names]
    return RowCheck(table, marks.column, marks.reason, dates, numbers, raw, extra)


def _mark_duplicates(contract: SourceContract, table: pa.Table, marks: _Marks,
                     seen: set[str]) -> None:
    parts = [pc.fill_null(as_text(table.column(name)), "\x00") for name in contract.unique]
    keys = pc.binary_join_element_wise(*parts, "\x1f").to_pylist()
    duplicate = []
    for key, ok in zip(keys, marks.ok.to_pylist(), strict=True):
        repeated = ok and key in seen
        duplicate.append(repeated)
        if ok:
            seen.add(key)
    marks.add(",".join(contract.unique), pa.array(duplicate, pa.bool_()),
              "duplicate of an earlier row's unique key")


@dataclass
class Split:
    """Rows of one checked batch: accepted, quarantined, and how many fell outside the range."""

    accepted: pa.Table
    quarantined: pa.Table
    outside_range: int = 0


def split(contract: SourceContract, check: RowCheck, start: dt.date | None = None,
          end: dt.date | None = None, keep: pa.Array | None = None) -> Split:
    """Accepted and quarantined rows whose business date is in [start, end] (or unreadable);
    ``keep`` narrows further (an online pull keeps only the requested party's rows)."""
    n = check.typed.num_rows
    wanted = pa.repeat(True, n) if keep is None else pc.fill_null(keep, False)
    outside = 0
    if check.business_date is not None and (start is not None or end is not None):
        dates = check.business_date
        in_range = pa.repeat(True, n)
        if start is not None:
            in_range = pc.and_(in_range, pc.greater_equal(dates, pa.scalar(start, pa.date32())))
        if end is not None:
            in_range = pc.and_(in_range, pc.less_equal(dates, pa.scalar(end, pa.date32())))
        in_range = pc.fill_null(in_range, True)
        outside = n - pc.sum(in_range).as_py() if n else 0
        wanted = pc.and_(wanted, in_range)
    ok = pc.is_null(check.reason)
    accepted = check.typed.filter(pc.and_(wanted, ok))
    bad = pc.and_(wanted, pc.invert(ok))
    return Split(accepted, quarantined_rows(contract, check, bad), outside)


def quarantined_rows(contract: SourceContract, check: RowCheck, mask: pa.Array) -> pa.Table:
    """The flagged rows with their raw values as text, row number, column and reason."""
    raw = check.raw.filter(mask)
    count = raw.num_rows
    columns: dict[str, pa.Array] = {
        "row_number": check.row_numbers.filter(mask), "column": check.column.filter(mask),
        "reason": check.reason.filter(mask), "raw_line": pa.nulls(count, pa.string())}
    for name in contract.names:
        columns[name] = (as_text(raw.column(name)) if name in raw.column_names
                         else pa.nulls(count, pa.string()))
    return pa.table(columns, schema=quarantine_schema(contract))


def unreadable_rows(contract: SourceContract, row_numbers: list[int], reasons: list[str],
                    raw_lines: list[str | None]) -> pa.Table:
    """Rows that could not even be split into columns (a broken CSV line, bad JSON)."""
    count = len(row_numbers)
    columns: dict[str, pa.Array] = {
        "row_number": pa.array(row_numbers, pa.int64()), "column": pa.nulls(count, pa.string()),
        "reason": pa.array(reasons, pa.string()), "raw_line": pa.array(raw_lines, pa.string())}
    for name in contract.names:
        columns[name] = pa.nulls(count, pa.string())
    return pa.table(columns, schema=quarantine_schema(contract))


def validate(contract: SourceContract, batch: pa.RecordBatch | pa.Table
             ) -> tuple[pa.Table, pa.Table]:
    """Check one batch on its own: (accepted, quarantined); row numbers count from 1."""
    result = split(contract, check_rows(contract, batch))
    return result.accepted, result.quarantined
