"""Entity resolution: records per second, peak RSS, precision and recall against the truth.

Generates the synthetic bank (seed 7) once per size, then resolves it in a fresh process
per repeat (so peak RSS is that run's own). Quality is pairwise (overall and per source) and
cluster-level (true parties split, resolved parties mixing true ones). Not a test: nothing
here asserts a figure. The truth is read here, by the benchmark, never by the platform.

    python benchmarks/bench_entity_resolution.py                   # small ×3
    python benchmarks/bench_entity_resolution.py --sizes tiny small --repeat 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
import duckdb
from xiaowei.data.govern.resolve import (build_identity_records, resolution_quality,
                                         resolve_parties)
data = sys.argv[1]
t0 = time.perf_counter()
records = build_identity_records(data)
t1 = time.perf_counter()
result = resolve_parties(records)
t2 = time.perf_counter()
truth = f"{data}/truth"
labels = duckdb.connect().sql(
    f"SELECT record_id, party_idx AS true_party FROM '{truth}/record_links.parquet'"
    f" UNION ALL SELECT application_no, party_idx FROM '{truth}/applications.parquet'"
).to_arrow_table()
quality = resolution_quality(result.party_links, labels)
kinds = result.party_links.column("match_kind").value_counts().to_pylist()
print(json.dumps({
    "records": records.num_rows, "build_s": t1 - t0, "resolve_s": t2 - t1,
    "timings": result.timings, "parties": result.parties.num_rows,
    "match_kinds": {k["values"]: k["counts"] for k in kinds},
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "quality": quality,
}))
"""


def run_once(data: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(data)], check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(size: str, runs: list[dict]) -> None:
    last = runs[-1]
    seconds = statistics.median(r["build_s"] + r["resolve_s"] for r in runs)
    q = last["quality"]
    head = f"{last['records']:,} records → {last['parties']:,} parties"
    print(f"\n== {size}: {head} ({len(runs)} runs)")
    print(
        f"median {seconds:.2f} s = {last['records'] / seconds:,.0f} records/s "
        f"(build {statistics.median(r['build_s'] for r in runs):.2f} s, resolve "
        f"{statistics.median(r['resolve_s'] for r in runs):.2f} s; last run stages "
        + ", ".join(f"{k} {v:.2f}" for k, v in last["timings"].items())
        + f"); peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB"
    )
    print(f"match kinds {last['match_kinds']}")
    print(
        f"pairwise precision {q['precision']:.4f} recall {q['recall']:.4f} | "
        f"true parties split {q['split_share']:.4f} | resolved parties mixed "
        f"{q['mixed_share']:.4f} | true parties {q['true_parties']:.0f}, "
        f"resolved {q['resolved_parties']:.0f}"
    )
    print(f"{'source':20} {'precision':>9} {'recall':>8} {'true pairs':>12}")
    for source, s in q["by_source"].items():
        print(f"{source:20} {s['precision']:9.4f} {s['recall']:8.4f} {s['true_pairs']:12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["small"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from xiaowei.sim import generate

    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-er-{size}-") as out:
            generate(size, 7, Path(out))
            report(size, [run_once(Path(out)) for _ in range(args.repeat)])


if __name__ == "__main__":
    main()
