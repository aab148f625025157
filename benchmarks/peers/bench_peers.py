"""Open-source scorecard libraries and LightGBM on the fixed splits of shared/data.

Why: our own scorecard (binning + WOE + logistic regression) and LightGBM challenger must be
judged against what a bank could take off the shelf, on the same rows. This script fits each
peer with its documented default pipeline on the train split and scores the test split:

- toad: selection.select (README thresholds: empty 0.5, iv 0.02, corr 0.7), Combiner
  method "chi" with min_samples 0.05 (README), WOETransformer, ScoreCard (its
  LogisticRegression with sklearn defaults); predictions from ScoreCard.predict_proba.
  The README's optional stepwise step is left out.
- optbinning: BinningProcess (defaults, categorical columns declared) + Scorecard with
  LogisticRegression() (sklearn defaults), as in its tutorial; Scorecard.predict_proba.
- scorecardpy: woebin (defaults, but check_cate_num=False: its default stops to ask on
  stdin whether to bin a categorical column with more than 50 levels) + woebin_ply +
  LogisticRegression with the README's L1 / C = 0.9 / saga (written as l1_ratio=1, since
  sklearn 1.8 deprecates `penalty`; random_state=0 because saga shuffles, and without it the
  AUC moves in the 3rd decimal from run to run). The README's optional var_filter step is
  left out.
  Test levels of a categorical column never seen in train get WOE 0 (woebin_ply gives NaN).
- LightGBM: LGBMClassifier() with defaults (verbose=-1 only silences its log), categorical
  columns as pandas category.

Not a test: the project's CI never runs it, and it needs the peers venv (README.md here).

    nice -n 19 /work/benchdata/peers-venv/bin/python benchmarks/peers/bench_peers.py --repeat 1
    ... bench_peers.py --datasets gmsc sba --libraries optbinning lightgbm --out var/x.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import platform
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import NAMES, load

Predictor = Callable[[pd.DataFrame], np.ndarray]
"""Test features -> probability of bad (higher = riskier)."""
Fitter = Callable[[pd.DataFrame, pd.Series, list[str]], Predictor]

Y = "__y__"  # target column name for libraries that want it inside the frame


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence library chatter (scorecardpy prints, warnings) so progress lines stay readable."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def fit_toad(X: pd.DataFrame, y: pd.Series, categorical: list[str]) -> Predictor:
    """toad's README pipeline: select, chi-square Combiner, WOE, ScoreCard."""
    import toad

    train = X.assign(**{Y: y.to_numpy()})
    selected = toad.selection.select(train, target=Y, empty=0.5, iv=0.02, corr=0.7)
    combiner = toad.transform.Combiner()
    combiner.fit(selected, y=Y, method="chi", min_samples=0.05)
    binned = combiner.transform(selected)
    transer = toad.transform.WOETransformer()
    woe = transer.fit_transform(binned, binned[Y], exclude=[Y])
    features = [c for c in woe.columns if c != Y]
    card = toad.ScoreCard(combiner=combiner, transer=transer)
    card.fit(woe[features], woe[Y])
    return lambda Xt: np.asarray(card.predict_proba(Xt[features]))[:, 1]


def fit_optbinning(X: pd.DataFrame, y: pd.Series, categorical: list[str]) -> Predictor:
    """optbinning's tutorial pipeline: BinningProcess + Scorecard(LogisticRegression)."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    process = BinningProcess(variable_names=list(X.columns),
                             categorical_variables=categorical or None)
    card = Scorecard(binning_process=process, estimator=LogisticRegression())
    card.fit(X, y.to_numpy())
    return lambda Xt: card.predict_proba(Xt)[:, 1]


def fit_scorecardpy(X: pd.DataFrame, y: pd.Series, categorical: list[str]) -> Predictor:
    """scorecardpy's README pipeline: woebin, woebin_ply, L1 LogisticRegression."""
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    train = X.assign(**{Y: y.to_numpy()})
    bins = sc.woebin(train, y=Y, check_cate_num=False)  # else it asks on stdin (> 50 levels)
    woe = sc.woebin_ply(train, bins)
    features = [c for c in woe.columns if c != Y]
    model = LogisticRegression(l1_ratio=1.0, C=0.9, solver="saga", random_state=0)
    model.fit(woe[features], woe[Y])
    # woebin_ply leaves NaN for a category level never seen in train; 0 is neutral evidence
    return lambda Xt: model.predict_proba(sc.woebin_ply(Xt, bins)[features].fillna(0.0))[:, 1]


def fit_lightgbm(X: pd.DataFrame, y: pd.Series, categorical: list[str]) -> Predictor:
    """LGBMClassifier() defaults; categorical columns as pandas category (train's levels)."""
    from lightgbm import LGBMClassifier

    types = {c: pd.CategoricalDtype(sorted(X[c].dropna().unique())) for c in categorical}
    model = LGBMClassifier(verbose=-1)
    model.fit(X.astype(types), y.to_numpy())
    return lambda Xt: model.predict_proba(Xt.astype(types))[:, 1]


LIBRARIES: dict[str, tuple[str, Fitter]] = {
    "toad": ("toad", fit_toad),
    "optbinning": ("optbinning", fit_optbinning),
    "scorecardpy": ("scorecardpy", fit_scorecardpy),
    "lightgbm": ("lightgbm", fit_lightgbm),
}


