"""File connectors: Parquet, CSV and JSON Lines, with one behaviour.

Why CSV and JSON Lines are read as text: a bank receives these files from outside systems,
and one bad value ("12万" in an amount column) must quarantine one row, not fail the reader on
the whole file. The contract types the text afterwards, exactly as it types a Parquet file's
values, so the three kinds of the same data give the same accepted and quarantined rows. A
line that cannot even be split into columns (a CSV row with too many fields, a JSON line that
is not JSON) is quarantined too, with its raw text.

All three stream in batches, so a source larger than memory loads; online pulls scan the file
(fine for files; a bank's online sources are HTTP).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.data.sources.connector import (
    Connector,
    PartyKey,
    SourceRows,
    SourceUnavailable,
    concat_rows,
    party_mask,
)
from xiaowei.data.sources.contract import SourceContract
from xiaowei.data.sources.text import records_as_text
from xiaowei.data.sources.validate import check_rows, split, unreadable_rows


class FileSourceConfig(BaseModel):
    """Where a file source lies; a relative path is taken from the config file's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["parquet", "csv", "jsonl"]
    path: str
    batch_rows: int = Field(default=65_536, ge=1, le=10_000_000)
    encoding: str = "utf-8"


@dataclass
class RawBatch:
    """Rows as read, their 1-based numbers in the file, and lines that could not be read."""

    table: pa.Table
    row_numbers: pa.Array
    unreadable: list[tuple[int, str, str | None]] = field(default_factory=list)


class FileConnector(Connector):
    """Shared behaviour of the file kinds; each kind only says how to read its batches."""

    config_model = FileSourceConfig

    def __init__(self, name: str, contract: SourceContract, path: Path | str,
                 batch_rows: int = 65_536, encoding: str = "utf-8") -> None:
        self.name, self.contract, self.path = name, contract, Path(path)
        self.batch_rows, self.encoding = batch_rows, encoding

    @classmethod
    def from_config(cls, name: str, contract: SourceContract, config: Any,
                    base_dir: Any = None) -> FileConnector:
        cfg = FileSourceConfig.model_validate(config)
        if cfg.type != cls.type_name:
            raise ValueError(f"{cls.__name__} reads {cls.type_name!r} files, not {cfg.type!r}")
        path = Path(cfg.path)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return cls(name, contract, path, cfg.batch_rows, cfg.encoding)

    @abstractmethod
    def _read(self) -> Iterator[RawBatch]:
        """The file's rows in batches, values as they are stored."""

    def _batches(self) -> Iterator[RawBatch]:
        if not self.path.is_file():
            raise SourceUnavailable(self.name, "unreadable", f"no file at {self.path}")
        try:
            yield from self._read()
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise SourceUnavailable(self.name, "unreadable", f"{self.path}: {exc}") from None

    def bulk(self, start: dt.date | None = None, end: dt.date | None = None
             ) -> Iterator[SourceRows]:
        if start is not None and end is not None and start > end:
            raise ValueError(f"start {start} is after end {end}")
        seen: set[str] = set()
        for raw in self._batches():
            check = check_rows(self.contract, raw.table, raw.row_numbers, seen)
            result = split(self.contract, check, start, end)
            quarantined = result.quarantined
            if raw.unreadable:
                numbers, reasons, lines = (list(x) for x in zip(*raw.unreadable, strict=True))
                bad = unreadable_rows(self.contract, numbers, reasons, lines)
                quarantined = pa.concat_tables([bad, quarantined]).sort_by("row_number")
            yield SourceRows(self.name, result.accepted, quarantined, result.outside_range,
                             check.extra_columns)

    def online(self, key: PartyKey) -> SourceRows:
        """The party's rows; lines that cannot be read belong to no one and are left to bulk
        loads to report."""
        parts: list[SourceRows] = []
        seen: set[str] = set()
        for raw in self._batches():
            mask = party_mask(self.contract, raw.table, key)
            if not pc.any(mask).as_py():
                continue
            check = check_rows(self.contract, raw.table.filter(mask),
                               raw.row_numbers.filter(mask), seen)
            result = split(self.contract, check)
            parts.append(SourceRows(self.name, result.accepted, result.quarantined,
                                    extra_columns=check.extra_columns))
        return concat_rows(self.contract, parts)


