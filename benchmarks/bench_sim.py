"""Simulator throughput and memory: rows per second and peak RSS, per size.

Each run is a fresh process (so peak RSS is that run's own); sizes run side by side in one
invocation and the medians are printed. Not a test: nothing here asserts a time.

    python benchmarks/bench_sim.py                     # small ×3, bank ×1
    python benchmarks/bench_sim.py --sizes small --repeat 5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from xiaowei.sim import generate
from xiaowei.sim.population import build  # noqa: F401  (import cost outside the timing)
size, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
r = generate(size, 7, out)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rows": r.total_rows, "fingerprint": r.fingerprint,
                  "flow_rows": sum(v for k, v in r.tables.items() if k in (
                      "raw.core_flows", "raw.tax_invoices", "raw.utility_readings",
                      "raw.tax_filings"))}))
"""


def run_once(size: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run([sys.executable, "-c", CHILD, size, out], check=True,
                              capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        # ru_maxrss of children is the max over all children so far: report the new peak.
        result["peak_rss_mb"] = max(after, before) / 1024
        result["disk_mb"] = sum(f.stat().st_size for f in Path(out).rglob("*")
                                if f.is_file()) / 2**20
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["small", "bank"])
    ap.add_argument("--repeat", type=int, default=3, help="runs per size except bank (1)")
    args = ap.parse_args()
    print(f"{'size':6} {'runs':>4} {'rows':>13} {'flow rows':>12} {'median s':>9} "
          f"{'rows/s':>11} {'peak RSS MB':>11} {'disk MB':>8}")
    for size in args.sizes:
        runs = []
        n = 1 if size == "bank" else args.repeat
        for i in range(n):
            started = time.perf_counter()
            runs.append(run_once(size))
            print(f"  {size} run {i + 1}/{n}: {time.perf_counter() - started:.1f} s",
                  file=sys.stderr, flush=True)
        secs = statistics.median(r["seconds"] for r in runs)
        rows = runs[0]["rows"]
        print(f"{size:6} {n:>4} {rows:>13,} {runs[0]['flow_rows']:>12,} {secs:>9.1f} "
              f"{rows / secs:>11,.0f} {max(r['peak_rss_mb'] for r in runs):>11,.0f} "
              f"{runs[0]['disk_mb']:>8,.0f}", flush=True)


if __name__ == "__main__":
    main()
