"""The party tables of the governed schema: links, keys, golden records, profiles.

`party_link` is lineage (every source record → its party); `party_key` lets sources that
carry only an identifier (tax filings, invoices, registry events) find their party; both
come from entity resolution, never from the simulator's truth.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from xiaowei.data.govern.resolve import Resolution

ANCHOR_MIN_SELLERS = 8  # a buyer invoiced by this many customers is a supply-chain anchor


def write_party_tables(con: duckdb.DuckDBPyConnection, records: pa.Table,
                       resolution: Resolution) -> None:
    con.register("identity_records_in", records)
    con.register("party_links_in", resolution.party_links)
    con.register("golden_in", resolution.parties)
    try:
        con.execute("CREATE OR REPLACE TABLE gov.party AS SELECT * FROM golden_in")
        con.execute("CREATE OR REPLACE TABLE gov.party_link AS SELECT * FROM party_links_in")
        # A key that resolution saw on records of two parties is not a key: leave it out.
        con.execute("""
            CREATE OR REPLACE TABLE gov.party_key AS
            WITH keys AS (
              SELECT 'uscc' AS kind, r.uscc AS value, l.party_id
              FROM identity_records_in r JOIN party_links_in l USING (record_id, source)
              WHERE r.uscc_valid
              UNION
              SELECT 'id', r.id_number, l.party_id
              FROM identity_records_in r JOIN party_links_in l USING (record_id, source)
              WHERE r.id_valid AND r.party_kind = 'person')
            SELECT kind, value, MIN(party_id) AS party_id FROM keys
            GROUP BY kind, value HAVING COUNT(DISTINCT party_id) = 1""")
    finally:
        for name in ("identity_records_in", "party_links_in", "golden_in"):
            con.unregister(name)


PROFILE_SQL = """
CREATE OR REPLACE TABLE gov.party_profile AS
WITH reg AS (
  SELECT l.party_id, c.*,
         ROW_NUMBER() OVER (PARTITION BY l.party_id ORDER BY c.received_at, c.record_id) AS rn
  FROM raw.registry_companies c
  JOIN gov.party_link l ON l.source = 'registry_companies' AND l.record_id = c.record_id),
first_app AS (
  SELECT l.party_id, MIN(CAST(a.applied_at AS DATE)) AS applied_on,
         arg_min(a.party_type, a.applied_at) AS party_type,
         arg_min(a.industry_code, a.applied_at) AS industry_code,
         arg_min(a.id_number, a.applied_at) AS id_number
  FROM raw.bank_applications a
  JOIN gov.party_link l ON l.source = 'applications' AND l.record_id = a.application_no
  GROUP BY l.party_id),
sellers AS (
  SELECT k.party_id AS buyer, COUNT(DISTINCT i.seller_tax_id) AS n_sellers
  FROM raw.tax_invoices i
  JOIN gov.party_key k ON k.kind = 'uscc' AND k.value = i.buyer_tax_id
  GROUP BY k.party_id),
anchors AS (SELECT buyer AS party_id FROM sellers WHERE n_sellers >= {min_sellers}),
member_of AS (
  SELECT s.party_id, arg_max(b.party_id, s.amount) AS anchor_party_id
  FROM (SELECT k.party_id, i.buyer_tax_id, SUM(i.amount) AS amount FROM raw.tax_invoices i
        JOIN gov.party_key k ON k.kind = 'uscc' AND k.value = i.seller_tax_id
        GROUP BY k.party_id, i.buyer_tax_id) s
  JOIN gov.party_key b ON b.kind = 'uscc' AND b.value = s.buyer_tax_id
  JOIN anchors a ON a.party_id = b.party_id
  GROUP BY s.party_id)
SELECT p.party_id,
       COALESCE(f.party_type, CASE WHEN p.party_kind = 'person' THEN 'business_owner'
                                   WHEN substr(p.uscc, 1, 2) = '92' THEN 'individual_business'
                                   ELSE 'enterprise' END) AS party_type,
       p.name, p.uscc,
       CASE WHEN length(COALESCE(reg.legal_rep_id, f.id_number, p.id_number)) = 18
            THEN try_strptime(substr(COALESCE(reg.legal_rep_id, f.id_number, p.id_number),
                                     7, 8), '%Y%m%d')::DATE END AS legal_rep_birth_date,
       COALESCE(reg.region_code, p.region_code) AS region_code,
       COALESCE(reg.industry_code, f.industry_code) AS industry_code,
       {section} AS industry_section,
       (std_date_text(reg.established)).value AS established_on,
       (std_amount_text(reg.registered_capital)).value AS registered_capital_yuan,
       reg.status AS registry_status,
       CASE WHEN a.party_id IS NOT NULL THEN 'anchor'
            WHEN m.party_id IS NOT NULL THEN 'member' ELSE 'none' END AS supply_chain_role,
       m.anchor_party_id,
       COALESCE(reg.received_at, f.applied_on, DATE '{history_start}') AS known_at
FROM gov.party p
LEFT JOIN reg ON reg.party_id = p.party_id AND reg.rn = 1
LEFT JOIN first_app f ON f.party_id = p.party_id
LEFT JOIN anchors a ON a.party_id = p.party_id
LEFT JOIN member_of m ON m.party_id = p.party_id
WHERE p.party_kind IN ('firm', 'person')
"""


def section_case(column: str) -> str:
    """GB/T 4754 section letter from a division code, as SQL (ranges of the standard)."""
    from xiaowei.entities.industry import all_divisions, section_of

    by_section: dict[str, list[str]] = {}
    for d in all_divisions():
        by_section.setdefault(section_of(d.code), []).append(d.code)
    arms = " ".join(
        f"WHEN substr({column}, 1, 2) IN ({', '.join(repr(c) for c in codes)}) THEN '{s}'"
        for s, codes in sorted(by_section.items()))
    return f"CASE {arms} END"
