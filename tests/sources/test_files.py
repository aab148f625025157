"""File connectors: every raw table of a tiny sim, three file kinds, dates, party keys."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from xiaowei.data.sources import (
    CsvConnector,
    JsonLinesConnector,
    ParquetConnector,
    PartyKey,
    PartyKeyError,
    SourceContract,
    SourceUnavailable,
    connector_class,
    connectors_for_dataset,
    connectors_from_config,
    export_table,
    load_source,
)
from xiaowei.data.sources.dates import business_dates
from xiaowei.entities.datafiles import DataFileError
from xiaowei.sim import SimResult

YEAR_2024 = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def test_every_raw_table_loads_whole_in_all_three_kinds(tiny_sim: SimResult,
                                                        exported: Path) -> None:
    by_kind = {kind: connectors_for_dataset(root, kind) for kind, root in
               [("parquet", tiny_sim.out), ("csv", exported), ("jsonl", exported)]}
    for name, connector in by_kind["parquet"].items():
        rows = pq.read_metadata(Path(tiny_sim.out) / "raw" / f"{name}.parquet").num_rows
        base = load_source(connector)
        report = base.report.to_json()
        assert report["rows_in"] == rows == report["accepted"] + report["quarantined"], name
        assert report["quarantine_rate"] <= 0.01, (name, report["reasons"])
        json.dumps(report)
        for kind in ("csv", "jsonl"):
            other = load_source(by_kind[kind][name])
            assert other.rows.accepted.equals(base.rows.accepted), (name, kind)
            assert other.report.quarantined == base.report.quarantined


def test_bulk_takes_only_rows_in_the_date_range(tiny_sim: SimResult,
                                                contracts: dict[str, SourceContract]) -> None:
    for name in ("tax_filings", "tax_invoices", "court_cases", "tax_credit_grades"):
        connector = ParquetConnector(name, contracts[name],
                                     Path(tiny_sim.out) / "raw" / f"{name}.parquet")
        whole = load_source(connector)
        dates = business_dates(contracts[name], whole.rows.accepted)
        assert dates is not None
        expected = pc.sum(pc.and_(pc.greater_equal(dates, pa.scalar(YEAR_2024[0])),
                                  pc.less_equal(dates, pa.scalar(YEAR_2024[1])))).as_py()
        year = load_source(connector, *YEAR_2024)
        assert 0 < year.report.accepted == expected < whole.report.accepted, name
        assert year.report.outside_range == whole.report.rows_in - year.report.rows_in
        halves = [load_source(connector, dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
                  load_source(connector, dt.date(2024, 7, 1), dt.date(2024, 12, 31))]
        assert sum(h.report.accepted for h in halves) == expected, "each row in one range"


def test_a_source_without_business_date_loads_whole(tiny_sim: SimResult,
                                                    contracts: dict[str, SourceContract]) -> None:
    path = Path(tiny_sim.out) / "raw" / "registry_companies.parquet"
    connector = ParquetConnector("registry_companies", contracts["registry_companies"], path)
    assert load_source(connector, *YEAR_2024).report.accepted == pq.read_metadata(path).num_rows
    with pytest.raises(ValueError, match="after end"):
        load_source(connector, YEAR_2024[1], YEAR_2024[0])


def test_online_matches_any_declared_key_column(tiny_sim: SimResult,
                                                contracts: dict[str, SourceContract]) -> None:
    raw = Path(tiny_sim.out) / "raw"
    table = pq.read_table(raw / "tax_invoices.parquet")
    uscc = table.column("seller_tax_id")[0].as_py()
    as_seller = pc.sum(pc.equal(table.column("seller_tax_id"), uscc)).as_py()
    as_buyer = pc.sum(pc.equal(table.column("buyer_tax_id"), uscc)).as_py()
    invoices = ParquetConnector("tax_invoices", contracts["tax_invoices"],
                                raw / "tax_invoices.parquet", batch_rows=4096)
    pulled = invoices.online(PartyKey(uscc=uscc, name="ignored: invoices match by tax id"))
    assert pulled.accepted.num_rows == as_seller + as_buyer > 0
    nobody = invoices.online(PartyKey(uscc="91330000000000000X"))
    assert nobody.accepted.num_rows == 0
    with pytest.raises(PartyKeyError, match="tax_invoices"):
        invoices.online(PartyKey(name="甲公司"))
    readings = pq.read_table(raw / "utility_readings.parquet")
    meter = readings.column("meter_no")[0].as_py()
    meters = ParquetConnector("utility_readings", contracts["utility_readings"],
                              raw / "utility_readings.parquet")
    got = meters.online(PartyKey(refs={"meter_no": meter}))
    assert got.accepted.num_rows == pc.sum(pc.equal(readings.column("meter_no"), meter)).as_py()


def _broken_files(tmp_path: Path, contract: SourceContract) -> dict[str, Path]:
    """The same five invoices in three kinds; rows 2 and 4 broken, row 5 repeats row 1."""
    rows = [["INV1", "S", "卖方", "B", "买方", "2024-03-05", "100.5", "13", "正常"],
            ["INV2", "S", "卖方", "B", "买方", "2024-03-05", "一百", "13", "正常"],
            ["INV3", "S", "卖方", "B", "买方", "2024-03-06", "7", "1", "红冲"],
            ["INV4", "S", "", "B", "买方", "2024-03-07", "-7", "1", "正常"],
            ["INV1", "S", "卖方", "B", "买方", "2024-03-05", "100.5", "13", "正常"]]
    table = pa.table({n: pa.array([r[i] for r in rows]) for i, n in enumerate(contract.names)})
    pq.write_table(table, tmp_path / "inv.parquet")
    return {"parquet": tmp_path / "inv.parquet",
            "csv": export_table(tmp_path / "inv.parquet", "csv", tmp_path / "inv.csv"),
            "jsonl": export_table(tmp_path / "inv.parquet", "jsonl", tmp_path / "inv.jsonl")}


def test_broken_rows_quarantine_alike_in_every_kind(tmp_path: Path,
                                                    contracts: dict[str, SourceContract]) -> None:
    contract = contracts["tax_invoices"]
    results = {}
    for kind, path in _broken_files(tmp_path, contract).items():
        load = load_source(connector_class(kind)("tax_invoices", contract, path))
        results[kind] = load
        assert load.rows.accepted.column("invoice_no").to_pylist() == ["INV1", "INV3"]
        got = [(r["row_number"], r["column"], r["reason"])
               for r in load.rows.quarantined.to_pylist()]
        assert got == [(2, "amount", "not a number"),
                       (4, "seller_name", "required value is empty"),
                       (5, "invoice_no", "duplicate of an earlier row's unique key")], kind
        assert load.report.reasons["amount: not a number"] == 1
    assert results["csv"].rows.accepted.equals(results["parquet"].rows.accepted)


def test_unreadable_lines_are_quarantined_not_lost(tmp_path: Path,
                                                   contracts: dict[str, SourceContract]) -> None:
    contract = contracts["tax_invoices"]
    paths = _broken_files(tmp_path, contract)
    lines = paths["csv"].read_text(encoding="utf-8").splitlines()
    lines.insert(3, '"INV9","only three",fields')
    paths["csv"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    load = load_source(CsvConnector("tax_invoices", contract, paths["csv"]))
    assert load.report.rows_in == 6
    first = load.rows.quarantined.to_pylist()[1]
    assert (first["row_number"], first["reason"]) == (3, "malformed CSV row: 3 fields, "
                                                         "expected 9")
    assert first["raw_line"] == '"INV9","only three",fields'
    assert load.rows.quarantined.column("row_number").to_pylist() == [2, 3, 5, 6]
    jsonl = paths["jsonl"].read_text(encoding="utf-8").splitlines()
    jsonl[2:2] = ['{"invoice_no": "INV9", "amount": ', "[1, 2]"]
    paths["jsonl"].write_text("\n".join(jsonl) + "\n", encoding="utf-8")
    load = load_source(JsonLinesConnector("tax_invoices", contract, paths["jsonl"]))
    reasons = {r["row_number"]: r["reason"] for r in load.rows.quarantined.to_pylist()}
    assert reasons[3].startswith("not valid JSON") and reasons[4] == "not a JSON object"
    assert load.report.rows_in == 7 == load.report.accepted + load.report.quarantined


def test_a_missing_or_unreadable_file_names_the_source(tmp_path: Path,
                                                       contracts: dict[str, SourceContract]
                                                       ) -> None:
    contract = contracts["web_news"]
    with pytest.raises(SourceUnavailable, match="'web_news' unavailable \\(unreadable\\)"):
        load_source(ParquetConnector("web_news", contract, tmp_path / "none.parquet"))
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(SourceUnavailable, match="web_news"):
        load_source(ParquetConnector("web_news", contract, tmp_path / "bad.parquet"))
    (tmp_path / "twice.csv").write_text("record_id,title,title\n1,a,b\n", encoding="utf-8")
    with pytest.raises(SourceUnavailable, match="names a column twice"):
        load_source(CsvConnector("web_news", contract, tmp_path / "twice.csv"))


def test_config_builds_connectors_and_reports_errors_by_line(tiny_sim: SimResult,
                                                            tmp_path: Path) -> None:
    raw = Path(tiny_sim.out) / "raw"
    config = tmp_path / "sources.yaml"
    config.write_text(f"""\
sources:
  web_news: {{type: parquet, path: {raw / 'web_news.parquet'}}}
  court_cases:
    type: http
    url: http://127.0.0.1:9/court_cases
    timeout_s: 0.5
""", encoding="utf-8")
    connectors = connectors_from_config(config)
    assert load_source(connectors["web_news"]).report.accepted > 0
    assert connectors["court_cases"].config.timeout_s == 0.5  # type: ignore[attr-defined]
    config.write_text("""\
sources:
  web_news: {type: parquet, path: x.parquet}
  court_cases:
    type: http
    url: http://user:secret@127.0.0.1:9/court_cases
    timeuot_s: 0.5
  tax_filings: {type: ftp, path: y}
""", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        connectors_from_config(config)
    message = str(caught.value)
    assert "sources.yaml:5: sources.court_cases.url: Value error, url must not carry" in message
    assert "sources.yaml:6: sources.court_cases.timeuot_s: Extra inputs" in message
    assert "sources.yaml:7: sources.tax_filings: unknown connector type 'ftp'" in message
