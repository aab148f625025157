"""Golden records: one row per party, each field taken from the record most worth trusting.

The rule, field by field (ties always broken by the smallest ``record_id``, so the choice is
reproducible):

- ``name``: the source that *registers* the name wins — registry, then the bank's own
  application, core banking, bureau, utility, courts, field visits, news last (news use the
  short trade name); within a source, records carrying a valid identifier first, then the
  spelling most records of the party use (the registry's format variants lose to it);
- ``uscc`` / ``id_number``: the valid identifier (an anchored party has exactly one of each
  kind); invalid ones never become golden;
- ``phone``: the application (the customer typed it for this bank), then core banking, then
  registry; only 11-digit mobiles or area-code landlines (``0…``) qualify;
- ``address``: registry, then application, core banking, utility;
- ``region_code``: registry, then application, then the court's division;
- ``party_kind``: 'person' or 'firm', whichever most records say.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

__all__ = ["NAME_PRIORITY", "golden_records"]

NAME_PRIORITY = (
    "registry_companies",
    "applications",
    "core_customers",
    "bureau_reports",
    "utility_accounts",
    "court_enforcement",
    "court_dishonest",
    "court_cases",
    "field_visits",
    "web_news",
)
_PHONE_PRIORITY = ("applications", "core_customers", "registry_companies")
_ADDRESS_PRIORITY = ("applications", "core_customers", "utility_accounts")
_REGION_PRIORITY = ("applications", "court_cases")


def _rank(sources: tuple[str, ...], first: str | None = None) -> str:
    order = ((first,) if first else ()) + sources
    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(order))
    return f"CASE source {cases} ELSE 99 END"


def golden_records(records: pa.Table, links: pa.Table) -> pa.Table:
    """Golden record per ``party_id`` from identity ``records`` and their ``links``."""
    con = duckdb.connect()
    con.register("records", records)
    con.register("links", links)
    name_rank = _rank(NAME_PRIORITY)
    phone_rank = _rank(_PHONE_PRIORITY)
    address_rank = _rank(_ADDRESS_PRIORITY, "registry_companies")
    region_rank = _rank(_REGION_PRIORITY, "registry_companies")
    table = con.sql(
        f"""
        WITH r AS (
            SELECT l.party_id, r.*,
                   count(*) OVER (PARTITION BY l.party_id, r.name) AS spelling_count
            FROM records r JOIN links l USING (record_id)
        )
        SELECT party_id,
               CASE WHEN count_if(party_kind = 'person') > count_if(party_kind = 'firm')
                    THEN 'person' ELSE 'firm' END AS party_kind,
               arg_min(name, ({name_rank}, NOT (uscc_valid OR id_valid), -spelling_count,
                              record_id)) FILTER (WHERE name IS NOT NULL) AS name,
               min(uscc) FILTER (WHERE uscc_valid) AS uscc,
               min(id_number) FILTER (WHERE id_valid) AS id_number,
               arg_min(phone, ({phone_rank}, record_id)) FILTER (
                   WHERE regexp_full_match(phone, '1[0-9]{{10}}|0[0-9]{{9,11}}')) AS phone,
               arg_min(address, ({address_rank}, record_id))
                   FILTER (WHERE address IS NOT NULL) AS address,
               arg_min(region_code, ({region_rank}, record_id))
                   FILTER (WHERE region_code IS NOT NULL) AS region_code,
               count(*) AS n_records,
               count(DISTINCT source) AS n_sources
        FROM r GROUP BY party_id ORDER BY party_id
        """
    ).to_arrow_table()
    con.close()
    return table
