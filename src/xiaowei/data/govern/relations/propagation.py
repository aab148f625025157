"""Two-hop risk propagation: how much of its neighbours' known risk reaches a node.

Why: a firm whose guarantor, legal representative's other firm or phone-sharing neighbour has
defaulted carries risk its own data does not show. Each node receives its neighbours' scores
(e.g. defaulted = 1), damped by a factor per edge kind (a guarantee passes more risk than a
shared address) and a decay per hop, never its own score back. All parameters are data: a
strategy pack can hold them.

Edges are read as undirected (risk flows both ways along a guarantee: to the guarantor who
must pay, and to the borrower who loses its security). Parallel edges between the same two
nodes count once, with the largest factor (``max``) or the sum of factors (``sum``).

Two modes:

- ``max``: the strongest single path, ``max over u within 2 hops`` of
  ``score(u) · Π factor(edge) · decay(hop)``. Bounded by the largest score; easy to explain
  ("your guarantor defaulted").
- ``sum``: the weighted sum over all walks of length 1 and 2 that do not end where they began:
  ``d1·A·s + d2·(A²·s − diag(A²)·s)``. Grows with the number of bad neighbours.

With person and identifier nodes between parties (as the dataset adapter builds them), one
hop from a firm reaches its legal representative or phone; give ``decay`` four entries to
reach two hops of parties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix

from xiaowei.data.govern.relations.edges import DateLike, index, select

DEFAULT_DECAY = (0.5, 0.5)


def propagate_risk(edges: pa.Table, scores: pa.Table, kind_factors: Mapping[str, float], *,
                   decay: Sequence[float] = DEFAULT_DECAY, mode: str = "max",
                   as_of: DateLike = None) -> pa.Table:
    """Propagated score per node of the graph (edges of kinds in ``kind_factors``).

    ``scores`` has columns ``node`` and ``score`` (nodes absent score 0). ``decay[h]`` is the
    factor applied at hop h+1, cumulatively (a two-hop path is damped by
    ``decay[0] · decay[1]``); its length is the number of hops. Returns ``node``, ``score``
    (own score, for reference), ``hop_<k>`` (what arrives at exactly k hops) and
    ``propagated`` (max or sum over the hops).
    """
    if mode not in ("max", "sum"):
        raise ValueError(f"mode must be 'max' or 'sum', got {mode!r}")
    if not decay or any(d < 0 for d in decay):
        raise ValueError(f"decay must be a non-empty list of factors ≥ 0, got {list(decay)}")
    bad = {k: f for k, f in kind_factors.items() if not f >= 0}
    if bad:
        raise ValueError(f"kind_factors must be ≥ 0, got {bad}")
    for col in ("node", "score"):
        if col not in scores.column_names:
            raise ValueError(f"scores has no column '{col}'")
    g = index(select(edges, list(kind_factors), as_of))
    own = np.zeros(g.n)
    at = pc.index_in(scores["node"], value_set=g.nodes).to_numpy(zero_copy_only=False)
    val = pc.fill_null(pc.cast(scores["score"], pa.float64()), 0.0).to_numpy(
        zero_copy_only=False)
    keep = ~np.isnan(at)
    own[at[keep].astype(np.int64)] = val[keep]
    factor = np.array([kind_factors[k] for k in g.kind_names] + [0.0], float)[g.kind]
    a, b, f = _symmetric_pairs(g.src, g.dst, factor, g.n, combine=mode)
    hops = _max_hops(a, b, f, own, g.n, decay) if mode == "max" else \
        _sum_hops(a, b, f, own, g.n, decay)
    out = {"node": g.nodes, "score": pa.array(own)}
    for k, h in enumerate(hops, start=1):
        out[f"hop_{k}"] = pa.array(h)
    total = np.max(hops, axis=0) if mode == "max" else np.sum(hops, axis=0)
    out["propagated"] = pa.array(total)
    return pa.table(out)


def _symmetric_pairs(src: np.ndarray, dst: np.ndarray, factor: np.ndarray, n: int,
                     combine: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every edge, one entry per ordered pair, self-loops and zeros out."""
    keep = (src != dst) & (factor > 0)
    a = np.concatenate([src[keep], dst[keep]])
    b = np.concatenate([dst[keep], src[keep]])
    f = np.concatenate([factor[keep], factor[keep]])
    key = a * n + b
    uniq, inv = np.unique(key, return_inverse=True)
    if combine == "max":
        out = np.zeros(len(uniq))
        np.maximum.at(out, inv, f)
    else:
        out = np.bincount(inv, weights=f, minlength=len(uniq))
    return uniq // n, uniq % n, out


