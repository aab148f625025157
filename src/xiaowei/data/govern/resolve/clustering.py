"""Turn exact identifier links and scored pairs into clusters — the policy, not the scoring.

Why not plain connected components over every scored pair: a record with only a name (a
field visit, a news item, a court record without ID) scores as high against *each* of two
firms that share that name, and connected components would then chain the two firms — each
with its own valid USCC — into one party. So the policy is:

1. **Anchors.** Signatures sharing a valid USCC or a valid resident ID are one party
   (deterministic, ``exact_id``). Two different valid identifiers of the same kind are two
   parties: an anchored cluster is never merged with another anchored cluster.
2. **Attachment.** A signature without a valid identifier joins the anchored cluster it
   scores best against (``probabilistic``), unless the runner-up is within ``tie_margin``
   match weight of the best — then the record cannot tell the two apart and is not
   attached to either.
3. **The rest.** Unattached signatures are grouped by connected components of their
   pairs among themselves (``probabilistic``); a signature with no pair at all is a party of
   its own (``unmatched``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

__all__ = ["Assignment", "UnionFind", "cluster_signatures"]


class UnionFind:
    """Disjoint sets over integer ids; the smallest id of a set is its representative."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        """The representative of ``item``'s set, halving paths on the way."""
        parent = self._parent
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, left: int, right: int) -> None:
        """Merge the sets of ``left`` and ``right`` (the smaller representative wins)."""
        a, b = self.find(left), self.find(right)
        if a != b:
            self._parent[max(a, b)] = min(a, b)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one signature went: its cluster key, how, and with what probability."""

    cluster: int
    match_kind: str  # 'exact_id' | 'probabilistic' | 'unmatched'
    match_probability: float | None


def _anchor_clusters(signatures: pa.Table) -> dict[int, int]:
    """Signature id → representative, for signatures carrying a valid identifier."""
    sets = UnionFind()
    first_with: dict[tuple[str, str], int] = {}
    columns = signatures.select(
        ["signature_id", "uscc", "uscc_valid", "id_number", "id_valid"]
    ).to_pylist()
    anchored: list[int] = []
    for row in columns:
        sid = row["signature_id"]
        keys = []
        if row["uscc_valid"]:
            keys.append(("uscc", row["uscc"]))
        if row["id_valid"]:
            keys.append(("id", row["id_number"]))
        if not keys:
            continue
        anchored.append(sid)
        sets.find(sid)
        for key in keys:
            if key in first_with:
                sets.union(sid, first_with[key])
            else:
                first_with[key] = sid
    return {sid: sets.find(sid) for sid in anchored}


def cluster_signatures(
    signatures: pa.Table, pairs: pa.Table, *, tie_margin: float = 1.0
) -> dict[int, Assignment]:
    """Assign every signature to a cluster following the policy in the module docstring.

    ``pairs`` are the scored pairs at or above the match threshold (``signature_id_l``,
    ``signature_id_r``, ``match_weight``, ``match_probability``).
    """
    anchor = _anchor_clusters(signatures)
    result: dict[int, Assignment] = {
        sid: Assignment(root, "exact_id", 1.0) for sid, root in anchor.items()
    }
    # best (weight, probability) per (weak signature, anchored cluster)
    to_anchor: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)
    weak_edges: list[tuple[int, int, float]] = []
    for left, right, weight, prob in zip(
        *(pairs.column(c).to_pylist() for c in pairs.column_names[:4]), strict=True
    ):
        left_root, right_root = anchor.get(left), anchor.get(right)
        if left_root is not None and right_root is not None:
            continue  # two anchored clusters never merge (policy 1)
        if left_root is None and right_root is None:
            weak_edges.append((left, right, prob))
            continue
        weak, root = (left, right_root) if left_root is None else (right, left_root)
        assert root is not None
        best = to_anchor[weak].get(root)
        if best is None or weight > best[0]:
            to_anchor[weak][root] = (weight, prob)
    for weak, candidates in to_anchor.items():
        ranked = sorted(candidates.items(), key=lambda item: (-item[1][0], item[0]))
        if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < tie_margin:
            continue  # cannot tell the candidates apart (policy 2)
        root, (_weight, prob) = ranked[0]
        result[weak] = Assignment(root, "probabilistic", prob)
    sets = UnionFind()
    best_prob: dict[int, float] = {}
    for left, right, prob in weak_edges:
        if left in result or right in result:
            continue
        sets.union(left, right)
        for sid in (left, right):
            best_prob[sid] = max(best_prob.get(sid, 0.0), prob)
    # weak representatives get keys clear of anchored ones: a negative, unique key
    for sid in signatures.column("signature_id").to_pylist():
        if sid in result:
            continue
        if sid in best_prob:
            result[sid] = Assignment(-1 - sets.find(sid), "probabilistic", best_prob[sid])
        else:
            result[sid] = Assignment(-1 - sid, "unmatched", None)
    return result
