"""Guarantee circles (担保圈): mutual (互保), joint (联保) and circular guarantees.

Why they matter: when firms guarantee each other, one default pulls the guarantors down with
it and the "secured" exposure of the whole circle turns out unsecured at once. A circle is a
strongly connected component of the directed guarantee graph with two or more parties: each
member can reach every other along guarantees. The simple cycles inside it (bounded length)
name the concrete loops an approver can look at.

Guarantees are often signed by a firm's controller rather than by the firm, so before looking
for circles a guarantee given by a person is *lifted* to the firms that person controls
(``control_kinds``, by default the legal representative): "A's legal rep guarantees B, B's legal
rep guarantees A" is a mutual guarantee of A and B. A controller guaranteeing his own firm's loan
becomes a self-loop, which is dropped: it is ordinary recourse, not a circle.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.data.govern.relations.components import labels
from xiaowei.data.govern.relations.edges import EDGE_SCHEMA, DateLike, group_ids, index, select

GUARANTEE_KINDS = ("guarantor",)
CONTROL_KINDS = ("legal_rep",)


def lift_guarantees(
    edges: pa.Table,
    *,
    guarantee_kinds: Iterable[str] = GUARANTEE_KINDS,
    control_kinds: Iterable[str] = CONTROL_KINDS,
    as_of: DateLike = None,
) -> pa.Table:
    """Guarantee edges with each guarantor replaced by the firms it controls, if any.

    A control edge runs controller → firm. A lifted edge is known when both the guarantee and
    the control were known (the later ``known_at``). Self-loops are dropped.
    """
    g = select(edges, list(guarantee_kinds), as_of)
    c = select(edges, list(control_kinds), as_of)
    c = (
        pa.table(
            {"src": c["src"], "firm": c["dst"], "c_since": c["since"], "c_known": c["known_at"]}
        )
        .group_by(["src", "firm"])
        .aggregate([("c_since", "min"), ("c_known", "min")])
    )
    joined = g.join(c, keys="src", join_type="left outer")
    controlled = pc.is_valid(joined["firm"])
    src = pc.if_else(controlled, joined["firm"], joined["src"])
    since = pc.if_else(
        controlled, pc.max_element_wise(joined["since"], joined["c_since_min"]), joined["since"]
    )
    known = pc.if_else(
        controlled,
        pc.max_element_wise(joined["known_at"], joined["c_known_min"]),
        joined["known_at"],
    )
    out = pa.table(
        [src, joined["dst"], joined["kind"], joined["directed"], since, known, joined["weight"]],
        schema=EDGE_SCHEMA,
    )
    return out.filter(pc.not_equal(out["src"], out["dst"]))


def _lifted(
    edges: pa.Table, guarantee_kinds: Iterable[str], control_kinds: Iterable[str], as_of: DateLike
) -> pa.Table:
    kinds = list(control_kinds)
    if not kinds:
        table = select(edges, list(guarantee_kinds), as_of)
        return table.filter(pc.not_equal(table["src"], table["dst"]))
    return lift_guarantees(edges, guarantee_kinds=guarantee_kinds, control_kinds=kinds, as_of=as_of)


def guarantee_circles(
    edges: pa.Table,
    *,
    as_of: DateLike = None,
    guarantee_kinds: Iterable[str] = GUARANTEE_KINDS,
    control_kinds: Iterable[str] = CONTROL_KINDS,
) -> pa.Table:
    """One row per party inside a guarantee circle.

    Columns: ``node``; ``circle`` (smallest member id); ``size`` (members); ``guarantees``
    (guarantee edges between members); ``exposure`` (sum of their weights, i.e. the amount
    guaranteed inside the circle; null when no edge has a weight). Parties in no circle are
    absent: a tag reads a missing row as size 0.
    """
    g = index(_lifted(edges, guarantee_kinds, control_kinds, as_of))
    lab = labels(g, strong=True)
    counts = np.bincount(lab, minlength=lab.max(initial=-1) + 1)
    in_circle = counts[lab] >= 2
    nodes = np.flatnonzero(in_circle)
    circle, size = group_ids(g.nodes.take(pa.array(nodes)), lab[nodes])
    internal = (lab[g.src] == lab[g.dst]) & in_circle[g.src]
    n_lab = len(counts)
    guarantees = np.bincount(lab[g.src[internal]], minlength=n_lab)
    w = g.weight[internal]
    amount = np.bincount(lab[g.src[internal]], weights=np.nan_to_num(w), minlength=n_lab)
    weighted = np.bincount(lab[g.src[internal]], weights=~np.isnan(w), minlength=n_lab)
    exposure = pa.array(amount[lab[nodes]].astype(np.float64), pa.float64(),
                        mask=weighted[lab[nodes]] == 0)
    return pa.table(
        {
            "node": g.nodes.take(pa.array(nodes)),
            "circle": circle,
            "size": pa.array(size.astype(np.int64)),
            "guarantees": pa.array(guarantees[lab[nodes]].astype(np.int64)),
            "exposure": exposure,
        }
    )


def guarantee_cycles(
    edges: pa.Table,
    *,
    max_length: int = 6,
    max_cycles: int = 100_000,
    as_of: DateLike = None,
    guarantee_kinds: Iterable[str] = GUARANTEE_KINDS,
    control_kinds: Iterable[str] = CONTROL_KINDS,
) -> pa.Table:
    """Simple guarantee cycles of 2..``max_length`` parties, each listed once.

    A cycle is written from its smallest node id, following the guarantees (guarantor first).
    Enumeration runs inside each circle only and stops with an error past ``max_cycles``, as a
    dense joint-guarantee group has factorially many loops and the approver needs the circle,
    not all of them. Columns: ``cycle`` (0, 1, …), ``length``, ``nodes`` (list of ids).
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    g = index(_lifted(edges, guarantee_kinds, control_kinds, as_of))
    lab = labels(g, strong=True)
    same = lab[g.src] == lab[g.dst]
    succ: dict[int, list[int]] = {}
    for a, b in sorted(set(zip(g.src[same].tolist(), g.dst[same].tolist(), strict=True))):
        succ.setdefault(a, []).append(b)
    found: list[list[int]] = []
    for start in sorted(succ):
        _cycles_from(start, succ, max_length, max_cycles, found)
    names = g.nodes.to_pylist()
    return pa.table(
        {
            "cycle": pa.array(range(len(found)), pa.int64()),
            "length": pa.array([len(c) for c in found], pa.int64()),
            "nodes": pa.array([[names[i] for i in c] for c in found], pa.list_(pa.string())),
        }
    )


def _cycles_from(
    start: int, succ: dict[int, list[int]], max_length: int, max_cycles: int, found: list[list[int]]
) -> None:
    """Depth-first search for cycles through ``start`` over larger nodes only (no repeats)."""
    path = [start]
    on_path = {start}
    stack = [iter(succ.get(start, ()))]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if nxt == start:
            if len(path) >= 2:
                found.append(list(path))
                if len(found) > max_cycles:
                    raise ValueError(
                        f"more than max_cycles={max_cycles} guarantee cycles; "
                        "raise max_cycles or lower max_length"
                    )
            continue
        if nxt < start or nxt in on_path or len(path) >= max_length:
            continue
        path.append(nxt)
        on_path.add(nxt)
        stack.append(iter(succ.get(nxt, ())))
