"""The nightly post-loan batch on a governed simulated bank: wall time per step and peak RSS.

Issue 7's goal: the batch at ``bank`` size on 2 cores within 10 minutes and 8 GB. Runs
``run_monitoring`` on an existing governed store (build one with ``bench_tags_bank.py --size
bank --work DIR``) for one or more days, first with only the tags the warning signals read,
then (``--full``) refreshing the whole catalogue into the tag history as the production batch
does. Figures are printed; nothing is asserted. The batch writes its ``postloan`` tables into
the store it is given.

    python benchmarks/bench_postloan_bank.py --store /work/benchdata/bank/analytic.duckdb [--full]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.store.analytic import AnalyticStore


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--days", type=int, default=2, help="consecutive days ending at the as-of")
    ap.add_argument("--full", action="store_true", help="refresh the whole tag catalogue")
    ap.add_argument("--engine", default="duckdb")
    args = ap.parse_args()
    with AnalyticStore(args.store, read_only=False) as analytic:
        last = data_as_of(analytic)
        for back in range(args.days - 1, -1, -1):
            day = last - dt.timedelta(days=back)
            started = time.perf_counter()
            run = run_monitoring(
                analytic, day, engine=args.engine, full_tags=args.full,
                progress=lambda _t, done, total: print(f"  tags {done}/{total}", end="\r",
                                                       flush=True))
            wall = time.perf_counter() - started
            doc = run.to_json()
            print(f"\n{day} {args.engine} full={args.full}: {wall:.1f} s wall, peak RSS "
                  f"{_rss_mb():,.0f} MB; {doc['loans']:,} loans, {doc['borrowers']:,} "
                  f"borrowers, raised {doc['warnings_raised']}, steps {doc['seconds']}",
                  flush=True)
            print(json.dumps({k: doc[k] for k in ("tracks", "classes", "stages",
                                                  "inspections_due")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
