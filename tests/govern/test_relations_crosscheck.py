"""The metrics against independent answers on random graphs: networkx and brute force."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from xiaowei.data.govern.relations import (
    connected_components,
    edge_table,
    guarantee_circles,
    guarantee_cycles,
    propagate_risk,
)

KINDS = ["guarantor", "legal_rep", "shares_phone"]
FACTORS = {"guarantor": 0.9, "legal_rep": 0.6, "shares_phone": 0.3}


def random_edges(seed: int, n: int = 60, m: int = 90) -> pa.Table:
    rng = np.random.default_rng(seed)
    src = [f"v{i:02d}" for i in rng.integers(0, n, m)]
    dst = [f"v{i:02d}" for i in rng.integers(0, n, m)]
    kind = [KINDS[i] for i in rng.integers(0, len(KINDS), m)]
    return edge_table(src, dst, kind, directed=True, known_at=["2024-01-01"] * m,
                      weight=rng.integers(1, 100, m).astype(float).tolist())


def pairs(edges: pa.Table, kind: str | None = None) -> list[tuple[str, str]]:
    rows = edges.to_pylist()
    return [(r["src"], r["dst"]) for r in rows if kind is None or r["kind"] == kind]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_components_match_networkx(seed: int) -> None:
    edges = random_edges(seed)
    g = nx.Graph(pairs(edges))
    cc = connected_components(edges)
    ours = {}
    for node, comp in zip(cc["node"].to_pylist(), cc["component"].to_pylist(), strict=True):
        ours.setdefault(comp, set()).add(node)
    theirs = {min(c): c for c in nx.connected_components(g)}
    assert ours == theirs


@pytest.mark.parametrize("seed", [2, 5, 14])
def test_circles_and_cycles_match_networkx(seed: int) -> None:
    edges = random_edges(seed, n=12, m=70)
    d = nx.DiGraph([(a, b) for a, b in pairs(edges, "guarantor") if a != b])
    circles = guarantee_circles(edges, control_kinds=())
    ours = {}
    for node, c in zip(circles["node"].to_pylist(), circles["circle"].to_pylist(),
                       strict=True):
        ours.setdefault(c, set()).add(node)
    theirs = {min(c): c for c in nx.strongly_connected_components(d) if len(c) >= 2}
    assert theirs, "the random graph should hold at least one circle"
    assert ours == theirs
    cycles = guarantee_cycles(edges, max_length=5, control_kinds=())
    ours_cycles = {tuple(c) for c in cycles["nodes"].to_pylist()}
    theirs_cycles = set()
    for c in nx.simple_cycles(d, length_bound=5):
        k = c.index(min(c))
        theirs_cycles.add(tuple(c[k:] + c[:k]))
    assert ours_cycles == theirs_cycles
    assert cycles.num_rows == len(ours_cycles)  # each cycle once


def brute_force(edges: pa.Table, scores: dict[str, float], decay: tuple[float, float],
                mode: str) -> dict[str, float]:
    """Walks of one and two steps enumerated one by one (the definition, slowly)."""
    factor: dict[tuple[str, str], float] = {}
    for r in edges.to_pylist():
        a, b, f = r["src"], r["dst"], FACTORS[r["kind"]]
        if a == b:
            continue
        for key in ((a, b), (b, a)):
            old = factor.get(key, 0.0)
            factor[key] = max(old, f) if mode == "max" else old + f
    nbrs: dict[str, list[str]] = {}
    for a, b in factor:
        nbrs.setdefault(a, []).append(b)
    out = {}
    for v in nbrs:
        one = [scores.get(u, 0.0) * factor[v, u] * decay[0] for u in nbrs[v]]
        two = [scores.get(u, 0.0) * factor[v, w] * factor[w, u] * decay[0] * decay[1]
               for w in nbrs[v] for u in nbrs[w] if u != v]
        if mode == "max":
            out[v] = max(itertools.chain(one, two, [0.0]))
        else:
            out[v] = sum(one) + sum(two)
    return out


@pytest.mark.parametrize(("seed", "mode"), [(7, "max"), (8, "max"), (7, "sum"), (9, "sum")])
def test_propagation_matches_brute_force(seed: int, mode: str) -> None:
    edges = random_edges(seed, n=40, m=80)
    rng = np.random.default_rng(seed)
    scores = {f"v{i:02d}": float(rng.random()) for i in rng.choice(40, 12, replace=False)}
    table = pa.table({"node": list(scores), "score": list(scores.values())})
    r = propagate_risk(edges, table, FACTORS, decay=(0.6, 0.5), mode=mode)
    ours = dict(zip(r["node"].to_pylist(), r["propagated"].to_pylist(), strict=True))
    expected = brute_force(edges, scores, (0.6, 0.5), mode)
    for node in set(ours) - set(expected):  # isolated by self-loops only
        expected[node] = 0.0
    assert ours == pytest.approx(expected)
