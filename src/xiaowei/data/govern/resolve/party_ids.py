"""Stable party ids: the same records keep the same ``party_id`` run after run.

Why: tags, decisions, tasks and audit rows all point at a ``party_id``; if resolving again
(tomorrow's data, a better model) renumbered parties, every one of those references would
silently point at someone else. So ids are *inherited* from the previous run's links, and
new ids are derived from content, never from row order:

- a cluster inherits the previous id held by most of its records (ties: the smallest id);
- a previous id goes to one cluster only — the one holding most of its records — so when a
  party splits, the larger piece keeps the id and the rest get new ones;
- a cluster with nothing to inherit gets ``P`` + 16 hex digits of SHA-256 over its smallest
  record id (salted if that id was ever used before, so a retired id is never reissued).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping

__all__ = ["assign_stable_ids", "new_party_id"]


def new_party_id(anchor_record_id: str, salt: int = 0) -> str:
    """Content-derived id of a new party from its smallest record id."""
    text = anchor_record_id if salt == 0 else f"{anchor_record_id}#{salt}"
    return "P" + hashlib.sha256(text.encode()).hexdigest()[:16].upper()


def assign_stable_ids(
    previous_map: Mapping[str, str],
    clusters: Mapping[Hashable, Iterable[str]],
) -> dict[Hashable, str]:
    """Party id for each cluster (cluster key → record ids), inheriting from ``previous_map``.

    ``previous_map`` is record_id → party_id from the last run (empty on the first run).
    """
    members = {key: sorted(records) for key, records in clusters.items()}
    # votes[previous_id] = Counter(cluster key -> records of that cluster holding the id)
    votes: dict[str, Counter[Hashable]] = {}
    for key, records in members.items():
        for record_id in records:
            previous = previous_map.get(record_id)
            if previous is not None:
                votes.setdefault(previous, Counter())[key] += 1
    # each previous id goes to the cluster holding most of its records (ties: smallest record)
    owner: dict[str, Hashable] = {}
    for previous, counter in votes.items():
        owner[previous] = min(counter, key=lambda k: (-counter[k], members[k][0]))
    claims: dict[Hashable, list[str]] = {}
    for previous, key in owner.items():
        claims.setdefault(key, []).append(previous)
    used = set(previous_map.values())
    assigned: dict[Hashable, str] = {}
    for key in sorted(members, key=lambda k: members[k][0] if members[k] else ""):
        mine = claims.get(key)
        if mine:
            counter = Counter({p: votes[p][key] for p in mine})
            assigned[key] = min(mine, key=lambda p: (-counter[p], p))
            continue
        anchor = members[key][0] if members[key] else str(key)
        salt = 0
        while (candidate := new_party_id(anchor, salt)) in used:
            salt += 1
        used.add(candidate)
        assigned[key] = candidate
    return assigned
