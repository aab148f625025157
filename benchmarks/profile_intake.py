"""Where one submission's time goes: stage-by-stage timings of in-process ``intake.submit``.

Why: the decision endpoint's latency is the sum of a few stages (checking the body, the
party's tags, the pack, the write transaction and the tasks opened in it); a benchmark of the
whole endpoint says how slow, this says where. Each stage is timed by wrapping the function
that does it, on the benchmark's tiny bank (``bench_api.build_bank``), sequentially, with
``--load N`` busy processes beside it to imitate a loaded machine.

    .venv/bin/python benchmarks/profile_intake.py [--n 60] [--load 0] [--serving]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

TIMES: dict[str, list[float]] = defaultdict(list)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name].append((time.perf_counter() - t0) * 1000)
    return wrapper


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the run")
    parser.add_argument("--serving", action="store_true",
                        help="serving-mode tags (latest batch run + intraday tables online)")
    parser.add_argument("--bank", type=Path, default=None, help="reuse a bank folder")
    args = parser.parse_args()

    import bench_api

    root = args.bank or Path(tempfile.mkdtemp(prefix="profile-intake-"))
    os.environ["XIAOWEI_HOME"] = str(root / "home")
    bank = bench_api.build_bank(root)

    from xiaowei.origination import decide, intake
    from xiaowei.origination.intake_decider import open_intake_decider
    from xiaowei.store.database import make_engine

    intake.validate_application = timed("validate", intake.validate_application)
    intake.home_branch = timed("home_branch", intake.home_branch)
    intake._insert = timed("tx: insert rows", intake._insert)
    intake.open_work = timed("tx: open tasks", intake.open_work)
    intake._stored = timed("tx: read back", intake._stored)
    intake.transaction = timed("transaction (each)", intake.transaction)
    decide.case_inputs = timed("pack: inputs (lim.*)", decide.case_inputs)
    engine = make_engine(bank["url"])
    extra = {"serving": True} if args.serving else {}
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.load)]
    for p in spinners:
        p.start()
    try:
        with open_intake_decider(bank["analytic"], model_dirs={"app_score": bank["model"]},
                                 **extra) as opened:
            decider = opened.decider
            decider.tags = timed("tags", decider.tags)
            decider.decide_with_inputs = timed("decide (tags + pack)",
                                               decider.decide_with_inputs)
            submit = timed("submit (total)", intake.submit)
            templates = bank["templates"]
            for i in range(args.n):
                doc = {"application_id": f"P{os.getpid()}-{i}", **templates[i % len(templates)]}
                submit(engine, decider, doc, user="bench.channel", party_key=opened.party_key)
    finally:
        stop.set()
        for p in spinners:
            p.join()
        engine.dispose()
    skip = min(5, args.n // 4)  # warm-up: first plans, caches
    print(f"{args.n} submissions ({skip} warm-up dropped), load {args.load}, "
          f"serving={args.serving}, loadavg {os.getloadavg()[0]:.2f}")
    for name, values in TIMES.items():
        v = values[skip:] if len(values) > skip else values
        print(f"  {name:24} median {statistics.median(v):8.2f} ms  "
              f"p90 {sorted(v)[int(0.9 * (len(v) - 1))]:8.2f} ms  calls {len(values)}")


if __name__ == "__main__":
    main()
