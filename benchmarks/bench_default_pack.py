"""The default pack's decision latency on real simulated applications, models included.

Why beside bench_decision.py: that one times a generated pack on random cases; this one times
*the* default pack (the one `xiaowei decide` and the demo run) on every application of a
governed bank, with its fitted scorecard and the credit-limit policy's inputs — the issue's
"in-process decision with the default pack (all nodes, models included): p99 ≤ 1 ms". Tags are
read from the cached month-start snapshots (``origination.history``), so the figure is the
decision alone; the online tag computation has its own benchmark (bench_tags_engine.py).

Reported per decision, medians of ``--repeat`` passes: p50 / p95 / p99 of
(a) ``Decider.decide`` — the engine running the pack, trace on and off;
(b) ``DefaultDecider.decide`` — plus validating the application, the limit policy's inputs and
    the JSON-ready output (what a server's handler spends besides the tags).

    .venv/bin/python benchmarks/bench_default_pack.py [--analytic /path/analytic.duckdb]
        [--size tiny] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.modelling.workbench import fit
from xiaowei.origination.decide import (
    DefaultDecider,
    bureau_from_tags,
    case_inputs,
    demo_training_table,
    validate_application,
)
from xiaowei.origination.history import PointInTimeTags, historical_applications
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore


def _quantiles(micros: list[float]) -> dict[str, float]:
    q = statistics.quantiles(micros, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--analytic", type=Path, default=None,
                    help="a governed analytic store (default: simulate one)")
    ap.add_argument("--size", default="tiny", help="size to simulate without --analytic")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    path = args.analytic
    if path is None:
        print(f"simulating {args.size} …", flush=True)
        path = simulate_and_load(work / "bank", args.size, 7, transactional=False).analytic_path
    with AnalyticStore(path, read_only=args.analytic is not None) as analytic:
        demo_training_table(analytic.connection, work / "train.parquet")
        fit(work / "train.parquet", "bad", work / "model")
        apps = historical_applications(analytic)
        pit = PointInTimeTags(analytic)
        started = time.perf_counter()
        pit.load([(a.party_id, a.applied_on) for a in apps])
        print(f"{len(apps):,} applications; tags ready in {time.perf_counter() - started:.1f} s "
              f"({len(pit.computed)} snapshots computed, the rest cached)")
        resolver = RegistryModelResolver(overrides={"app_score": work / "model"})
        decider = DefaultDecider(tags=pit.reader(), resolver=resolver)
        cases = []
        for a in apps:
            typed = validate_application(a.payload)
            tags = pit.values(a.party_id, a.applied_on)
            cases.append((a.application_id, case_inputs(typed, tags, decider.pack),
                          {"bureau_live": bureau_from_tags(tags, None)}))
        engine_runs: dict[str, list[dict[str, float]]] = {"trace": [], "no trace": []}
        full_runs: list[dict[str, float]] = []
        outcomes: Counter[tuple[str, str]] = Counter()
        for _ in range(args.repeat):
            for label, trace in (("trace", True), ("no trace", False)):
                micros = []
                for case_id, inputs, sources in cases:
                    t0 = time.perf_counter_ns()
                    decider.decider.decide(case_id, inputs, trace=trace, sources=sources)
                    micros.append((time.perf_counter_ns() - t0) / 1000)
                engine_runs[label].append(_quantiles(micros))
            micros = []
            outcomes.clear()
            for a in apps:
                t0 = time.perf_counter_ns()
                result: dict[str, Any] = decider.decide(a.payload)
                micros.append((time.perf_counter_ns() - t0) / 1000)
                outcomes[(result["outcome"], result["mode"])] += 1
            full_runs.append(_quantiles(micros))
    print(f"\ndefault pack, {len(cases):,} real applications, median of {args.repeat} passes (µs)")
    print(f"{'what':44s} {'p50':>8s} {'p95':>8s} {'p99':>8s}")
    for label, runs in engine_runs.items():
        m = _median_of(runs)
        print(f"{'engine: Decider.decide, ' + label:44s} {m['p50']:8.1f} {m['p95']:8.1f} "
              f"{m['p99']:8.1f}")
    m = _median_of(full_runs)
    print(f"{'handler: DefaultDecider.decide (trace)':44s} {m['p50']:8.1f} {m['p95']:8.1f} "
          f"{m['p99']:8.1f}")
    print("outcomes:", dict(sorted(outcomes.items())))


if __name__ == "__main__":
    main()
