"""Tag engine throughput: DuckDB batch, Spark batch, online compute and latest read.

Synthetic governed tables (~1M rows by default: 20k entities, their events, monthly snapshots,
and a reference table) and a 20-tag catalogue written to a temporary directory; each figure is
the median of ``--repeat`` runs. Not a test: nothing here asserts a time.

    python benchmarks/bench_tags_engine.py                  # ~1M rows, DuckDB + Spark
    python benchmarks/bench_tags_engine.py --entities 2000 --no-spark
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.engine.tags import DuckDBTagRunner, OnlineTags, TagHistory, load_catalogue

AS_OF = dt.date(2024, 6, 30)
START = dt.date(2023, 7, 1)

HEAD = """\
entities:
  - {name: unit, key: unit_id}
tables:
  - {name: units, keys: [unit], known_at: known_at}
  - {name: events, keys: [unit], known_at: known_at, valid_from: happened_on}
  - {name: snapshots, keys: [unit], known_at: known_at, valid_from: month_end}
  - {name: codes, reference: true, known_at: known_at}
tags:
"""
WINDOWS = (7, 30, 90, 180)
TAGS: list[tuple[str, str, str]] = [
    *[
        (
            f"event_count_{w}d",
            "int",
            f"SELECT unit_id AS entity_id, count(*) AS value FROM events "
            f"WHERE happened_on > :as_of - INTERVAL {w} DAY GROUP BY unit_id",
        )
        for w in WINDOWS
    ],
    *[
        (
            f"event_amount_{w}d",
            "decimal",
            f"SELECT unit_id AS entity_id, sum(amount) AS value FROM events "
            f"WHERE happened_on > :as_of - INTERVAL {w} DAY GROUP BY unit_id",
        )
        for w in WINDOWS
    ],
    *[
        (
            f"event_mean_{w}d",
            "float",
            f"SELECT unit_id AS entity_id, avg(CAST(amount AS DOUBLE)) AS value FROM events "
            f"WHERE happened_on > :as_of - INTERVAL {w} DAY GROUP BY unit_id",
        )
        for w in WINDOWS
    ],
    (
        "flagged_share",
        "float",
        "SELECT unit_id AS entity_id, avg(CASE WHEN flagged THEN 1.0 ELSE 0.0 END) AS value "
        "FROM events GROUP BY unit_id",
    ),
    (
        "ever_flagged",
        "bool",
        "SELECT unit_id AS entity_id, bool_or(flagged) AS value FROM events GROUP BY unit_id",
    ),
    (
        "last_event_date",
        "date",
        "SELECT unit_id AS entity_id, max(happened_on) AS value FROM events GROUP BY unit_id",
    ),
    (
        "latest_level",
        "decimal",
        "SELECT unit_id AS entity_id, arg_max(level, month_end) AS value FROM snapshots "
        "GROUP BY unit_id",
    ),
    (
        "level_growth_6m",
        "float",
        "SELECT unit_id AS entity_id, (max(level) - min(level)) / nullif(min(level), 0) AS value "
        "FROM snapshots WHERE month_end > :as_of - INTERVAL 180 DAY GROUP BY unit_id",
    ),
    (
        "group_name",
        "string",
        "SELECT u.unit_id AS entity_id, c.label AS value FROM units AS u "
        "JOIN codes AS c ON c.code = u.group_code",
    ),
    (
        "days_since_start",
        "int",
        "SELECT unit_id AS entity_id, date_diff('day', min(started_on), :as_of) AS value "
        "FROM units GROUP BY unit_id",
    ),
    (
        "distinct_channels_90d",
        "int",
        "SELECT unit_id AS entity_id, count(DISTINCT channel) AS value FROM events "
        "WHERE happened_on > :as_of - INTERVAL 90 DAY GROUP BY unit_id",
    ),
]


def catalogue_text() -> str:
    parts = [HEAD]
    for name, kind, sql in TAGS:
        parts.append(
            f"  - name: {name}\n    label: {{zh: 标签{name}, en: {name}}}\n    category: fact\n"
            f"    entity: unit\n    type: {kind}\n    unit: ''\n    cadence: daily\n"
            f"    owner: bench\n    version: 1\n    description: benchmark tag\n"
            f'    sql: "{sql}"\n'
        )
    return "".join(parts)


def write_data(folder: Path, entities: int, events_per: int, seed: int = 7) -> dict[str, Path]:
    """Synthetic tables; known_at lags the event by 0–5 days, a few rows by 60."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"u{i:06d}" for i in range(entities)])
    days = (AS_OF - START).days
    base = np.datetime64(START)
    n = entities * events_per
    happened = base + rng.integers(0, days + 30, n).astype("timedelta64[D]")
    lag = np.where(rng.random(n) < 0.02, 60, rng.integers(0, 6, n)).astype("timedelta64[D]")
    order = np.argsort(np.repeat(np.arange(entities), events_per), kind="stable")
    events = pa.table(
        {
            "unit_id": np.repeat(ids, events_per)[order],
            "happened_on": happened[order],
            "amount": pa.array((rng.integers(100, 10_000_000, n) / 100).round(2)).cast(
                pa.decimal128(14, 2)
            ),
            "flagged": rng.random(n) < 0.03,
            "channel": rng.choice(["a", "b", "c", "d", "e"], n),
            "known_at": (happened + lag).astype("datetime64[us]") + np.timedelta64(9, "h"),
        }
    )
    months = 12
    month_ends = np.array(
        [np.datetime64(START) + np.timedelta64(30 * (m + 1), "D") for m in range(months)]
    )
    snapshots = pa.table(
        {
            "unit_id": np.repeat(ids, months),
            "month_end": np.tile(month_ends, entities),
            "level": pa.array(rng.integers(0, 50_000_000, entities * months) / 100).cast(
                pa.decimal128(16, 2)
            ),
            "known_at": (np.tile(month_ends, entities) + np.timedelta64(3, "D")).astype(
                "datetime64[us]"
            ),
        }
    )
    units = pa.table(
        {
            "unit_id": ids,
            "group_code": rng.integers(0, 30, entities),
            "started_on": base - rng.integers(0, 3000, entities).astype("timedelta64[D]"),
            "known_at": np.full(entities, np.datetime64(START, "us")),
        }
    )
    codes = pa.table(
        {
            "code": np.arange(30),
            "label": [f"组{i}" for i in range(30)],
            "known_at": np.full(30, np.datetime64(START, "us")),
        }
    )
    paths = {}
    for name, table in {
        "events": events,
        "snapshots": snapshots,
        "units": units,
        "codes": codes,
    }.items():
        paths[name] = folder / f"{name}.parquet"
        pq.write_table(table, paths[name])
    return paths


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_call_ms(fn: Callable[[str], object], ids: list[str]) -> tuple[float, float]:
    times = []
    for entity in ids:
        t0 = time.perf_counter()
        fn(entity)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--events-per-entity", type=int, default=38)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--online-calls", type=int, default=300)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tags-") as tmp:
        folder = Path(tmp)
        (folder / "cat").mkdir()
        (folder / "cat" / "bench.yaml").write_text(catalogue_text(), "utf-8")
        catalogue = load_catalogue(folder / "cat")
        sources = write_data(folder, args.entities, args.events_per_entity)
        rows = sum(pq.read_metadata(p).num_rows for p in sources.values())
        print(
            f"input: {rows:,} rows, {args.entities:,} entities, {len(catalogue.tags)} tags, "
            f"as of {AS_OF}, median of {args.repeat}"
        )

        with DuckDBTagRunner(catalogue, sources) as runner:
            result = runner.run(AS_OF)
            secs = median_seconds(lambda: runner.run(AS_OF), args.repeat)
        print(
            f"duckdb batch : {secs:7.2f} s  {rows / secs:12,.0f} input rows/s  "
            f"{result.table.num_rows:,} tag values  {result.fingerprint[:16]}"
        )

        if not args.no_spark:
            from xiaowei.engine.tags.spark import SparkTagRunner, local_session

            t0 = time.perf_counter()
            spark = local_session("bench-tags")
            started = time.perf_counter() - t0
            spark_runner = SparkTagRunner(catalogue, sources, spark)
            spark_result = spark_runner.run(AS_OF)  # warm-up: JIT, file listing
            secs = median_seconds(lambda: spark_runner.run(AS_OF), args.repeat)
            same = "same" if spark_result.fingerprint == result.fingerprint else "DIFFERENT"
            print(
                f"spark batch  : {secs:7.2f} s  {rows / secs:12,.0f} input rows/s  "
                f"(session start {started:.1f} s, local[2])  fingerprint {same}"
            )
            spark.stop()

        rng = np.random.default_rng(1)
        ids = [f"u{i:06d}" for i in rng.integers(0, args.entities, args.online_calls)]
        history = TagHistory(folder / "history.duckdb")
        t0 = time.perf_counter()
        history.apply(result)
        applied = time.perf_counter() - t0
        with DuckDBTagRunner(catalogue, sources) as runner:
            next_day = runner.run(AS_OF + dt.timedelta(days=1))
        t0 = time.perf_counter()
        changed = history.apply(next_day)
        applied_next = time.perf_counter() - t0
        t0 = time.perf_counter()
        history.refresh()
        built = time.perf_counter() - t0
        print(
            f"history      : first run {applied:.2f} s, next day {applied_next:.2f} s "
            f"({changed:,} intervals opened/closed, {history.row_count():,} stored for "
            f"{result.table.num_rows + next_day.table.num_rows:,} values); "
            f"latest snapshot built in {built:.2f} s"
        )
        online = OnlineTags(catalogue, sources, history=history)
        online.compute(ids[0], AS_OF)  # warm-up
        online.latest(ids[0])
        med, p99 = per_call_ms(lambda e: online.compute(e, AS_OF), ids)
        print(
            f"online compute: median {med:6.2f} ms  p99 {p99:6.2f} ms  "
            f"({1000 / med:,.0f} entities/s, {len(catalogue.tags)} tags each)"
        )
        med, p99 = per_call_ms(online.latest, ids)
        print(
            f"latest read   : median {med:6.3f} ms  p99 {p99:6.3f} ms  "
            f"({1000 / med:,.0f} entities/s)"
        )
        online.close()
        history.close()


if __name__ == "__main__":
    main()
