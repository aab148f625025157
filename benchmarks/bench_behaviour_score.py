"""Behaviour score throughput: training set, fit, the batch's features of a day, and scoring.

Builds the training set on a governed store (one tag run per month-end), fits the scorecard
out of time into a scratch folder, then times what the nightly batch does — the features of
every active loan on the store's last day and their PDs — and the vectorised scorer alone on
``--rows`` loans (the training rows repeated; Arrow and NumPy inputs) against the one-row
scorer. Not a test: nothing here asserts a time.

    python benchmarks/bench_behaviour_score.py                    # the small store, 1M rows
    python benchmarks/bench_behaviour_score.py --rows 5000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from xiaowei.data.tags.service import data_as_of
from xiaowei.modelling.workbench import load
from xiaowei.postloan.behaviour_score import fit_out_of_time, training_set
from xiaowei.postloan.behaviour_scorer import BehaviourScore
from xiaowei.store.analytic import AnalyticStore

DEFAULT_STORE = Path("/work/benchdata/small/analytic.duckdb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with AnalyticStore(args.store, read_only=True) as analytic, \
            tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        training = training_set(analytic)
        print(f"training set      {training.table.num_rows:>9,} rows  "
              f"{time.perf_counter() - started:6.2f} s ({len(training.month_ends)} tag runs)")
        started = time.perf_counter()
        summary = fit_out_of_time(analytic, Path(scratch) / "model", training=training)
        print(f"fit + OOT         {'':>9}       {time.perf_counter() - started:6.2f} s  "
              f"AUC {summary['auc_train']:.3f}/{summary['auc_oot']:.3f} "
              f"KS {summary['ks_train']:.3f}/{summary['ks_oot']:.3f} (train/OOT)")
        score = BehaviourScore(load(Path(summary["model_dir"])))
        day = data_as_of(analytic)
        started = time.perf_counter()
        bpd = score.score_as_of(analytic, day)
        print(f"batch day {day}  {int(np.isfinite(bpd).sum()):>9,} loans "
              f"{time.perf_counter() - started:6.2f} s (features, tag run, PDs)")
        features = training.table.select(list(score.features))
        big = pa.concat_tables([features] * (args.rows // features.num_rows + 1)) \
            .slice(0, args.rows).combine_chunks()
        started = time.perf_counter()
        score.predict(big)
        print(f"predict (Arrow)   {args.rows:>9,} loans {time.perf_counter() - started:6.2f} s")
        columns = {f: (np.asarray(big[f].to_pylist(), dtype=object)
                       if pa.types.is_string(big.schema.field(f).type)
                       else big[f].to_numpy(zero_copy_only=False)) for f in score.features}
        started = time.perf_counter()
        score.predict(columns)
        print(f"predict (NumPy)   {args.rows:>9,} loans {time.perf_counter() - started:6.2f} s")
        rows = features.slice(0, 10_000).to_pylist()
        started = time.perf_counter()
        for row in rows:
            score.predict_row(row)
        print(f"predict_row       {len(rows):>9,} loans "
              f"{(time.perf_counter() - started) / len(rows) * 1e6:6.1f} µs a loan")


if __name__ == "__main__":
    main()
