"""Test AUC of GBDTModel (defaults) against plain ``lightgbm.LGBMClassifier()`` on real data.

Why: the issue asks that the challenger at least match LightGBM with default parameters on
the five public credit datasets. Both models see the fixed splits of
``benchmarks/peers/datasets.py`` (pandas-based, so this script needs pandas; the model does
not). LightGBM gets categorical columns as pandas category with train's levels, exactly as
``benchmarks/peers/bench_peers.py`` does; GBDTModel gets the same frame as a pyarrow table.

    .venv/bin/python benchmarks/bench_gbdt_real.py                       # all five
    .venv/bin/python benchmarks/bench_gbdt_real.py gmsc sba \\
        --param early_stopping_rounds=20 --param n_estimators=1000       # a variant

Prints one line per dataset: AUCs, the difference and fit seconds. Asserts nothing.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from datasets import load

from xiaowei.engine.models.gbdt import GBDTModel

DATASETS = ("taiwan", "gmsc", "lendingclub", "polish1", "sba")
REFERENCE = {"taiwan": 0.775, "gmsc": 0.865, "lendingclub": 0.641, "polish1": 0.972,
             "sba": 0.976}
"""LightGBM-default test AUCs recorded by benchmarks/peers (for a sanity check)."""


def lightgbm_default(X_train, y_train, X_test, categorical) -> np.ndarray:  # type: ignore[no-untyped-def]
    """LGBMClassifier() with its defaults, as bench_peers fits it."""
    import pandas as pd
    from lightgbm import LGBMClassifier

    # Test levels unseen in train become NaN (pandas warns that this will change; same result).
    warnings.filterwarnings("ignore", message="Constructing a Categorical")
    types = {c: pd.CategoricalDtype(sorted(X_train[c].dropna().unique())) for c in categorical}
    model = LGBMClassifier(verbose=-1)
    model.fit(X_train.astype(types), y_train.to_numpy())
    return model.predict_proba(X_test.astype(types))[:, 1]


def gbdt_model(X_train, y_train, X_test, categorical, params) -> np.ndarray:  # type: ignore[no-untyped-def]
    """GBDTModel(**params) on the same rows, read as pyarrow tables (no pandas in the model)."""
    model = GBDTModel(**params).fit(_table(X_train), y_train.to_numpy(), categorical=categorical)
    return model.predict_proba(_table(X_test))[:, 1]


def _table(frame) -> pa.Table:  # type: ignore[no-untyped-def]
    return pa.Table.from_pandas(frame, preserve_index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--param", action="append", default=[],
                        help="GBDTModel parameter as name=python-literal (repeatable)")
    args = parser.parse_args()
    params = {}
    for item in args.param:
        name, _, text = item.partition("=")
        params[name] = ast.literal_eval(text)
    print(f"GBDTModel({params}) vs LGBMClassifier() — test AUC")
    print(f"{'dataset':12} {'lightgbm':>9} {'(ref)':>6} {'gbdt':>8} {'diff':>8} "
          f"{'lgb s':>6} {'gbdt s':>7}")
    for name in args.datasets:
        X_train, y_train, X_test, y_test, categorical = load(name)
        start = time.perf_counter()
        base = roc_auc_score(y_test, lightgbm_default(X_train, y_train, X_test, categorical))
        lgb_s = time.perf_counter() - start
        start = time.perf_counter()
        ours = roc_auc_score(y_test, gbdt_model(X_train, y_train, X_test, categorical, params))
        ours_s = time.perf_counter() - start
        print(f"{name:12} {base:9.4f} {REFERENCE.get(name, float('nan')):6.3f} {ours:8.4f} "
              f"{ours - base:+8.4f} {lgb_s:6.1f} {ours_s:7.1f}", flush=True)


if __name__ == "__main__":
    main()
