"""The simulator's dirty sources standardise as its documented dirt says they should."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from xiaowei.data.govern.standardise import standardise_record, standardise_table
from xiaowei.entities.identifiers import is_valid_uscc
from xiaowei.sim import generate

REGISTRY_SPEC = {
    "uscc": "uscc", "name": "company_name", "legal_rep_name": "person_name",
    "legal_rep_id": "resident_id", "registered_capital": "amount_text",
    "established": "date_text", "address": "address", "phone": "phone",
}  # fmt: skip


@pytest.fixture(scope="session")
def sim_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("std-sim")
    generate("tiny", 7, out)
    return out / "raw"


@pytest.fixture(scope="module")
def registry(sim_raw: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE registry AS SELECT * FROM read_parquet(?)",
                [str(sim_raw / "registry_companies.parquet")])
    standardise_table(con, "registry", "registry_std", REGISTRY_SPEC)
    return con


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_every_registry_uscc_is_valid_or_refused_for_its_checksum(
        registry: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(registry, "SELECT uscc, std_issues FROM registry_std")
    refused = [r for r in rows if r["uscc"] is None]
    assert all(is_valid_uscc(r["uscc"]) for r in rows if r["uscc"] is not None)
    assert refused, "the sim corrupts ~1% of check characters"
    assert {issue for r in refused for issue in r["std_issues"]} == {
        "uscc: checksum does not match"}


def test_full_width_and_spaced_usccs_are_recovered(registry: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(registry, "SELECT r.uscc AS raw, s.uscc AS std FROM registry r JOIN "
                 "registry_std s USING (record_id) WHERE NOT regexp_full_match(r.uscc, "
                 "'[0-9A-Z]{18}')")
    assert len(rows) >= 5
    recovered = [r for r in rows if r["std"] is not None]
    assert len(recovered) >= len(rows) * 0.9
    assert all(len(r["std"]) == 18 and r["std"].isascii() for r in recovered)


def test_all_registry_dates_amounts_and_addresses_standardise(
        registry: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(registry, "SELECT r.established AS raw_date, s.established, "
                 "r.registered_capital AS raw_capital, s.registered_capital, s.address, "
                 "s.address_county_code, s.region_code, s.std_issues FROM registry r "
                 "JOIN registry_std s USING (record_id)")
    assert all(r["established"] is not None for r in rows)
    assert any(not r["raw_date"][:4].isdigit() or "-" not in r["raw_date"] for r in rows)
    assert all(r["registered_capital"] is not None and r["registered_capital"] > 0
               for r in rows)
    wan = [r for r in rows if r["raw_capital"].endswith(("万元", "万人民币"))]
    assert wan and all(r["registered_capital"] == Decimal(r["raw_capital"].split("万")[0])
                       * 10_000 for r in wan)
    located = [r for r in rows if r["address"] is not None]
    assert located and all(r["address_county_code"] == r["region_code"] for r in located)
    assert not any(i.startswith(("established", "registered_capital", "address", "name"))
                   for r in rows for i in r["std_issues"])


def test_duplicate_name_variants_share_the_matching_form(
        registry: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(registry, "SELECT r.name AS raw, s.name, s.name_key, s.uscc FROM registry r "
                 "JOIN registry_std s USING (record_id)")
    by_uscc: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for r in rows:
        if r["uscc"] is not None:
            by_uscc.setdefault(r["uscc"], set()).add(r["name"])
            keys.setdefault(r["uscc"], set()).add(r["name_key"])
    duplicated = [u for u, names in by_uscc.items() if len({r["raw"] for r in rows
                                                           if r["uscc"] == u}) > 1]
    assert duplicated, "the sim writes 3% duplicates in a format variant"
    # Bracket variants (宁波（康隆）…) differ in the matching form but never in the key.
    assert all(len(keys[u]) == 1 for u in duplicated)


def test_tax_filings_in_wan_become_yuan(sim_raw: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE tax AS SELECT * FROM read_parquet(?)",
                [str(sim_raw / "tax_filings.parquet")])
    issues = standardise_table(con, "tax", "tax_std", {"sales": "amount_in_unit:unit"})
    assert issues == 0
    rows = _rows(con, "SELECT t.sales AS raw, t.unit, s.sales FROM tax t POSITIONAL JOIN "
                 "tax_std s")
    assert any(r["raw"] is None for r in rows)  # missing stays missing, no issue
    assert all(r["sales"] is None for r in rows if r["raw"] is None)
    rows = [r for r in rows if r["raw"] is not None]
    wan = [r for r in rows if r["unit"] == "万元"]
    assert wan
    for r in wan:
        assert r["sales"] == (Decimal(repr(r["raw"])) * 10_000).quantize(Decimal("0.01"))
    assert all(r["sales"] == Decimal(repr(r["raw"])).quantize(Decimal("0.01"))
               for r in rows if r["unit"] == "元")


def test_batch_table_equals_the_record_runtime(registry: duckdb.DuckDBPyConnection) -> None:
    raw = _rows(registry, "SELECT * FROM registry ORDER BY record_id")
    std = _rows(registry, "SELECT * FROM registry_std ORDER BY record_id")
    assert [standardise_record(r, REGISTRY_SPEC) for r in raw] == std
