"""The bank catalogue's tags on a governed simulated bank: batch, online, latest read.

Builds (or reuses) a governed bank of the given size in a work folder, then measures, side
by side in one run: all tags for all parties on DuckDB and on Spark (source rows per second,
peak RSS of this process), one party's tags computed online, and one party's latest tags
read from the history. Figures are printed; nothing is asserted.

    python benchmarks/bench_tags_bank.py --size small --repeat 3 [--no-spark]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.data.tags.service import bank_catalogue, data_as_of, export_governed
from xiaowei.engine.tags import OnlineTags, TagHistory, run_duckdb
from xiaowei.store.analytic import AnalyticStore


def build(size: str, work: Path) -> Path:
    store_path = work / "analytic.duckdb"
    if store_path.exists():
        return store_path
    t = time.perf_counter()
    # Only the analytic side matters for tags: sources through their contracts, then govern.
    simulate_and_load(work, size, 7, transactional=False)
    print(f"built a governed '{size}' bank in {time.perf_counter() - t:.0f} s "
          f"(peak RSS {_rss():,.0f} MB)", flush=True)
    return store_path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--unfused", action="store_true",
                    help="also run tag by tag (no fusion), side by side")
    args = ap.parse_args()
    work = args.work or Path("var") / f"bench-tags-{args.size}"
    store_path = build(args.size, work)
    cat = bank_catalogue()
    with AnalyticStore(store_path) as store:
        sources = export_governed(store, cat)
        as_of = data_as_of(store)
        source_rows = sum(store.row_count(t, "gov") for t in cat.tables)
        parties = [r[0] for r in store.connection.execute(
            "SELECT party_id FROM gov.party_profile ORDER BY party_id LIMIT 200").fetchall()]
    print(f"{len(cat.tags)} tags over {source_rows:,} governed rows, as of {as_of}", flush=True)
    runs, finishing = [], []
    for _ in range(args.repeat):
        marks: list[float] = []
        t = time.perf_counter()
        result = run_duckdb(cat, sources, as_of, output=work / "tag-runs" / "duckdb",
                            progress=lambda *_, m=marks: m.append(time.perf_counter()))
        runs.append(time.perf_counter() - t)
        finishing.append(t + runs[-1] - marks[-1])
    duck = statistics.median(runs)
    print(f"duckdb batch   of which checking, fingerprinting and writing the rows "
          f"{statistics.median(finishing):.2f} s", flush=True)
    print(f"duckdb batch   median {duck:7.2f} s  {source_rows / duck:12,.0f} source rows/s  "
          f"{result.rows:,} values  peak RSS {_rss():,.0f} MB")
    if args.unfused:
        from xiaowei.engine.tags.batch import DuckDBTagRunner

        plain_runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            with DuckDBTagRunner(cat, sources, fuse=False) as runner:
                plain = runner.run(as_of, output=work / "tag-runs" / "duckdb-unfused")
            plain_runs.append(time.perf_counter() - t)
        unfused = statistics.median(plain_runs)
        print(f"duckdb unfused median {unfused:7.2f} s  {source_rows / unfused:12,.0f} source "
              f"rows/s  fused is {unfused / duck:.2f}× faster  same fingerprint: "
              f"{plain.fingerprint == result.fingerprint}", flush=True)
    if not args.no_spark:
        from xiaowei.engine.tags.spark import local_session, run_spark

        t = time.perf_counter()
        spark = local_session("bench-tags", shuffle_partitions=16)
        start = time.perf_counter() - t
        sruns = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            sres = run_spark(cat, sources, as_of, spark=spark, output=work / "tag-runs" / "spark",
                             progress=lambda name, done, total: print(
                                 f"  spark {done}/{total} {name}", flush=True))
            sruns.append(time.perf_counter() - t)
        sp = statistics.median(sruns)
        print(f"spark batch    median {sp:7.2f} s  {source_rows / sp:12,.0f} source rows/s  "
              f"(+{start:.1f} s session start)  same fingerprint: "
              f"{sres.fingerprint == result.fingerprint}  ratio spark/duckdb {sp / duck:.1f}×  "
              f"peak RSS of this process {_rss():,.0f} MB (Spark's JVM not included)", flush=True)
    online = OnlineTags(cat, sources, entity="party")
    times = []
    for party in parties:
        t = time.perf_counter()
        online.values(party, as_of)
        times.append((time.perf_counter() - t) * 1000)
    online.close()
    times.sort()
    print(f"online compute median {statistics.median(times):7.1f} ms  p95 "
          f"{times[int(len(times) * 0.95)]:.1f} ms  ({len(times)} parties, all tags)")
    (work / "tag-history.duckdb").unlink(missing_ok=True)
    history = TagHistory(work / "tag-history.duckdb")
    history.apply(result)
    reads = []
    for party in parties:
        t = time.perf_counter()
        history.latest(party)
        reads.append((time.perf_counter() - t) * 1000)
    reads.sort()
    print(f"latest read    median {statistics.median(reads):7.3f} ms  p95 "
          f"{reads[int(len(reads) * 0.95)]:.3f} ms")


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