def _max_hops(a: np.ndarray, b: np.ndarray, f: np.ndarray, s: np.ndarray, n: int,
              decay: Sequence[float]) -> list[np.ndarray]:
    """Best single path per hop count, excluding paths that end at their start.

    For paths of length ≥ 2 the best path may come back to its start, so each node keeps its
    best two arrivals with distinct origins; a node reading a neighbour's best takes the
    second when the best is itself. Paths may revisit intermediate nodes (walks), a
    simplification that only matters for three hops or more.
    """
    hops: list[np.ndarray] = []
    # best[x], origin[x]: best value arriving at x with the path's product so far, from origin.
    best1, orig1, best2, orig2 = s.copy(), np.arange(n), np.zeros(n), np.full(n, -1)
    acc = 1.0
    for d in decay:
        acc *= d
        # Candidates for node a through neighbour b: b's best (or second if it came from a).
        use_first = orig1[b] != a
        cand = np.where(use_first, best1[b], best2[b]) * f
        cand_orig = np.where(use_first, orig1[b], orig2[b])
        hops.append(_group_max(a, cand, n) * acc)
        best1, orig1, best2, orig2 = _top2(a, cand, cand_orig, n)
    return hops


def _group_max(group: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    np.maximum.at(out, group, value)
    return out


def _top2(group: np.ndarray, value: np.ndarray, origin: np.ndarray,
          n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group the best value and the best value from a different origin."""
    ok = (origin >= 0) & (value > 0)
    group, value, origin = group[ok], value[ok], origin[ok]
    order = np.lexsort((-value, group))
    group, value, origin = group[order], value[order], origin[order]
    # Keep each (group, origin) once, at its best value, then the first two per group.
    order2 = np.lexsort((-value, origin, group))
    g2, v2, o2 = group[order2], value[order2], origin[order2]
    first_pair = np.ones(len(g2), bool)
    first_pair[1:] = (g2[1:] != g2[:-1]) | (o2[1:] != o2[:-1])
    g2, v2, o2 = g2[first_pair], v2[first_pair], o2[first_pair]
    order3 = np.lexsort((-v2, g2))
    g2, v2, o2 = g2[order3], v2[order3], o2[order3]
    start = np.ones(len(g2), bool)
    start[1:] = g2[1:] != g2[:-1]
    rank = np.arange(len(g2)) - np.maximum.accumulate(np.where(start, np.arange(len(g2)), 0))
    b1, o1 = np.zeros(n), np.full(n, -1)
    b2, o2_ = np.zeros(n), np.full(n, -1)
    r0, r1 = rank == 0, rank == 1
    b1[g2[r0]], o1[g2[r0]] = v2[r0], o2[r0]
    b2[g2[r1]], o2_[g2[r1]] = v2[r1], o2[r1]
    return b1, o1, b2, o2_


def _sum_hops(a: np.ndarray, b: np.ndarray, f: np.ndarray, s: np.ndarray, n: int,
              decay: Sequence[float]) -> list[np.ndarray]:
    """Walk sums per hop, minus walks that return to their start at the last step."""
    m = coo_matrix((f, (a, b)), shape=(n, n)).tocsr()
    hops: list[np.ndarray] = []
    reach = s.copy()  # walks of length k, weighted by the score at their far end
    acc = 1.0
    power = m  # m^k, kept only when more than two hops are asked for (it can be large)
    for k, d in enumerate(decay, start=1):
        acc *= d
        reach = m @ reach
        if k >= 2 and len(decay) > 2:
            power = power @ m
        if k == 1:
            closed = np.zeros(n)
        elif k == 2:  # diag(A²) of a symmetric A: the row sums of squares, no product needed
            closed = np.asarray(m.multiply(m).sum(axis=1)).ravel()
        else:
            closed = power.diagonal()
        hops.append((reach - closed * s) * acc)
    return hops
