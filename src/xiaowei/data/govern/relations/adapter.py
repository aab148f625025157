"""Edges from a dataset folder (the simulator's layout) until the party master exists.

Why an adapter of its own: the metrics take any edge table; this is the one place that knows
which raw and bank columns carry a relation. Node ids are canonical identifiers with a type
prefix, so that ids of different kinds can never collide and a reader sees what a node is:

    org:<USCC>       a firm or individual business        person:<resident ID>  a person
    phone:<number>   address:<text>   device:<id>          shared identifiers

A business owner (个人经营者) applies with a resident ID and no USCC, so the owner party *is*
its person node. When entity resolution delivers party ids, only this module changes.

Identifiers are canonicalised the way ``entities.identifiers.normalise_text`` does (NFKC
half-width, separators dropped, upper case) but vectorised; invalid check characters are kept
as they are (resolving a typo to its real party is entity resolution's work).

Point in time: registry rows are known at ``received_at``, application facts (legal rep,
phone, address, device, guarantors) at the application date, invoices per quarter at the last
issue date of the quarter. Anchors come from the bank's list of core enterprises when given;
otherwise they are inferred as buyers invoiced by ≥ ``anchor_min_suppliers`` distinct sellers
over the whole history (an inference that looks ahead: pass the list where there is one).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.data.govern.relations.edges import EDGE_SCHEMA, conform

_SEPARATORS = r"[\s\x{00A0}\x{200B}-\x{200D}\x{FEFF}\x{2010}-\x{2015}\x{2212}\-]"
_ID_COLUMNS = {
    "raw/registry_companies": ("uscc", "legal_rep_id", "phone"),
    "raw/registry_shareholders": ("uscc", "holder_id"),
    "bank/applications": ("uscc", "id_number", "phone", "device_id"),
    "bank/application_guarantors": ("guarantor_id",),
    "raw/tax_invoices": ("seller_tax_id", "buyer_tax_id"),
}

_DATE = ("coalesce(try_strptime({c}, '%Y-%m-%d'), try_strptime({c}, '%Y/%m/%d'), "
         "try_strptime({c}, '%Y%m%d'), try_strptime({c}, '%Y年%m月%d日'))::date")

_SQL = """
with app as (
  select application_no, applied_at::date as day, amount_fen,
         case when uscc <> '' then 'org:' || uscc else 'person:' || id_number end as party,
         uscc, id_number, phone, address, device_id from applications
  where coalesce(uscc, '') <> '' or coalesce(id_number, '') <> ''),
reg as (select uscc, legal_rep_id, phone, address, received_at,
               {established} as established from registry_companies where uscc <> ''),
ident as (
  select party, 'phone:' || phone as ident, 'shares_phone' as kind, day
    from app where phone <> ''
  union all select party, 'address:' || address, 'shares_address', day
    from app where address <> ''
  union all select party, 'device:' || device_id, 'shares_device', day
    from app where device_id <> ''
  union all select 'org:' || uscc, 'phone:' || phone, 'shares_phone', received_at
    from reg where phone <> ''
  union all select 'org:' || uscc, 'address:' || address, 'shares_address', received_at
    from reg where address <> ''),
shared as (select ident from ident group by ident having count(distinct party) >= 2),
sellers as (select buyer_tax_id as anchor from invoices
            group by 1 having count(distinct seller_tax_id) >= $min_suppliers),
