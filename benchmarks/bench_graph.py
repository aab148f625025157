"""Relationship graph: metric timings, fraud-ring recovery, and graph libraries compared.

Not a test: nothing here asserts a time. Reads the simulator's truth (allowed in benchmarks)
to say how well shared-identifier clusters recover the fraud rings.

    python benchmarks/bench_graph.py                      # small sim (seed 7) + 1M-node graph
    python benchmarks/bench_graph.py --data /tmp/graph-small --nodes 0
    PYTHONPATH=/tmp/libs python benchmarks/bench_graph.py --compare   # + igraph, networkit …
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.data.govern.relations import (
    connected_components,
    degrees,
    edge_table,
    edges_from_dataset,
    guarantee_circles,
    guarantee_cycles,
    identifier_clusters,
    propagate_risk,
)

RISK_FACTORS = {"guarantor": 0.8, "legal_rep": 0.7, "shareholder": 0.5, "spouse": 0.6,
                "shares_phone": 0.4, "shares_address": 0.3, "shares_device": 0.5}


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def party_nodes(truth: pa.Table) -> pa.Array:
    """The adapter's node id of each true party (owners are their person node)."""
    owner = pc.equal(truth["party_type"], "business_owner")
    return pc.if_else(owner, pc.binary_join_element_wise("person:", truth["key_person_id"], ""),
                      pc.binary_join_element_wise("org:", truth["uscc"], ""))


def ring_recovery(clusters: pa.Table, truth: pa.Table, min_size: int = 3) -> dict[str, float]:
    """Recall of ring members and rate of honest parties in clusters of ≥ ``min_size``."""
    flagged = clusters.filter(pc.greater_equal(clusters["size"], min_size))["node"]
    nodes = party_nodes(truth)
    hit = pc.is_in(nodes, value_set=flagged).to_numpy(zero_copy_only=False)
    ring = truth["fraud_ring"].to_numpy() >= 0
    ring_id = truth["fraud_ring"].to_numpy()
    rings_hit = len(np.unique(ring_id[ring & hit]))
    return {"ring members": int(ring.sum()), "recall": float(hit[ring].mean()),
            "rings with ≥1 member flagged": rings_hit / max(1, len(np.unique(ring_id[ring]))),
            "honest flagged": int(hit[~ring].sum()),
            "honest flagged rate": float(hit[~ring].mean()),
            "precision": float(hit[ring].sum() / max(1, hit.sum()))}


def on_sim(data: Path) -> None:
    secs, edges = timed(lambda: edges_from_dataset(data), repeat=1)
    print(f"\n== sim {data}: {edges.num_rows:,} edges, adapter {secs:.2f} s")
    counts = edges.group_by("kind").aggregate([("src", "count")]).sort_by("kind")
    print("   " + ", ".join(f"{k} {n:,}" for k, n in zip(counts["kind"].to_pylist(),
                                                       counts["src_count"].to_pylist(),
                                                       strict=True)))
    truth = pq.read_table(data / "truth" / "parties.parquet")
    defaulted = truth.filter(pc.greater_equal(truth["default_month"], 0))
    scores = pa.table({"node": party_nodes(defaulted),
                       "score": pa.array(np.ones(defaulted.num_rows))})
    runs: dict[str, Callable[[], Any]] = {
        "connected_components (all kinds)": lambda: connected_components(edges),
        "degrees": lambda: degrees(edges),
        "guarantee_circles": lambda: guarantee_circles(edges),
        "guarantee_cycles (≤ 6)": lambda: guarantee_cycles(edges),
        "identifier_clusters": lambda: identifier_clusters(edges),
        "propagate_risk max": lambda: propagate_risk(edges, scores, RISK_FACTORS),
        "propagate_risk sum": lambda: propagate_risk(edges, scores, RISK_FACTORS, mode="sum"),
    }
    for label, fn in runs.items():
        secs, out = timed(fn)
        print(f"   {label:36s} {secs * 1000:8.1f} ms  {out.num_rows:>8,} rows")
    cc = connected_components(edges)
    print(f"   largest component {pc.max(cc['size']).as_py():,} nodes of {cc.num_rows:,}")
    circles = guarantee_circles(edges)
    n_circ = len(pc.unique(circles["circle"]))
    print(f"   guarantee circles: {n_circ} with {circles.num_rows} parties; "
          f"cycles ≤ 6: {guarantee_cycles(edges).num_rows}")
    in_ring = pc.is_in(circles["node"], value_set=party_nodes(
        truth.filter(pc.greater_equal(truth["fraud_ring"], 0))))
    print(f"   parties in circles that are ring members: {pc.sum(in_ring).as_py()}")
    print("\n== fraud-ring recovery (clusters of ≥ 3 parties)")
    variants = {
        "phone+address+device": None,
        "+ legal rep": {"shares_phone": "src", "shares_address": "src",
                        "shares_device": "src", "legal_rep": "dst"},
        "+ legal rep + guarantor": {"shares_phone": "src", "shares_address": "src",
                                    "shares_device": "src", "legal_rep": "dst",
                                    "guarantor": "dst"},
    }
    for label, kinds in variants.items():
        r = ring_recovery(identifier_clusters(edges, kinds=kinds), truth)
        print(f"   {label:26s} recall {r['recall']:.1%}  rings touched "
              f"{r['rings with ≥1 member flagged']:.1%}  honest flagged "
              f"{r['honest flagged']} ({r['honest flagged rate']:.3%})  "
              f"precision {r['precision']:.1%}  (of {r['ring members']} members)")


