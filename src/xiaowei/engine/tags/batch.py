"""Batch tags on DuckDB: every tag (or a selection) for every entity, as of one date.

Why this shape: the governed tables arrive as Parquet (the same files Spark reads), become
DuckDB views over those files in one private connection, and each tag's point-in-time query
runs there with ``as_of`` bound as a parameter; rows go straight into the long table inside
DuckDB, so no value makes a round trip through Python until the finished Arrow table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from types import TracebackType

import duckdb

from xiaowei.engine.tags.catalogue import Catalogue, DefinedTag
from xiaowei.engine.tags.fusion import FusedGroup
from xiaowei.engine.tags.layout import LongTable, Progress, TagResult, configure_duckdb
from xiaowei.engine.tags.run_plan import execute, used_parameters
from xiaowei.engine.tags.sql import render, staged_name
from xiaowei.store.analytic import ParquetSource, quote_identifier

Sources = Mapping[str, ParquetSource]
STAGE_MIN_READERS = 2  # tags over one table before its point-in-time rows are stored once


def check_as_of(as_of: object) -> dt.date:
    """``as_of`` must be a date (a datetime would silently shift the point in time)."""
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    return as_of


def parquet_paths(source: ParquetSource) -> list[str]:
    """The Parquet file(s) of one source as a non-empty list of strings."""
    items = [source] if isinstance(source, str) or hasattr(source, "__fspath__") else source
    paths = [str(p) for p in items]  # type: ignore[union-attr]
    if not paths:
        raise ValueError("a source must name at least one Parquet file, got an empty list")
    return paths


def tables_needed(catalogue: Catalogue, tags: Iterable[DefinedTag], sources: Sources) -> list[str]:
    """Declared tables the tags read; refuse a missing source or an undeclared source name."""
    for name in sources:
        quote_identifier(name, "table")
        if name not in catalogue.tables:
            raise KeyError(f"source {name!r} is not a table declared in the catalogue")
    needed = list(dict.fromkeys(name for tag in tags for name in tag.reads))
    missing = [name for name in needed if name not in sources]
    if missing:
        raise KeyError(f"no Parquet source given for tables {missing}")
    return needed


def required_columns(catalogue: Catalogue, table: str) -> set[str]:
    """Columns the engine itself relies on in ``table`` (point-in-time and entity keys)."""
    t = catalogue.tables[table]
    cols = {t.known_at} | ({t.valid_from} if t.valid_from else set())
    return cols | {catalogue.key_of(table, e) or "" for e in catalogue.entities} - {""}


def register_views(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, sources: Sources, names: Iterable[str]
) -> None:
    """Make each governed table a view over its Parquet file(s); check its declared columns."""
    for name in names:
        relation = con.read_parquet(parquet_paths(sources[name]))
        missing = required_columns(catalogue, name) - set(relation.columns)
        if missing:
            raise KeyError(f"table {name!r} lacks declared columns {sorted(missing)}")
        relation.to_view(name, replace=True)


class DuckDBTagRunner:
    """Runs catalogue tags over Parquet sources in one private DuckDB connection."""

    def __init__(
        self,
        catalogue: Catalogue,
        sources: Sources,
        *,
        tags: Iterable[str] | None = None,
        threads: int | None = None,
        fuse: bool = True,
    ) -> None:
        """``tags``: the tags this runner may run (default all); only the tables they read
        need a source, so a runner over part of a catalogue needs only part of the data.
        ``fuse``: run tags of one table and shape as one query (see ``fusion``)."""
        self.catalogue = catalogue
        self.fuse = fuse
        self.sources = dict(sources)
        self._con = duckdb.connect(":memory:")
        configure_duckdb(self._con)
        if threads is not None:
            self._con.execute("SET threads = $n", {"n": int(threads)})
        prepared = catalogue.select(tags)
        names = tables_needed(catalogue, prepared, self.sources)
        register_views(self._con, catalogue, self.sources, names)
        self._prepared = {tag.name: tag for tag in prepared}
        self._sql: dict[tuple[str, frozenset[str]], str] = {}

    def __enter__(self) -> DuckDBTagRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def sql(self, tag: str, staged: Collection[str] = ()) -> str:
        """The DuckDB text run for ``tag`` (for review and debugging); ``staged``: the tables
        read from their stored point-in-time copy rather than through a CTE."""
        key = (tag, frozenset(staged))
        if key not in self._sql:
            compiled = self.catalogue.compiled(self._prepared[tag], staged=staged)
            self._sql[key] = render(compiled, "duckdb")
        return self._sql[key]

    def run(
        self,
        as_of: dt.date,
        tags: Iterable[str] | None = None,
        progress: Progress | None = None,
        output: Path | None = None,
    ) -> TagResult:
        """All chosen tags for all entities as of ``as_of``, in the long layout.

        ``output``: a folder to write the rows to, one Parquet file per tag, instead of
        returning them in memory (what a whole-bank run should do; see ``TagResult``).
        """
        as_of = check_as_of(as_of)
        chosen = self.catalogue.select(tags if tags is not None else list(self._prepared))
        unprepared = [t.name for t in chosen if t.name not in self._prepared]
        if unprepared:
            raise KeyError(f"tags {unprepared} were not given to this runner when it was made")
        params = {"as_of": as_of}
        out = LongTable(self._con, output)
        execute(out, self.catalogue, chosen, _DuckDBBackend(self, params), dialect="duckdb",
                fuse=self.fuse, params=params, progress=progress)
        return out.finish(as_of, [t.name for t in chosen])


class _DuckDBBackend:
    """The run plan's steps as statements on the runner's own connection."""

    def __init__(self, runner: DuckDBTagRunner, params: dict[str, object]) -> None:
        self._runner = runner
        self._con = runner._con
        self._params = params

    def stage(self, table: str, sql: str) -> None:
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {staged_name(table)} AS {sql}",
                          used_parameters(sql, self._params))

    def unstage(self, table: str) -> None:
        self._con.execute(f"DROP TABLE IF EXISTS {staged_name(table)}")

    def single(self, tag: DefinedTag, staged: frozenset[str]) -> str:
        return f"({self._runner.sql(tag.name, staged)})"

    def fused(self, group: FusedGroup, sql: str, name: str) -> None:
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}",
                          used_parameters(sql, self._params))

    def release(self, name: str) -> None:
        self._con.execute(f"DROP TABLE IF EXISTS {name}")


def run_duckdb(
    catalogue: Catalogue,
    sources: Sources,
    as_of: dt.date,
    tags: Iterable[str] | None = None,
    progress: Progress | None = None,
    output: Path | None = None,
) -> TagResult:
    """One-shot batch run on DuckDB (opens and closes its own connection)."""
    with DuckDBTagRunner(catalogue, sources, tags=tags) as runner:
        return runner.run(as_of, progress=progress, output=output)
