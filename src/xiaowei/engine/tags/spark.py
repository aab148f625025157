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
import shutil
import subprocess
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from xiaowei.engine.tags.batch import (
    Sources,
    check_as_of,
    parquet_paths,
    staging_plan,
    tables_needed,
)
from xiaowei.engine.tags.catalogue import Catalogue, DefinedTag
from xiaowei.engine.tags.fusion import FusedGroup, fill, redirect
from xiaowei.engine.tags.layout import LongTable, Progress, TagResult, configure_duckdb
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


def local_session(app_name: str = "xiaowei-tags", cores: int = 2) -> SparkSession:
    """A local Spark session tuned to start fast: no UI, no Hive, few shuffle partitions."""
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
        .config("spark.sql.shuffle.partitions", str(int(cores)))
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
        staged = self._stage(chosen, as_of)
        parts: list[str] = []

        def single(tag: DefinedTag) -> str:
            if parts:  # the previous part has been copied into the long table by now
                con.unregister(parts[-1])
            name = f"spark_part_{len(parts)}"
            sql = self.sql(tag.name, list(staged))
            con.register(name, self.spark.sql(sql, args={"as_of": as_of}).toArrow())
            parts.append(name)
            return name

        def materialise(group: FusedGroup, name: str) -> None:
            sql = render(redirect(group.query, group.table, staged_name(group.table)), "spark")
            con.register(name, self.spark.sql(sql, args={"as_of": as_of}).toArrow())

        try:
            configure_duckdb(con)
            out = LongTable(con)
            fill(out, chosen, fuse=self.fuse, single=single, materialise=materialise,
                 params={"as_of": as_of}, progress=progress)
            return out.finish(as_of, [t.name for t in chosen], output)
        finally:
            con.close()
            for name, frame in staged.items():
                self.spark.catalog.dropTempView(staged_name(name))
                frame.unpersist()

    def _stage(self, chosen: Sequence[DefinedTag], as_of: dt.date) -> dict[str, DataFrame]:
        """The DuckDB runner's staging, as cached DataFrames (memory, then local disk)."""
        from pyspark import StorageLevel

        staged = {}
        for name, query in staging_plan(self.catalogue, chosen, "spark").items():
            frame = self.spark.sql(query, args={"as_of": as_of})
            frame.persist(StorageLevel.MEMORY_AND_DISK)
            frame.createOrReplaceTempView(staged_name(name))
            staged[name] = frame
        return staged


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
