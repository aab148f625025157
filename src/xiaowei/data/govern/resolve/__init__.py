"""Entity resolution: identity records of every source → a party master with lineage.

Why a package of its own: resolution is where the platform decides *who* each raw row is
about; everything downstream (relations, tags, strategies) keys on the ``party_id`` decided
here. Deterministic links on valid identifiers first, splink's probabilistic model for the
rest, a clustering policy that never merges two validly identified parties, and ids that stay
stable across runs. See ``docs`` in each module for the why of each step.
"""

from xiaowei.data.govern.resolve.clustering import Assignment, cluster_signatures
from xiaowei.data.govern.resolve.golden import golden_records
from xiaowei.data.govern.resolve.identity_records import (
    IDENTITY_SCHEMA,
    build_identity_records,
    identity_records,
)
from xiaowei.data.govern.resolve.party_ids import assign_stable_ids, new_party_id
from xiaowei.data.govern.resolve.pipeline import LINK_SCHEMA, Resolution, resolve_parties
from xiaowei.data.govern.resolve.quality import resolution_quality

__all__ = [
    "IDENTITY_SCHEMA",
    "LINK_SCHEMA",
    "Assignment",
    "Resolution",
    "assign_stable_ids",
    "build_identity_records",
    "cluster_signatures",
    "golden_records",
    "identity_records",
    "new_party_id",
    "resolution_quality",
    "resolve_parties",
]