def _numbers(first: int, count: int) -> pa.Array:
    return pa.array(range(first, first + count), pa.int64())


class ParquetConnector(FileConnector):
    """A Parquet file, read one row group's worth of batches at a time."""

    type_name = "parquet"

    def _read(self) -> Iterator[RawBatch]:
        done = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_rows):
            yield RawBatch(pa.Table.from_batches([batch]), _numbers(done + 1, batch.num_rows))
            done += batch.num_rows


class CsvConnector(FileConnector):
    """A CSV file with a header line; every value is read as text.

    An unquoted empty field is a missing value; a quoted one ("") is an empty text, so the
    two stay apart as they do in Parquet.
    """

    type_name = "csv"

    def _header(self) -> list[str]:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            first = next(csv.reader(handle), [])
        return [name.lstrip("\ufeff") for name in first]

    def _read(self) -> Iterator[RawBatch]:
        header = self._header()
        if len(set(header)) != len(header):
            raise pa.ArrowInvalid(f"the header names a column twice: {header}")
        broken: dict[int, tuple[str, str]] = {}

        def skip_broken(row: Any) -> str:
            number = row.number - 1 if row.number and row.number > 0 else -1
            reason = (f"malformed CSV row: {row.actual_columns} fields, "
                      f"expected {row.expected_columns}")
            broken[number] = (reason, row.text)
            return "skip"

        reader = pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(use_threads=False, encoding=self.encoding,
                                          block_size=1 << 22),
            parse_options=pcsv.ParseOptions(invalid_row_handler=skip_broken,
                                            newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=False))
        next_number = 1
        for batch in reader:
            numbers = []
            while len(numbers) < batch.num_rows:
                if next_number not in broken:
                    numbers.append(next_number)
                next_number += 1
            unreadable = [(n, *broken.pop(n)) for n in sorted(broken) if n < next_number]
            yield RawBatch(pa.Table.from_batches([batch]), pa.array(numbers, pa.int64()),
                           unreadable)
        if broken:  # broken lines after the last good row
            rest = [(n, *broken.pop(n)) for n in sorted(broken)]
            yield RawBatch(pa.table({n: pa.array([], pa.string()) for n in header}),
                           pa.array([], pa.int64()), rest)


class JsonLinesConnector(FileConnector):
    """One JSON object per line; the row number is the line number."""

    type_name = "jsonl"

    def _read(self) -> Iterator[RawBatch]:
        records: list[dict[str, Any]] = []
        numbers: list[int] = []
        unreadable: list[tuple[int, str, str | None]] = []
        with self.path.open(encoding=self.encoding) as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    unreadable.append((line_no, f"not valid JSON: {exc.msg}", line.rstrip("\n")))
                    continue
                if not isinstance(record, dict):
                    unreadable.append((line_no, "not a JSON object", line.rstrip("\n")))
                    continue
                records.append(record)
                numbers.append(line_no)
                if len(records) >= self.batch_rows:
                    yield RawBatch(records_as_text(records), pa.array(numbers, pa.int64()),
                                   unreadable)
                    records, numbers, unreadable = [], [], []
        if records or unreadable:
            yield RawBatch(records_as_text(records), pa.array(numbers, pa.int64()), unreadable)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def export_table(parquet_path: Path | str, kind: Literal["csv", "jsonl"],
                 out_path: Path | str) -> Path:
    """Write a Parquet table as CSV or JSON Lines, to test the file kinds on the same data
    (and to hand a source to a tool that only reads text)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(parquet_path)
    if kind == "csv":
        pcsv.write_csv(table, out)
        return out
    with out.open("w", encoding="utf-8") as handle:
        for batch in table.to_batches(max_chunksize=10_000):
            for record in batch.to_pylist():
                handle.write(json.dumps(record, ensure_ascii=False, default=_json_default))
                handle.write("\n")
    return out
