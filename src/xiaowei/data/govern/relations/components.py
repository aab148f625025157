"""Who is connected to whom: connected components, shared-identifier clusters, degrees.

Components answer "which parties form one group of connected risk" (关联企业群); clusters
over shared phones, addresses and devices are the raw material of a fraud-ring score, since a
ring shows itself by what its shells share; degrees say how many relations of each kind a
node has, the simplest graph feature a tag or a model can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _cc

from xiaowei.data.govern.relations.edges import (
    DateLike,
    IndexedEdges,
    group_ids,
    index,
    select,
)

# Which end of each kind is the party; the other end is the shared identifier.
SHARED_IDENTIFIERS: dict[str, str] = {
    "shares_phone": "src",
    "shares_address": "src",
    "shares_device": "src",
}


def labels(g: IndexedEdges, *, strong: bool = False) -> np.ndarray:
    """Component label per node (weak, or strong over the edges' own direction)."""
    if g.n == 0:
        return np.zeros(0, np.int64)
    a = coo_matrix((np.ones(len(g.src), np.int8), (g.src, g.dst)), shape=(g.n, g.n)).tocsr()
    _, lab = _cc(a, directed=strong, connection="strong" if strong else "weak")
    return lab.astype(np.int64)


def connected_components(
    edges: pa.Table,
    *,
    kinds: Iterable[str] | None = None,
    as_of: DateLike = None,
    members: pa.Array | Iterable[str] | None = None,
) -> pa.Table:
    """Every node with its component (smallest node id in it) and the component's size.

    Direction is ignored: a guarantee ties two parties together whichever way it runs.
    ``members`` (e.g. the party nodes) decides which nodes ``size`` counts, so that phone or
    person nodes do not inflate a group's size; by default every node counts.
    """
    g = index(select(edges, kinds, as_of))
    lab = labels(g)
    component, _ = group_ids(g.nodes, lab)
    counted = np.ones(g.n, bool) if members is None else _is_in(g.nodes, members)
    size = np.bincount(lab, weights=counted, minlength=lab.max(initial=-1) + 1)[lab]
    return pa.table(
        {"node": g.nodes, "component": component, "size": pa.array(size.astype(np.int64))}
    )


def identifier_clusters(
    edges: pa.Table, *, kinds: Mapping[str, str] | None = None, as_of: DateLike = None
) -> pa.Table:
    """Parties linked through shared identifiers, one row per party.

    ``kinds`` maps an edge kind to the end that is the party ("src" or "dst"), the other end
    being the identifier; by default phone, address and device. Add ``{"legal_rep": "dst"}``
    to let a shared legal representative link firms too. Columns: ``node``, ``cluster``
    (smallest party id), ``size`` (parties in the cluster), ``identifiers`` (identifier nodes
    in it), and ``shared_<kind>`` (identifiers of that kind in the cluster linking ≥ 2 of its
    parties).
    """
    sides = dict(SHARED_IDENTIFIERS if kinds is None else kinds)
    bad = {k: v for k, v in sides.items() if v not in ("src", "dst")}
    if bad:
        raise ValueError(f"kinds: the party end must be 'src' or 'dst', got {bad}")
    table = select(edges, sides, as_of)
    g = index(table)
    party_end = g.of_kind(*[k for k, v in sides.items() if v == "src"])
    party = np.where(party_end, g.src, g.dst)
    ident = np.where(party_end, g.dst, g.src)
    is_party = np.zeros(g.n, bool)
    is_party[party] = True
    lab = labels(g)
    nodes = np.flatnonzero(is_party)
    cluster, size = group_ids(g.nodes.take(pa.array(nodes)), lab[nodes])
    n_lab = lab.max(initial=-1) + 1
    is_ident = np.zeros(g.n, bool)
    is_ident[ident] = True
    idents = np.bincount(lab, weights=is_ident & ~is_party, minlength=n_lab)
    out = {
        "node": g.nodes.take(pa.array(nodes)),
        "cluster": cluster,
        "size": pa.array(size.astype(np.int64)),
        "identifiers": pa.array(idents[lab[nodes]].astype(np.int64)),
    }
    for kind in sides:
        sel = g.of_kind(kind)
        # An identifier counts as shared when ≥ 2 distinct parties hang on it.
        pairs = np.unique(np.stack([ident[sel], party[sel]]), axis=1)
        per_ident = np.bincount(pairs[0], minlength=g.n) if pairs.size else np.zeros(g.n)
        shared = np.flatnonzero(per_ident >= 2)
        count = np.bincount(lab[shared], minlength=n_lab)
        out[f"shared_{kind}"] = pa.array(count[lab[nodes]].astype(np.int64))
    return pa.table(out)


def degrees(
    edges: pa.Table, *, kinds: Iterable[str] | None = None, as_of: DateLike = None
) -> pa.Table:
    """Edges per node: ``degree`` in all, ``<kind>`` per kind, ``<kind>_out``/``_in`` if directed.

    The kinds (and so the columns) are those asked for, or all kinds present in the table
    before the ``as_of`` filter, so a tag reading a column finds it at every date.
    """
    kinds = None if kinds is None else list(kinds)
    every = select(edges, kinds)
    wanted = sorted(set(kinds) if kinds is not None else set(every["kind"].unique().to_pylist()))
    directed = set(
        every.filter(pc.fill_null(every["directed"], False))["kind"].unique().to_pylist()
    )
    g = index(select(every, wanted, as_of))
    loops = g.src == g.dst
    total = np.bincount(g.src, minlength=g.n) + np.bincount(g.dst[~loops], minlength=g.n)
    out: dict[str, pa.Array] = {"node": g.nodes, "degree": pa.array(total.astype(np.int64))}
    for kind in wanted:
        sel = g.of_kind(kind)
        o = np.bincount(g.src[sel], minlength=g.n)
        i = np.bincount(g.dst[sel & ~loops], minlength=g.n)
        out[kind] = pa.array((o + i).astype(np.int64))
        if kind in directed:
            d = sel & g.directed
            out[f"{kind}_out"] = pa.array(np.bincount(g.src[d], minlength=g.n).astype(np.int64))
            out[f"{kind}_in"] = pa.array(np.bincount(g.dst[d], minlength=g.n).astype(np.int64))
    return pa.table(out)


def _is_in(nodes: pa.Array, members: pa.Array | Iterable[str]) -> np.ndarray:
    values = members if isinstance(members, pa.Array) else pa.array(list(members), pa.string())
    return pc.is_in(nodes, value_set=values).to_numpy(zero_copy_only=False)
