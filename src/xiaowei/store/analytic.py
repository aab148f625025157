"""The analytic store: raw source data, tags, history and backtests in embedded DuckDB.

Why DuckDB: tags are SQL over whole tables, which a column store runs in seconds on a laptop
and which transpiles to Spark at a bank's scale. Why the identifier checks: table and schema
names end up inside SQL text, so they are held to ``^[a-z_][a-z0-9_]*$`` and quoted; every
other value (file paths included) travels as a bound parameter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.config import get_settings

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_IDENTIFIER = 63  # PostgreSQL's limit, kept so names survive a move to other engines
MEMORY = ":memory:"

ParquetSource = str | Path | Sequence[str | Path]


def memory_limit() -> str:
    """DuckDB's memory limit for the analytic store: $XIAOWEI_ANALYTIC_MEMORY or 4GB."""
    value = os.environ.get("XIAOWEI_ANALYTIC_MEMORY", "4GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise ValueError(f"XIAOWEI_ANALYTIC_MEMORY must look like 4GB or 512MB, got {value!r}")
    return value


def spill_directory() -> Path:
    """Where DuckDB connections without a database file spill: $XIAOWEI_HOME/duckdb-spill.

    DuckDB's own default is ``.tmp`` in whatever folder the process started in; a batch run
    over a whole bank may spill gigabytes, which belong with the rest of xiaowei's files.
    """
    return get_settings().home / "duckdb-spill"


def quote_identifier(name: str, what: str = "identifier") -> str:
    """``name`` double-quoted, after refusing anything but lower-case snake case."""
    if not isinstance(name, str) or not IDENTIFIER.match(name) or len(name) > MAX_IDENTIFIER:
        raise ValueError(
            f"{what} must match {IDENTIFIER.pattern} and have at most {MAX_IDENTIFIER} "
            f"characters, got {name!r}"
        )
    return f'"{name}"'


def _qualified(table: str, schema: str) -> str:
    return f"{quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"


def _paths(source: ParquetSource) -> list[str]:
    items = [source] if isinstance(source, str | Path) else list(source)
    if not items:
        raise ValueError("source must name at least one Parquet file, got an empty list")
    return [str(item) for item in items]


class AnalyticStore:
    """One DuckDB database (a file, or ``:memory:``); use it as a context manager."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        chosen = path if path is not None else get_settings().analytic_path
        self.path: Path | str = chosen if str(chosen) == MEMORY else Path(chosen)
        if isinstance(self.path, Path) and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(self.path), read_only=read_only)
        # DuckDB would take 80% of the machine by default; a bank's batch must share it.
        # Over the limit it spills to a folder next to the database instead of growing.
        self._connection.execute("SET memory_limit = ?", [memory_limit()])
        if isinstance(self.path, Path) and not read_only:
            spill = self.path.parent / "duckdb-spill"
            self._connection.execute("SET temp_directory = ?", [str(spill)])

    def __enter__(self) -> AnalyticStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for engine code that needs DuckDB beyond these helpers."""
        return self._connection

    def import_parquet(
        self, table: str, source: ParquetSource, schema: str = "raw", replace: bool = True
    ) -> int:
        """Load Parquet file(s) or a glob into ``schema.table``; return the rows loaded.

        ``replace`` swaps the whole table; otherwise rows are appended, matched by column
        name. Either way it is one transaction: a bad file leaves the old table untouched.
        """
        target = _qualified(table, schema)
        paths = _paths(source)
        con = self._connection
        con.begin()
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema, 'schema')}")
            create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
            con.execute(f"{create} {target} AS SELECT * FROM read_parquet(?) LIMIT 0", [paths])
            inserted = con.execute(
                f"INSERT INTO {target} BY NAME SELECT * FROM read_parquet(?)", [paths]
            ).fetchone()
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return int(inserted[0]) if inserted else 0

    def export_parquet(self, table: str, dest: Path, schema: str = "raw") -> int:
        """Write ``schema.table`` to one Parquet file at ``dest``; return the rows written."""
        source = _qualified(table, schema)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        relation = self._connection.sql(f"SELECT * FROM {source}")
        relation.write_parquet(str(dest), compression="zstd")
        return self.row_count(table, schema)

    def tables(self, schema: str | None = None) -> list[str]:
        """Table names in ``schema``; with no schema, every table as ``schema.table``."""
        if schema is not None:
            quote_identifier(schema, "schema")
            rows = self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ? ORDER BY table_name",
                [schema],
            )
            return [row[0] for row in rows]
        rows = self.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1"
        )
        return [row[0] for row in rows]

    def row_count(self, table: str, schema: str = "raw") -> int:
        rows = self.query(f"SELECT count(*) FROM {_qualified(table, schema)}")
        return int(rows[0][0])

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run internal SQL with bound parameters; never format outside values into ``sql``."""
        return self._connection.execute(sql, params or []).fetchall()

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run internal SQL and return the result as a pyarrow Table (zero extra copy)."""
        relation = self._connection.sql(sql, params=list(params) if params else None)
        to_table = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return to_table()