def auc_ks(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Test AUC and KS (max TPR - FPR), from the same ROC curve."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    return float(roc_auc_score(y, p)), float(np.max(tpr - fpr))


def short(err: BaseException) -> str:
    """One line for the table: exception type and the start of its message."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:90]}" if text else type(err).__name__


def run_one(fit: Fitter, data: tuple, repeat: int) -> dict[str, Any]:
    """Fit `repeat` times (fresh each time), score test on each; AUC and KS from the first
    fit (all runs' AUCs are kept to show that they agree), time = median."""
    X_train, y_train, X_test, y_test, categorical = data
    times: list[float] = []
    aucs: list[float] = []
    ks = float("nan")
    for _ in range(repeat):
        with quiet():
            start = time.perf_counter()
            predict = fit(X_train.copy(), y_train.copy(), list(categorical))
            times.append(time.perf_counter() - start)
            p = np.asarray(predict(X_test.copy()), dtype=float)
        if not np.isfinite(p).all():
            raise ValueError("non-finite predictions on test")
        auc, k = auc_ks(y_test.to_numpy(), p)
        if not aucs:
            ks = k
        aucs.append(auc)
    return {"status": "ok", "auc": aucs[0], "ks": ks, "fit_s": statistics.median(times),
            "fit_s_runs": times, "auc_runs": aucs}


def time_optbinning_gmsc(repeat: int) -> dict[str, Any]:
    """The speed reference the issue names: optbinning on gmsc, binning alone and the whole
    BinningProcess + Scorecard fit, median of `repeat` fresh fits each."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    X, y, *_ = load("gmsc")
    binning, full = [], []
    for _ in range(repeat):
        with quiet():
            start = time.perf_counter()
            BinningProcess(variable_names=list(X.columns)).fit(X, y.to_numpy())
            binning.append(time.perf_counter() - start)
            start = time.perf_counter()
            Scorecard(binning_process=BinningProcess(variable_names=list(X.columns)),
                      estimator=LogisticRegression()).fit(X, y.to_numpy())
            full.append(time.perf_counter() - start)
    return {"rows": len(X), "columns": X.shape[1],
            "binning_process_fit_s": statistics.median(binning),
            "scorecard_fit_s": statistics.median(full),
            "binning_runs": binning, "scorecard_runs": full}


def versions() -> dict[str, str]:
    """Installed versions of everything that shapes the numbers."""
    found = {"python": platform.python_version()}
    for module in ("toad", "optbinning", "scorecardpy", "lightgbm", "sklearn", "pandas",
                   "numpy", "scipy", "pyarrow"):
        try:
            found[module] = str(importlib.import_module(module).__version__)
        except Exception as err:
            found[module] = f"missing ({short(err)})"
    return found


def cell(result: dict[str, Any]) -> str:
    """One Markdown table cell: 'AUC / KS / seconds', or the failure."""
    if result["status"] != "ok":
        return result["status"]
    return f"{result['auc']:.3f} / {result['ks']:.3f} / {result['fit_s']:.2f}s"


def table(results: list[dict[str, Any]], datasets: list[str], libraries: list[str]) -> str:
    """Markdown: a row per dataset, a column per library."""
    by_key = {(r["dataset"], r["library"]): r for r in results}
    lines = ["| dataset | train / test rows | bad rate (test) | "
             + " | ".join(libraries) + " |",
             "|---|---|---|" + "---|" * len(libraries)]
    for name in datasets:
        first = by_key[(name, libraries[0])]
        cells = [cell(by_key[(name, lib)]) for lib in libraries]
        lines.append(f"| {name} | {first['n_train']:,} / {first['n_test']:,} | "
                     f"{first['bad_rate_test']:.1%} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(NAMES), choices=NAMES)
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--repeat", type=int, default=3, help="fits per cell; time = median")
    parser.add_argument("--out", type=Path, default=Path("var/peers.json"))
    parser.add_argument("--no-gmsc-timing", action="store_true",
                        help="skip the separate optbinning-on-gmsc timing")
    args = parser.parse_args()
    os.environ["RUST_BACKTRACE"] = "0"  # a panic in toad's Rust core: one line, not 130 frames

    found = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in found.items()), flush=True)
    results: list[dict[str, Any]] = []
    for name in args.datasets:
        data = load(name)
        X_train, _, X_test, y_test, categorical = data
        base = {"dataset": name, "n_train": len(X_train), "n_test": len(X_test),
                "n_features": X_train.shape[1], "categorical": categorical,
                "bad_rate_test": float(y_test.mean())}
        for lib in args.libraries:
            print(f"[{time.strftime('%H:%M:%S')}] {name} × {lib} ...", end=" ", flush=True)
            try:
                importlib.import_module(LIBRARIES[lib][0])
                outcome = run_one(LIBRARIES[lib][1], data, args.repeat)
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # toad's Rust core panics with a BaseException
                outcome = {"status": f"fails: {short(err)}",
                           "traceback": traceback.format_exc()}
            results.append({**base, "library": lib, **outcome})
            print(cell(outcome), flush=True)

    reference = None
    if not args.no_gmsc_timing:
        print(f"[{time.strftime('%H:%M:%S')}] optbinning fit time on gmsc ...", flush=True)
        try:
            reference = time_optbinning_gmsc(args.repeat)
        except Exception as err:
            reference = {"status": f"fails: {short(err)}"}

    print()
    print("Test AUC / KS / fit seconds (median of "
          f"{args.repeat} fit{'s' if args.repeat > 1 else ''}):")
    print()
    print(table(results, args.datasets, args.libraries))
    if reference and "scorecard_fit_s" in reference:
        print(f"\noptbinning on gmsc ({reference['rows']:,} train rows × "
              f"{reference['columns']} columns): BinningProcess.fit "
              f"{reference['binning_process_fit_s']:.2f}s, BinningProcess + Scorecard fit "
              f"{reference['scorecard_fit_s']:.2f}s (median of {args.repeat})")
    elif reference:
        print(f"\noptbinning on gmsc: {reference['status']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"versions": found, "repeat": args.repeat, "cpus": os.cpu_count(),
              "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "results": results,
              "optbinning_gmsc": reference}
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