def synthetic(n: int, m: int, seed: int = 1) -> pa.Table:
    """A sparse random graph of ``n`` nodes and ``m`` edges with the adapter's kinds."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["legal_rep", "guarantor", "shares_phone", "supplies", "shareholder"])
    kind = kinds[rng.choice(len(kinds), m, p=[0.3, 0.05, 0.1, 0.45, 0.1])]
    ids = np.char.add("n", np.arange(n).astype(str)).astype(object)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    day = np.datetime64("2024-01-01") + rng.integers(0, 730, m).astype("timedelta64[D]")
    return edge_table(pa.array(ids[src], pa.string()), pa.array(ids[dst], pa.string()),
                      pa.array(kind), directed=True, known_at=pa.array(day),
                      weight=pa.array(rng.exponential(1e5, m)))


def on_synthetic(n: int, m: int) -> None:
    edges = synthetic(n, m)
    scores = pa.table({"node": edges["src"].slice(0, n // 50),
                       "score": pa.array(np.ones(n // 50))})
    print(f"\n== synthetic graph: {n:,} nodes, {m:,} edges (best of 3)")
    runs: dict[str, Callable[[], Any]] = {
        "connected_components": lambda: connected_components(edges),
        "connected_components as_of 2025-01-01":
            lambda: connected_components(edges, as_of="2025-01-01"),
        "degrees": lambda: degrees(edges),
        "guarantee_circles": lambda: guarantee_circles(edges),
        "identifier_clusters": lambda: identifier_clusters(edges),
        "propagate_risk max": lambda: propagate_risk(edges, scores, RISK_FACTORS),
        "propagate_risk sum": lambda: propagate_risk(edges, scores, RISK_FACTORS, mode="sum"),
    }
    for label, fn in runs.items():
        secs, out = timed(fn)
        print(f"   {label:38s} {secs:7.2f} s  {out.num_rows:>10,} rows")


def compare(n: int, m: int) -> None:
    """Edge arrays → component label per node, weak and strong, per library."""
    rng = np.random.default_rng(1)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    print(f"\n== libraries: arrays → label per node, {n:,} nodes, {m:,} edges (best of 3)")

    def scipy_run(strong: bool) -> int:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components as cc
        a = coo_matrix((np.ones(m, np.int8), (src, dst)), shape=(n, n)).tocsr()
        return int(cc(a, directed=strong, connection="strong" if strong else "weak")[0])

    def rustworkx_run(strong: bool) -> int:
        rx = importlib.import_module("rustworkx")
        g = rx.PyDiGraph() if strong else rx.PyGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from_no_data(list(zip(src.tolist(), dst.tolist(), strict=True)))
        comps = (rx.strongly_connected_components(g) if strong else
                 rx.connected_components(g))
        lab = np.empty(n, np.int64)
        for i, c in enumerate(comps):
            lab[list(c)] = i
        return len(comps)

    def igraph_run(strong: bool) -> int:
        ig = importlib.import_module("igraph")
        g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)),
                     directed=strong)
        lab = np.asarray(g.connected_components(mode="strong" if strong else "weak").membership)
        return int(lab.max() + 1)

    def networkit_run(strong: bool) -> int:
        nk = importlib.import_module("networkit")
        g = nk.Graph(n, directed=strong)
        g.addEdges((src, dst))
        algo = (nk.components.StronglyConnectedComponents(g) if strong else
                nk.components.ConnectedComponents(g))
        algo.run()
        return int(np.asarray(algo.getPartition().getVector()).max() + 1)

    def networkx_run(strong: bool) -> int:
        nx = importlib.import_module("networkx")
        g = nx.DiGraph() if strong else nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
        comps = (nx.strongly_connected_components(g) if strong else
                 nx.connected_components(g))
        return sum(1 for _ in comps)

    for name, fn in [("scipy", scipy_run), ("rustworkx", rustworkx_run),
                     ("igraph", igraph_run), ("networkit", networkit_run),
                     ("networkx", networkx_run)]:
        mod = "scipy" if name == "scipy" else name
        try:
            version = importlib.import_module(mod).__version__
        except ImportError:
            print(f"   {name:10s} not installed")
            continue
        weak, k_weak = timed(lambda fn=fn: fn(False), repeat=1 if name == "networkx" else 3)
        strong, k_strong = timed(lambda fn=fn: fn(True), repeat=1 if name == "networkx" else 3)
        print(f"   {name:10s} {version:8s} weak {weak:6.2f} s ({k_weak:,})  "
              f"strong {strong:6.2f} s ({k_strong:,})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, help="a dataset folder (default: generate small)")
    ap.add_argument("--nodes", type=int, default=1_000_000, help="synthetic graph (0: skip)")
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--compare", action="store_true", help="compare graph libraries")
    args = ap.parse_args()
    if args.data:
        on_sim(args.data)
    else:
        from xiaowei.sim import generate
        with tempfile.TemporaryDirectory(prefix="bench-graph-") as out:
            generate("small", 7, out)
            on_sim(Path(out))
    if args.nodes:
        on_synthetic(args.nodes, args.edges)
        if args.compare:
            compare(args.nodes, args.edges)


if __name__ == "__main__":
    main()
