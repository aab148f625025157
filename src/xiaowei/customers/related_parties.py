"""Who a customer is related to: governed parties linked through a person, a shareholding,
a guarantee, a marriage or a supply chain, as the bank knew it on a day.

Why its own module: the relationship view sums a customer's group (集团/关联方 exposure), the
grade and the pages list the related parties, and the offers read them — one definition, in
one SQL text, for the whole book at once.

How parties are linked. Most people behind a small business (legal representatives,
shareholders, guarantors, spouses) are not customers themselves, so two parties are related
when they share a *node*: a natural person's ID number or a firm's credit code. Every row of
``roles`` says "this node stands behind this party as …":

* ``self`` — the party's own identifier (``gov.party_key``): a business owner *is* a person;
* ``legal_rep`` — the registry's legal representative of a firm, and the ID number a firm's
  application named (its legal representative);
* ``shareholder`` — a holder in ``gov.shareholder`` (a person, or a firm by its credit code);
* ``guarantor`` / ``spouse`` — a guarantor on one of the party's applications (``配偶``: the
  applicant's spouse).

Two parties with a common node are related; the relation is named after the stronger role
on either side (spouse, guarantor, shareholder, then legal_rep — "the same legal
representative"). Supply chain: a member firm and its anchor (``party_profile.anchor_party_id``)
are related both ways. One hop only: the related parties of a related party are not added
(``relation_metric.component_size`` counts the whole connected group).

Point in time: registry rows count from ``received_at``, applications (and their guarantors)
from the application's ``known_at``, shareholders and profiles from ``known_at``. A node that
stands behind more than :data:`MAX_NODE_PARTIES` parties (a registration agent's phone-book
ID, a data error) links nobody: such a "family" is not a relationship.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from xiaowei.postloan.loan_state import fetch_arrow

RELATIONS = ("spouse", "guarantor", "shareholder", "legal_rep", "supply_chain")
"""Relation names, strongest first (a pair linked twice is named after the stronger)."""
RELATION_ZH = {"spouse": "配偶", "guarantor": "担保", "shareholder": "股东",
               "legal_rep": "同一法定代表人", "supply_chain": "供应链"}
MAX_NODE_PARTIES = 50


def canonical(column: str) -> str:
    """SQL for an identifier in one spelling (full-width digits and X folded, separators
    dropped, upper case) — the spelling ``gov.party_key`` holds. ``column`` is code, never
    input."""
    return (f"upper(regexp_replace(translate(coalesce({column}, ''), '０１２３４５６７８９Ｘｘ', "
            f"'0123456789XX'), '[\\s\\-]', '', 'g'))")


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                        "table_name = ?", [schema, table]).fetchall()
    return bool(found[0][0])


def _role_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ``roles`` parts the store can give (a store without raw tables has fewer)."""
    parts = ["SELECT value AS node, party_id, 'self' AS role FROM gov.party_key"]
    if has_table(con, "raw", "registry_companies"):
        parts.append(f"""
            SELECT {canonical('r.legal_rep_id')}, k.party_id, 'legal_rep'
            FROM raw.registry_companies r
            JOIN gov.party_key k ON k.kind = 'uscc' AND k.value = {canonical('r.uscc')}
            WHERE r.received_at <= $day""")
    if has_table(con, "raw", "bank_applications") and has_table(con, "gov", "application"):
        parts.append(f"""
            SELECT {canonical('a.id_number')}, g.party_id, 'legal_rep'
            FROM raw.bank_applications a JOIN gov.application g
              ON g.application_id = a.application_no
            WHERE g.known_at <= $day AND coalesce(a.uscc, '') <> ''""")
    if has_table(con, "gov", "shareholder"):
        parts.append(f"""
            SELECT {canonical('s.holder_id')}, s.party_id, 'shareholder'
            FROM gov.shareholder s WHERE s.known_at <= $day""")
    if has_table(con, "raw", "bank_application_guarantors") and \
            has_table(con, "gov", "application"):
        parts.append(f"""
            SELECT {canonical('b.guarantor_id')}, g.party_id,
                   CASE WHEN b.relation = '配偶' THEN 'spouse' ELSE 'guarantor' END
            FROM raw.bank_application_guarantors b JOIN gov.application g
              ON g.application_id = b.application_no
            WHERE g.known_at <= $day""")
    return parts


def related_sql(con: duckdb.DuckDBPyConnection, one_party: bool = False) -> str:
    """SQL (parameter ``$day``) giving one row per related pair, both directions:
    ``party_id, related_id, relation`` (the strongest) and ``relations`` (all, strongest
    first). ``one_party``: only the pairs of the party ``$party`` (and their reverse) — the
    nodes are narrowed to the party's before the self-join, so a page asks in a second."""
    priority = " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(RELATIONS))
    roles = "\n            UNION ALL ".join(_role_sources(con))
    narrow = ("AND node IN (SELECT node FROM roles_all WHERE party_id = $party)"
              if one_party else "")
    chain = "AND (party_id = $party OR anchor_party_id = $party)" if one_party else ""
    return f"""
        WITH roles_all AS ({roles}),
        roles AS (
            SELECT DISTINCT node, party_id, role FROM roles_all
            WHERE node <> '' AND party_id IS NOT NULL {narrow}),
        crowded AS (
            SELECT node FROM roles GROUP BY node
            HAVING count(DISTINCT party_id) > {MAX_NODE_PARTIES}),
        kept AS (SELECT * FROM roles WHERE node NOT IN (SELECT node FROM crowded)),
        via_node AS (
            SELECT a.party_id, b.party_id AS related_id,
                   CASE WHEN 'spouse' IN (a.role, b.role) THEN 'spouse'
                        WHEN 'guarantor' IN (a.role, b.role) THEN 'guarantor'
                        WHEN 'shareholder' IN (a.role, b.role) THEN 'shareholder'
                        ELSE 'legal_rep' END AS relation
            FROM kept a JOIN kept b ON a.node = b.node AND a.party_id <> b.party_id
            WHERE NOT (a.role = 'self' AND b.role = 'self')),
        chain AS (
            SELECT party_id, anchor_party_id AS related_id, 'supply_chain' AS relation
            FROM gov.party_profile
            WHERE anchor_party_id IS NOT NULL AND anchor_party_id <> party_id
              AND known_at <= $day {chain}
            UNION ALL
            SELECT anchor_party_id, party_id, 'supply_chain'
            FROM gov.party_profile
            WHERE anchor_party_id IS NOT NULL AND anchor_party_id <> party_id
              AND known_at <= $day {chain}),
        pairs AS (
            SELECT DISTINCT party_id, related_id, relation FROM (
                SELECT * FROM via_node UNION ALL SELECT * FROM chain))
        SELECT party_id, related_id,
               list(relation ORDER BY CASE relation {priority} END)[1] AS relation,
               list(relation ORDER BY CASE relation {priority} END) AS relations
        FROM pairs GROUP BY party_id, related_id"""


def related_parties(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                    party_id: str | None = None) -> pa.Table:
    """Every related pair as of ``as_of`` (or one party's), ordered by party and related id."""
    sql = related_sql(con, one_party=party_id is not None)
    where = "WHERE party_id = $party" if party_id is not None else ""
    params: dict[str, object] = {"day": as_of}
    if party_id is not None:
        params["party"] = party_id
    return fetch_arrow(con, f"SELECT * FROM ({sql}) {where} ORDER BY party_id, related_id",
                       params)


__all__ = ["MAX_NODE_PARTIES", "RELATIONS", "RELATION_ZH", "canonical", "has_table",
           "related_parties", "related_sql"]
