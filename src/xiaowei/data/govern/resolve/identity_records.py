"""One table of identity records — one row per source record that names a party.

Why one table: resolution compares every record with every other whatever its source, so the
sources' own columns (``holder_id``, ``subject_id``, ``party_id`` …) are mapped once, here,
onto one contract:

``record_id, source, party_kind ('firm'|'person'|'unknown'), name, name_key, name_core,
uscc, uscc_valid, id_number, id_valid, phone, address, region_code``

Rules that decide what an identifier *means* live here too:

- an identifier is put in ``uscc`` or ``id_number`` by what it is (valid USCC / valid resident
  ID, else by shape), and ``*_valid`` says whether its check character holds — only valid ones
  may be exact keys;
- a firm's registry and application records carry the legal representative's ID: it
  identifies a *person*, not the firm, so it is not the record's ``id_number``;
- the subject's kind comes from the source when the source knows it (registry, news,
  application party type), else from the identifier, else from the shape of the name.

Only ``bank/`` and ``raw/`` are read — never ``truth/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from xiaowei.data.govern.resolve.normalise import (
    looks_like_person_name,
    name_core,
    name_key,
    normalise_address,
    normalise_phone,
    read_identifier,
)

__all__ = ["IDENTITY_SCHEMA", "SOURCE_QUERIES", "build_identity_records", "identity_records"]

IDENTITY_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("source", pa.string()),
        ("party_kind", pa.string()),
        ("name", pa.string()),
        ("name_key", pa.string()),
        ("name_core", pa.string()),
        ("uscc", pa.string()),
        ("uscc_valid", pa.bool_()),
        ("id_number", pa.string()),
        ("id_valid", pa.bool_()),
        ("phone", pa.string()),
        ("address", pa.string()),
        ("region_code", pa.string()),
    ]
)

# Per source: SELECT producing record_id, kind_hint, name, identifier, phone, address,
# region_code. ``{t}`` is the table's Parquet path. kind_hint NULL = decide from the data.
SOURCE_QUERIES: dict[str, tuple[str, str]] = {
    "registry_companies": (
        "raw",
        "SELECT record_id, 'firm' AS kind_hint, name, uscc AS identifier, phone, address,"
        " region_code FROM '{t}'",
    ),
    "core_customers": (
        "raw",
        "SELECT record_id, CASE id_type WHEN '居民身份证' THEN 'person' ELSE 'firm' END,"
        " name, id_no, phone, address, NULL FROM '{t}'",
    ),
    "utility_accounts": (
        "raw",
        "SELECT record_id, NULL, holder_name, holder_id, NULL, address, NULL FROM '{t}'",
    ),
    "court_cases": (
        "raw",
        "SELECT record_id, NULL, party_name, party_id, NULL, NULL, case_no FROM '{t}'",
    ),
    "court_enforcement": (
        "raw",
        "SELECT record_id, NULL, party_name, party_id, NULL, NULL, NULL FROM '{t}'",
    ),
    "court_dishonest": (
        "raw",
        "SELECT record_id, NULL, party_name, party_id, NULL, NULL, NULL FROM '{t}'",
    ),
    "bureau_reports": (
        "raw",
        "SELECT report_id, NULL, subject_name, subject_id, NULL, NULL, NULL FROM '{t}'",
    ),
    "web_news": (
        "raw",
        "SELECT record_id, 'firm', subject_name, NULL, NULL, NULL, NULL FROM '{t}'",
    ),
    "field_visits": (
        "raw",
        "SELECT record_id, NULL, subject_name, NULL, NULL, NULL, NULL FROM '{t}'",
    ),
    # A firm's application carries its legal representative's ID: the person's, not the firm's.
    "applications": (
        "bank",
        "SELECT application_no, CASE party_type WHEN 'business_owner' THEN 'person'"
        " ELSE 'firm' END, applicant_name,"
        " CASE party_type WHEN 'business_owner' THEN id_number ELSE uscc END,"
        " phone, address, region_code FROM '{t}'",
    ),
}

# Court case numbers carry the court's division: (2024)浙0381民初15493号 → 330381.
_CASE_COURT = re.compile(r"[)）]\s*([\u4e00-\u9fff])(\d{4})")
_PROVINCE_ABBREVIATIONS = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22",
    "黑": "23", "沪": "31", "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36",
    "鲁": "37", "豫": "41", "鄂": "42", "湘": "43", "粤": "44", "桂": "45", "琼": "46",
    "渝": "50", "川": "51", "贵": "52", "黔": "52", "云": "53", "滇": "53", "藏": "54",
    "陕": "61", "甘": "62", "青": "63", "宁": "64", "新": "65",
}  # fmt: skip


def _region_code(source: str, value: str | None) -> str | None:
    """Six-digit division code; for court cases it is read from the case number."""
    if value is None:
        return None
    if source != "court_cases":
        return value.strip() or None
    match = _CASE_COURT.search(value)
    if match is None or match.group(1) not in _PROVINCE_ABBREVIATIONS:
        return None
    return _PROVINCE_ABBREVIATIONS[match.group(1)] + match.group(2)


def _kind(hint: str | None, identifier_kind: str | None, key: str | None) -> str:
    if hint is not None:
        return hint
    if identifier_kind == "uscc":
        return "firm"
    if identifier_kind == "resident_id":
        return "person"
    if key is None:
        return "unknown"
    return "person" if looks_like_person_name(key) else "firm"


def identity_records(source: str, rows: pa.Table) -> pa.Table:
    """Map one source's selected rows onto the identity-record contract.

    ``rows`` has the seven columns of a ``SOURCE_QUERIES`` select, in that order.
    """
    cols = [rows.column(i).to_pylist() for i in range(7)]
    out: dict[str, list[object]] = {field.name: [] for field in IDENTITY_SCHEMA}
    for record_id, hint, name, identifier, phone, address, region in zip(*cols, strict=True):
        key = name_key(name)
        reading = read_identifier(identifier)
        kind = _kind(hint, reading.kind, key)
        # An identifier of the other kind (a person's ID on a firm's record) names someone else.
        uscc = reading if reading.kind == "uscc" and kind != "person" else None
        ric = reading if reading.kind == "resident_id" and kind != "firm" else None
        out["record_id"].append(record_id)
        out["source"].append(source)
        out["party_kind"].append(kind)
        out["name"].append(name)
        out["name_key"].append(key)
        out["name_core"].append(name_core(key) if kind == "firm" else key)
        out["uscc"].append(uscc.text if uscc else None)
        out["uscc_valid"].append(bool(uscc and uscc.valid))
        out["id_number"].append(ric.text if ric else None)
        out["id_valid"].append(bool(ric and ric.valid))
        out["phone"].append(normalise_phone(phone))
        out["address"].append(normalise_address(address))
        out["region_code"].append(_region_code(source, region))
    return pa.table(out, schema=IDENTITY_SCHEMA)


def build_identity_records(
    dataset: Path | str,
    sources: tuple[str, ...] | None = None,
    where: Callable[[str], str] | None = None,
) -> pa.Table:
    """Identity records of every (or the named) source of a dataset folder (``bank/``, ``raw/``).

    ``where`` may return an extra SQL condition per source (e.g. to load only records received
    before a date, which is how the incremental tests add records later). Rows come out in
    source order, then record order, so the same folder gives the same table.
    """
    root = Path(dataset)
    con = duckdb.connect()
    tables = []
    for source in sources or tuple(SOURCE_QUERIES):
        zone, query = SOURCE_QUERIES[source]
        path = root / zone / f"{source}.parquet"
        if not path.exists():
            continue
        sql = query.format(t=path.as_posix())
        if where is not None and (condition := where(source)):
            sql = f"SELECT * FROM ({sql}) WHERE {condition}"
        rows = con.sql(f"{sql} ORDER BY 1").to_arrow_table()
        tables.append(identity_records(source, rows))
    con.close()
    if not tables:
        return IDENTITY_SCHEMA.empty_table()
    return pa.concat_tables(tables)
