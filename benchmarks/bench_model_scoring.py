"""Single-row scoring latency: GBDT fast path vs LightGBM's Python predict vs the sklearn wrapper.

Why: an online decision scores one applicant at a time, and DESIGN §7 says models must serve
single rows without framework overhead (target for the GBDT: ≤ 50 µs p99, one thread). This
prints median and p99 per call for each way of getting the same PD from the same trees:

- ``GBDTModel.score_one(mapping)`` — LightGBM's C single-row fast API (``gbdt_serving``);
- ``Booster.predict(1×n array, num_threads=1)`` — LightGBM's Python API;
- ``Booster.predict(1×n array)`` with LightGBM's default threading (the tail DESIGN warns of);
- ``LGBMClassifier.predict_proba(1×n array)`` — the scikit-learn wrapper (n_jobs=1);
- ``GBDTModel.reasons(mapping)`` — SHAP reason codes, computed on request only;
- ``Scorecard.score_one(mapping)`` (defaults; its points, not a PD), side by side.

Data: Give Me Some Credit (shared/data/give_me_some_credit/cs-training.csv.zip, 150,000
rows, 10 numeric features with missing values), read with zipfile + pyarrow; models train
on the first 120,000 rows, calls cycle over 1,000 rows of the rest.

    .venv/bin/python benchmarks/bench_model_scoring.py [--calls 20000] [--shared PATH]

Prints figures; asserts nothing. Pin the process to one core (``taskset -c 2``) for the
steadiest tails.
"""

from __future__ import annotations

import argparse
import gc
import io
import math
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from xiaowei.engine.models.frame import as_columns
from xiaowei.engine.models.gbdt import GBDTModel

TARGET = "SeriousDlqin2yrs"
TRAIN_ROWS = 120_000


def shared_dir(given: str | None) -> Path:
    """The shared folder: --shared, $XIAOWEI_SHARED, or ../shared beside the repository."""
    if given:
        return Path(given)
    if os.environ.get("XIAOWEI_SHARED"):
        return Path(os.environ["XIAOWEI_SHARED"])
    return Path(__file__).resolve().parents[1].parent / "shared"


def load_gmsc(shared: Path) -> tuple[pa.Table, np.ndarray]:
    """cs-training as (features table, 0/1 target), without pandas."""
    path = shared / "data" / "give_me_some_credit" / "cs-training.csv.zip"
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        table = pcsv.read_csv(io.BytesIO(archive.read(name)))
    y = table.column(TARGET).to_numpy().astype(int)
    features = [c for c in table.column_names if c not in (TARGET, "", "column0")]
    return table.select(features), y


def timings(call: Callable[[int], Any], calls: int, warmup: int = 2000) -> tuple[float, float]:
    """(median, p99) microseconds of ``call(i)`` over ``calls`` calls after a warm-up."""
    for i in range(warmup):
        call(i)
    gc.collect()
    spent = np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        start = clock()
        call(i)
        spent[i] = clock() - start
    micro = spent / 1000.0
    return float(np.median(micro)), float(np.percentile(micro, 99))


def scorecard_scorer(train: pa.Table, y: np.ndarray) -> Callable[[dict[str, Any]], float] | None:
    """``Scorecard().fit(table, y).score_one`` (points, not a PD: compared for latency only).

    Kept defensive so this benchmark still runs where the scorecard is absent or changes.
    """
    try:
        from xiaowei.engine.models.scorecard import Scorecard  # type: ignore[import-not-found]
    except ImportError:
        print("scorecard: xiaowei.engine.models.scorecard is not there; skipped")
        return None
    try:
        start = time.perf_counter()
        card = Scorecard().fit(train, y)
        print(f"Scorecard() on the same rows: {len(card.features_)} features, "
              f"fit {time.perf_counter() - start:.1f} s")
        return card.score_one
    except Exception as exc:  # a benchmark reports what it could not measure, and goes on
        print(f"scorecard: could not fit with Scorecard().fit(table, y): {exc!r}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--shared", default=None)
    args = parser.parse_args()

    table, y = load_gmsc(shared_dir(args.shared))
    train, test = table.slice(0, TRAIN_ROWS), table.slice(TRAIN_ROWS)
    start = time.perf_counter()
    model = GBDTModel().fit(train, y[:TRAIN_ROWS])
    print(f"GBDTModel() on gmsc: {TRAIN_ROWS} rows, {len(model.features_)} features, "
          f"{model.n_estimators_} trees, fit {time.perf_counter() - start:.1f} s")

    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in test.slice(0, 1000).to_pylist()]
    matrix = _columns_matrix(model, test.slice(0, 1000))
    singles = [matrix[i:i + 1].copy() for i in range(len(rows))]
    expected = model.predict_proba(test.slice(0, 1000))[:, 1]
    worst = max(abs(model.score_one(r) - p) for r, p in zip(rows, expected, strict=True))
    print(f"score_one vs predict_proba on 1000 rows: max |difference| = {worst:.1e}")

    wrapper = lgb.LGBMClassifier(verbose=-1, n_jobs=1, deterministic=True, force_col_wise=True)
    wrapper.fit(_columns_matrix(model, train), y[:TRAIN_ROWS])
    booster = model.booster_
    n = len(rows)
    cases: list[tuple[str, Callable[[int], Any]]] = [
        ("GBDT score_one (C fast path)", lambda i: model.score_one(rows[i % n])),
        ("Booster.predict, num_threads=1", lambda i: booster.predict(singles[i % n],
                                                                     num_threads=1)),
        ("LGBMClassifier.predict_proba", lambda i: wrapper.predict_proba(singles[i % n])),
        ("GBDT reasons(top=3), on request", lambda i: model.reasons(rows[i % n])),
        # last: LightGBM's default threading changes OpenMP's thread count process-wide
        ("Booster.predict, default threads", lambda i: booster.predict(singles[i % n])),
    ]
    card = scorecard_scorer(train, y[:TRAIN_ROWS])
    if card is not None:
        cases.insert(1, ("Scorecard score_one", lambda i: card(rows[i % n])))

    print(f"\n{'single-row call':36} {'median µs':>10} {'p99 µs':>10}   ({args.calls} calls)")
    for label, call in cases:
        few = args.calls if "score_one" in label else min(args.calls, 5000)
        median, p99 = timings(call, few, warmup=min(2000, few))
        print(f"{label:36} {median:10.2f} {p99:10.2f}" + ("" if few == args.calls
                                                          else f"   ({few} calls)"))


def _columns_matrix(model: GBDTModel, table: pa.Table) -> np.ndarray:
    """The float64 matrix GBDTModel feeds LightGBM, for the APIs that take arrays."""
    return model.encoding_.matrix(as_columns(table))


if __name__ == "__main__":
    main()
