"""Relationship-graph metrics per party: the `gov.relation_metric` table.

The graph's nodes are canonical identifiers (`org:<USCC>`, `person:<ID>`); entity
resolution's keys turn them into party ids. A party's figure is the largest over its nodes.
The metrics are a snapshot as of the dataset's last day (known_at = that day), so tags of
earlier dates do not see them — point in time, at the price of no history yet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from xiaowei.data.govern.relations import (
    connected_components,
    edges_from_dataset,
    guarantee_circles,
    identifier_clusters,
    propagate_risk,
)

RELATED_KINDS = ("legal_rep", "shareholder", "guarantor", "spouse")
# How much of a related party's risk reaches a party, by the kind of edge between them.
KIND_FACTORS = {"legal_rep": 1.0, "shareholder": 0.8, "guarantor": 1.0, "spouse": 0.8,
                "shares_phone": 0.6, "shares_address": 0.4, "shares_device": 0.6}


def write_relation_metrics(con: duckdb.DuckDBPyConnection, folder: Path,
                           as_of: dt.date) -> int:
    edges = edges_from_dataset(folder)
    tables = {
        "rm_circle": guarantee_circles(edges, as_of=as_of).select(["node", "size"]),
        "rm_component": connected_components(edges, kinds=RELATED_KINDS, as_of=as_of)
        .select(["node", "size"]),
        "rm_cluster": identifier_clusters(edges, as_of=as_of),
        "rm_risk": _propagated(con, edges, as_of),
    }
    tables["rm_edges"] = edges.select(["src", "dst", "kind", "known_at"])
    for name, table in tables.items():
        con.register(name, table)
    try:
        con.execute("""
            CREATE OR REPLACE TABLE gov.relation_metric AS
            WITH node_party AS (
              SELECT 'org:' || value AS node, party_id FROM gov.party_key WHERE kind = 'uscc'
              UNION ALL
              SELECT 'person:' || value, party_id FROM gov.party_key WHERE kind = 'id'),
            users AS (   -- parties per shared identifier (phone, address, device)
              SELECT dst, kind, COUNT(DISTINCT src) AS n FROM rm_edges
              WHERE kind IN ('shares_phone', 'shares_address', 'shares_device')
                AND known_at <= $as_of
              GROUP BY dst, kind),
            shared AS (
              SELECT e.src AS node,
                     MAX(CASE WHEN e.kind = 'shares_phone' THEN u.n - 1 END) AS phone,
                     MAX(CASE WHEN e.kind = 'shares_address' THEN u.n - 1 END) AS address,
                     MAX(CASE WHEN e.kind = 'shares_device' THEN u.n - 1 END) AS device
              FROM rm_edges e JOIN users u ON u.dst = e.dst AND u.kind = e.kind
              GROUP BY e.src)
            SELECT p.party_id,
                   COALESCE(MAX(c.size), 0) AS guarantee_circle_size,
                   COALESCE(MAX(g.size), 1) AS component_size,
                   COALESCE(MAX(s.phone), 0) AS shared_phone_parties,
                   COALESCE(MAX(s.address), 0) AS shared_address_parties,
                   COALESCE(MAX(s.device), 0) AS shared_device_parties,
                   COALESCE(MAX(k.size), 1) AS identifier_cluster_size,
                   COALESCE(MAX(r.propagated), 0.0) AS propagated_risk,
                   CAST($as_of AS DATE) AS known_at
            FROM gov.party_profile p
            LEFT JOIN node_party n ON n.party_id = p.party_id
            LEFT JOIN rm_circle c ON c.node = n.node
            LEFT JOIN rm_component g ON g.node = n.node
            LEFT JOIN rm_cluster k ON k.node = n.node
            LEFT JOIN shared s ON s.node = n.node
            LEFT JOIN rm_risk r ON r.node = n.node
            GROUP BY p.party_id""", {"as_of": as_of})
    finally:
        for name in tables:
            con.unregister(name)
    return int(con.execute("SELECT COUNT(*) FROM gov.relation_metric").fetchall()[0][0])


def _propagated(con: duckdb.DuckDBPyConnection, edges: pa.Table, as_of: dt.date) -> pa.Table:
    """Risk at source: a party on the dishonest list or under enforcement scores 1."""
    rows = con.execute("""
        SELECT DISTINCT CASE WHEN k.kind = 'uscc' THEN 'org:' ELSE 'person:' END || k.value
                        AS node, 1.0 AS score
        FROM (SELECT party_id FROM gov.dishonest_listing WHERE known_at <= ?
              UNION SELECT party_id FROM gov.enforcement WHERE known_at <= ?) bad
        JOIN gov.party_key k ON k.party_id = bad.party_id""", [as_of, as_of]).fetchall()
    scores = pa.table({"node": pa.array([r[0] for r in rows], pa.string()),
                       "score": pa.array([float(r[1]) for r in rows], pa.float64())})
    result = propagate_risk(edges, scores, KIND_FACTORS, as_of=as_of)
    return result.select(["node", "propagated"])