anchors as (select anchor from {anchor_source}),
edges as (
  select 'person:' || legal_rep_id as src, 'org:' || uscc as dst, 'legal_rep' as kind,
         true as directed, established as since, received_at as known_at, null as weight
    from reg where legal_rep_id <> ''
  union all select 'person:' || id_number, party, 'legal_rep', true, null, day, null
    from app where uscc <> '' and id_number <> ''
  union all select 'person:' || s.holder_id, 'org:' || s.uscc, 'shareholder', true, null,
         (select min(r.received_at) from reg r where r.uscc = s.uscc), s.share_pct
    from shareholders s where s.holder_id <> '' and s.uscc <> ''
  union all select 'person:' || g.guarantor_id, a.party, 'guarantor', true, a.day, a.day,
         a.amount_fen / 100.0
    from guarantors g join app a using (application_no) where g.guarantor_id <> ''
  union all select 'person:' || a.id_number, 'person:' || g.guarantor_id, 'spouse', false,
         null, a.day, null
    from guarantors g join app a using (application_no)
    where g.relation = '配偶' and g.guarantor_id <> '' and a.id_number <> ''
  union all select party, ident, kind, false, day, day, null
    from ident where ident in (select ident from shared)
  union all select 'org:' || seller_tax_id, 'org:' || buyer_tax_id, 'supplies', true,
         min(issue_date), max(issue_date), sum(amount)
    from invoices group by seller_tax_id, buyer_tax_id, date_trunc('quarter', issue_date)
  union all select 'org:' || seller_tax_id, 'org:' || buyer_tax_id, 'supplier_of', true,
         min(issue_date), min(issue_date), null
    from invoices where buyer_tax_id in (select anchor from anchors) group by 1, 2
  union all select 'org:' || buyer_tax_id, 'org:' || seller_tax_id, 'dealer_of', true,
         min(issue_date), min(issue_date), null
    from invoices where seller_tax_id in (select anchor from anchors) group by 1, 2)
select src, dst, kind, directed, min(since) as since, min(known_at) as known_at,
       max(weight)::double as weight
from edges where kind not in ('guarantor', 'supplies')
group by src, dst, kind, directed
union all
select src, dst, kind, directed, since, known_at, weight::double
from edges where kind in ('guarantor', 'supplies')
order by kind, src, dst, known_at
"""


def canonical(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Identifiers as one spelling: NFKC (full-width → half-width), no separators, upper case."""
    text = pc.utf8_normalize(values, form="NFKC")
    return pc.utf8_upper(pc.replace_substring_regex(text, _SEPARATORS, ""))


def _read(root: Path, name: str, columns: list[str]) -> pa.Table:
    table = pq.read_table(root / f"{name}.parquet", columns=columns)
    for col in _ID_COLUMNS.get(name, ()):
        if col in columns:
            table = table.set_column(table.column_names.index(col), col,
                                     canonical(table[col]))
    if name in ("raw/registry_companies", "bank/applications"):
        address = pc.replace_substring_regex(
            pc.utf8_normalize(table["address"], form="NFKC"), r"\s+", "")
        table = table.set_column(table.column_names.index("address"), "address", address)
    return table


def edges_from_dataset(folder: Path | str, *, anchors: Iterable[str] | None = None,
                       anchor_min_suppliers: int = 8) -> pa.Table:
    """The relationship edge table of a dataset folder (raw/ and bank/ only, never truth/).

    ``anchors``: USCCs of the bank's supply-chain core enterprises; inferred when None.
    """
    root = Path(folder)
    if anchor_min_suppliers < 1:
        raise ValueError(f"anchor_min_suppliers must be ≥ 1, got {anchor_min_suppliers}")
    tables = {
        "applications": _read(root, "bank/applications", [
            "application_no", "applied_at", "amount_fen", "uscc", "id_number", "phone",
            "address", "device_id"]),
        "guarantors": _read(root, "bank/application_guarantors", [
            "application_no", "guarantor_id", "relation"]),
        "registry_companies": _read(root, "raw/registry_companies", [
            "uscc", "legal_rep_id", "phone", "address", "established", "received_at"]),
        "shareholders": _read(root, "raw/registry_shareholders", [
            "uscc", "holder_id", "share_pct"]),
        "invoices": _read(root, "raw/tax_invoices", [
            "seller_tax_id", "buyer_tax_id", "issue_date", "amount", "status"]).filter(
            pc.equal(pc.field("status"), "正常")),
    }
    if anchors is not None:
        tables["given_anchors"] = pa.table({"anchor": canonical(
            pa.array(list(anchors), pa.string()))})
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        sql = _SQL.format(established=_DATE.format(c="established"),
                          anchor_source="given_anchors" if anchors is not None else "sellers")
        result = con.sql(sql, params={"min_suppliers": anchor_min_suppliers}).to_arrow_table()
    finally:
        con.close()
    if isinstance(result, pa.RecordBatchReader):
        result = result.read_all()
    return conform(result.cast(EDGE_SCHEMA, safe=False) if result.schema != EDGE_SCHEMA
                   else result)
