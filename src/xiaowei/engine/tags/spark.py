"""Batch tags on Spark: the same catalogue, transpiled, over the same Parquet files.

Why Spark at all: a bank's nightly refresh of every tag for millions of entities outgrows one
machine, and its data platform already runs Spark. Why results match DuckDB: the tag SQL is the
same point-in-time tree rendered by sqlglot for Spark; the session is pinned to the semantics
the DuckDB side uses (UTC session time zone, non-ANSI arithmetic so that x / 0 is NULL on both);
and Spark returns only (entity_id, typed value) per tag — shaping into the long table and the
canonical value text are done by the very DuckDB SQL the DuckDB runner uses, so the fingerprint
cannot differ by formatting. pyspark is imported lazily: it and Java are optional.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from xiaowei.engine.tags.batch import (
    Sources,
    check_as_of,
    parquet_paths,
    tables_needed,
)
from xiaowei.engine.tags.catalogue import Catalogue, DefinedTag
from xiaowei.engine.tags.fusion import FusedGroup
from xiaowei.engine.tags.layout import LongTable, Progress, TagResult, configure_duckdb
from xiaowei.engine.tags.run_plan import execute
from xiaowei.engine.tags.sql import render, staged_name
from xiaowei.store.analytic import quote_identifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

JAVA_HINT = "run `bash scripts/ensure_java.sh` (installs Debian's default-jre-headless)"
# Settings that change results: they are forced on any session a runner is given.
RESULT_SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}


def java_version() -> str | None:
    """First line of ``java -version``, or None when no working Java is on PATH."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else "java"


def require_java() -> str:
    """The Java version, or a RuntimeError saying how to install it."""
    version = java_version()
    if version is None:
        raise RuntimeError(f"pyspark needs Java 17 or newer and no `java` works: {JAVA_HINT}")
    return version


def local_session(
    app_name: str = "xiaowei-tags", cores: int = 2, shuffle_partitions: int | None = None
) -> SparkSession:
    """A local Spark session tuned to start fast: no UI, no Hive, few shuffle partitions.

    The driver's heap is $XIAOWEI_SPARK_MEMORY (default 2g; Spark's own 1g is too small
    for a bank's tables); ``shuffle_partitions`` defaults to ``cores`` (right for tests —
    a bank's million entities want more, smaller partitions).
    """
    memory = os.environ.get("XIAOWEI_SPARK_MEMORY", "2g").strip()
    if not re.fullmatch(r"\d+[kmgt]", memory, re.IGNORECASE):
        raise ValueError(f"XIAOWEI_SPARK_MEMORY must look like 2g or 512m, got {memory!r}")
    partitions = int(shuffle_partitions or cores)
    require_java()
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise RuntimeError("pyspark is not installed: pip install 'xiaowei[spark]'") from exc
    builder = (
        SparkSession.builder.master(f"local[{int(cores)}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.driver.memory", memory)
        .config("spark.default.parallelism", str(int(cores)))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    for key, value in RESULT_SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkTagRunner:
    """Runs catalogue tags on a Spark session over the Parquet sources (as temp views)."""

    def __init__(
        self, catalogue: Catalogue, sources: Sources, spark: SparkSession, *, fuse: bool = True
    ) -> None:
        self.catalogue = catalogue
        self.fuse = fuse
        self.spark = spark
        for key, value in RESULT_SETTINGS.items():
            spark.conf.set(key, value)
        for name in tables_needed(catalogue, catalogue.select(), sources):
            quote_identifier(name, "table")
            frame = spark.read.parquet(*parquet_paths(sources[name]))
            frame.createOrReplaceTempView(name)

    def sql(self, tag: str, staged: Collection[str] = ()) -> str:
        """The Spark SQL text run for ``tag`` (``staged``: as in the DuckDB runner)."""
        compiled = self.catalogue.compiled(self.catalogue.tags[tag], staged=staged)
        return render(compiled, "spark")

    def run(
        self,
        as_of: dt.date,
        tags: Iterable[str] | None = None,
        progress: Progress | None = None,
        output: Path | None = None,
    ) -> TagResult:
        """All chosen tags for all entities as of ``as_of``; same layout as the DuckDB runner."""
        as_of = check_as_of(as_of)
        chosen = self.catalogue.select(tags)
        con = duckdb.connect(":memory:")
        try:
            configure_duckdb(con)
            out = LongTable(con, output)
            backend = _SparkBackend(self.spark, self, con, {"as_of": as_of})
            execute(out, self.catalogue, chosen, backend, dialect="spark", fuse=self.fuse,
                    params={"as_of": as_of}, progress=progress)
            return out.finish(as_of, [t.name for t in chosen])
        finally:
            con.close()


class _SparkBackend:
    """The run plan's steps on Spark: stored tables are cached DataFrames (memory, then local
    disk); each query's rows come back as Arrow into the long table's DuckDB connection."""

    def __init__(self, spark: SparkSession, runner: SparkTagRunner,
                 con: duckdb.DuckDBPyConnection, args: dict[str, object]) -> None:
        self._spark, self._runner, self._con, self._args = spark, runner, con, args
        self._frames: dict[str, DataFrame] = {}
        self._part: str | None = None

    def stage(self, table: str, sql: str) -> None:
        from pyspark import StorageLevel

        frame = self._spark.sql(sql, args=self._args).persist(StorageLevel.MEMORY_AND_DISK)
        frame.createOrReplaceTempView(staged_name(table))
        self._frames[table] = frame

    def unstage(self, table: str) -> None:
        self._spark.catalog.dropTempView(staged_name(table))
        self._frames.pop(table).unpersist()

    def single(self, tag: DefinedTag, staged: frozenset[str]) -> str:
        if self._part is not None:  # the previous part is in the long table by now
            self._con.unregister(self._part)
        self._part = "spark_part"
        sql = self._runner.sql(tag.name, staged)
        self._con.register(self._part, self._spark.sql(sql, args=self._args).toArrow())
        return self._part

    def fused(self, group: FusedGroup, sql: str, name: str) -> None:
        self._con.register(name, self._spark.sql(sql, args=self._args).toArrow())

    def release(self, name: str) -> None:
        self._con.unregister(name)


def run_spark(
    catalogue: Catalogue,
    sources: Sources,
    as_of: dt.date,
    spark: SparkSession,
    tags: Iterable[str] | None = None,
    progress: Progress | None = None,
    output: Path | None = None,
) -> TagResult:
    """One-shot batch run on an existing Spark session."""
    return SparkTagRunner(catalogue, sources, spark).run(as_of, tags, progress, output)
