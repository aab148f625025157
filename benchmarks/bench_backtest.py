"""Backtest throughput: two pack versions over every historical application of a bank.

Uses the governed bank at ``--analytic`` (e.g. the prepared ``/work/benchdata/small/
analytic.duckdb``, opened read-only) or simulates one of ``--size`` in a work folder. The
champion is the default pack, the challenger the same pack with AF19 tightened (a realistic
comparison: ~1 in 6 outcomes change at ``tiny``). A scorecard is fitted once on the bank's
own approved applications (``demo_training_table``) and cached in the work folder.

Reported separately, because they differ by two orders of magnitude:

* cold — point-in-time tags computed from scratch (a fresh cache folder), as the first
  backtest on newly loaded data does;
* cached — the tags already on disk (every later backtest on the same data);

each as applications per second over the whole backtest (both versions decide each
application) — the median of ``--repeat`` runs (``--cold-repeat`` for cold, default 1 since
one cold run at ``small`` takes minutes). Figures are printed; nothing is asserted.

    python benchmarks/bench_backtest.py --analytic /work/benchdata/small/analytic.duckdb
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.modelling.workbench import fit
from xiaowei.origination.backtest import PackUnderTest, run_backtest
from xiaowei.origination.decide import DEFAULT_PACK, demo_training_table
from xiaowei.origination.history import PointInTimeTags
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore

AF19 = "when: app.amount > app.declared_revenue * 0.5, action: review"
AF19_STRICT = "when: app.amount > app.declared_revenue * 0.2, action: review"


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bank(args: argparse.Namespace, work: Path) -> Path:
    if args.analytic is not None:
        return args.analytic
    path = work / "analytic.duckdb"
    if not path.exists():
        t = time.perf_counter()
        simulate_and_load(work, args.size, 7, transactional=False)
        print(f"built a governed '{args.size}' bank in {time.perf_counter() - t:.0f} s",
              flush=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--analytic", type=Path, default=None)
    ap.add_argument("--size", default="small")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold-repeat", type=int, default=1)
    args = ap.parse_args()
    work = args.work or Path("var") / f"bench-backtest-{args.size}"
    work.mkdir(parents=True, exist_ok=True)
    path = bank(args, work)
    variant = work / "challenger.yaml"
    variant.write_text(DEFAULT_PACK.read_text("utf-8").replace(AF19, AF19_STRICT), "utf-8")
    champion = PackUnderTest("default", DEFAULT_PACK)
    challenger = PackUnderTest("AF19 stricter", variant)
    with AnalyticStore(path, read_only=args.analytic is not None) as analytic:
        model = work / "model"
        if not model.exists():
            fit(demo_training_table(analytic.connection, work / "train.parquet"), "bad", model)

        def models() -> RegistryModelResolver:
            return RegistryModelResolver(overrides={"app_score": model})

        def once(tags: PointInTimeTags) -> tuple[float, int, int]:
            t = time.perf_counter()
            result = run_backtest(analytic, champion, challenger, models=models, tags=tags)
            return time.perf_counter() - t, len(result.cases), len(tags.computed)

        cold = []
        for _ in range(args.cold_repeat):
            with tempfile.TemporaryDirectory(prefix="bench-pit-") as cache, \
                    PointInTimeTags(analytic, cache=Path(cache)) as tags:
                seconds, n, computed = once(tags)
                cold.append(seconds)
        with PointInTimeTags(analytic) as tags:
            once(tags)  # warm the shared cache (computes what is missing)
        cached = []
        for _ in range(args.repeat):
            with PointInTimeTags(analytic) as tags:
                seconds, n, computed = once(tags)
            assert computed == 0, "the cache was not warm"
            cached.append(seconds)
    c, w = statistics.median(cold), statistics.median(cached)
    print(f"{n:,} applications, 2 versions, at {path}")
    print(f"cold   (tags computed) median {c:7.2f} s  {n / c:9,.0f} applications/s  "
          f"(runs: {', '.join(f'{x:.1f}' for x in cold)})")
    print(f"cached (tags on disk)  median {w:7.2f} s  {n / w:9,.0f} applications/s  "
          f"{w / n / 2 * 1e3:.2f} ms a decision  (runs: {', '.join(f'{x:.2f}' for x in cached)})")
    print(f"peak RSS {_rss():,.0f} MB")


if __name__ == "__main__":
    main()
