"""`load_dataset`: everything in, dirt quarantined, structure errors named, nothing half-done.

Runs on SQLite and on a real PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from xiaowei.data.dataset import DatasetError
from xiaowei.data.load import load_dataset
from xiaowei.sim import SimResult
from xiaowei.store import tables as t
from xiaowei.store.analytic import AnalyticStore


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as con:
        return int(con.execute(select(func.count()).select_from(table)).scalar_one())


def test_every_row_accepted_or_quarantined(tiny_dataset: SimResult, engine: Engine,
                                          analytic: AnalyticStore) -> None:
    report = load_dataset(tiny_dataset.out, engine, analytic)
    for name in ("applications", "decisions", "loans", "repayments"):
        c = report.transactional[name]
        assert c.rows_in == tiny_dataset.tables[f"bank.{name}"]
        assert c.rows_in == c.accepted + c.quarantined, name
    assert _count(engine, t.Application) == report.transactional["applications"].accepted
    assert _count(engine, t.Repayment) == report.transactional["repayments"].accepted
    assert _count(engine, t.QuarantinedRow) == report.rows_quarantined > 0


def test_quarantine_keeps_reason_and_masks_personal_data(tiny_dataset: SimResult,
                                                         engine: Engine,
                                                         analytic: AnalyticStore) -> None:
    load_dataset(tiny_dataset.out, engine, analytic)
    with engine.connect() as con:
        rows = con.execute(select(t.QuarantinedRow).where(
            t.QuarantinedRow.table_name == "applications")).all()
    assert rows
    apps = pq.read_table(tiny_dataset.out / "bank" / "applications.parquet").to_pylist()
    for row in rows:
        assert row.reason and row.column_name in {"uscc", "id_number", "phone"}
        original = apps[row.row_number - 1]
        assert row.raw["application_no"] == original["application_no"]
        text = json.dumps(row.raw, ensure_ascii=False)
        assert original["id_number"] not in text
        assert original["applicant_name"] not in text or len(original["applicant_name"]) < 2


def test_money_arrives_as_exact_decimal(tiny_dataset: SimResult, engine: Engine,
                                        analytic: AnalyticStore) -> None:
    load_dataset(tiny_dataset.out, engine, analytic)
    first = pq.read_table(tiny_dataset.out / "bank" / "loans.parquet").slice(0, 1).to_pylist()[0]
    with engine.connect() as con:
        loan = con.execute(select(t.Loan).where(t.Loan.loan_id == first["loan_no"])).one()
    fen = first["principal_fen"]
    assert str(loan.principal) == f"{fen // 100}.{fen % 100:02d}"


def test_sources_land_in_the_analytic_store_but_not_truth(tiny_dataset: SimResult,
                                                          engine: Engine,
                                                          analytic: AnalyticStore) -> None:
    report = load_dataset(tiny_dataset.out, engine, analytic)
    names = set(analytic.tables("raw"))
    assert {"tax_filings", "registry_companies", "bank_applications"} <= names
    assert not any("truth" in n or n in {"parties", "record_links"} for n in names)
    assert report.analytic_tables["tax_filings"] == tiny_dataset.tables["raw.tax_filings"]


def test_loading_twice_changes_nothing(tiny_dataset: SimResult, engine: Engine,
                                       analytic: AnalyticStore) -> None:
    first = load_dataset(tiny_dataset.out, engine, analytic)
    before = {tbl: _count(engine, tbl) for tbl in (t.Party, t.Application, t.Repayment)}
    second = load_dataset(tiny_dataset.out, engine, analytic)
    assert second.already_loaded and second.batch_id == first.batch_id
    assert {tbl: _count(engine, tbl) for tbl in before} == before


def test_missing_manifest_names_the_file(dataset_copy: Path, engine: Engine,
                                         analytic: AnalyticStore) -> None:
    (dataset_copy / "manifest.json").unlink()
    with pytest.raises(DatasetError, match=r"manifest\.json: is missing"):
        load_dataset(dataset_copy, engine, analytic)


def test_missing_column_names_file_and_column(dataset_copy: Path, engine: Engine,
                                              analytic: AnalyticStore) -> None:
    path = dataset_copy / "bank" / "loans.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["principal_fen"]), path)
    with pytest.raises(DatasetError) as info:
        load_dataset(dataset_copy, engine, analytic)
    assert info.value.file.endswith("loans.parquet")
    assert info.value.column == "principal_fen"
    assert _count(engine, t.LoadBatch) == 0
    assert analytic.tables("raw") == []


def test_wrong_type_names_file_and_column(dataset_copy: Path, engine: Engine,
                                          analytic: AnalyticStore) -> None:
    path = dataset_copy / "bank" / "applications.parquet"
    table = pq.read_table(path)
    i = table.schema.get_field_index("amount_fen")
    table = table.set_column(i, "amount_fen", pa.array(
        [str(v) for v in table.column("amount_fen").to_pylist()]))
    pq.write_table(table, path)
    with pytest.raises(DatasetError, match=r"applications\.parquet, column 'amount_fen'"):
        load_dataset(dataset_copy, engine, analytic)


def test_duplicate_key_names_file_row_and_column(dataset_copy: Path, engine: Engine,
                                                 analytic: AnalyticStore) -> None:
    path = dataset_copy / "bank" / "managers.parquet"
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(1, 1)]), path)
    with pytest.raises(DatasetError) as info:
        load_dataset(dataset_copy, engine, analytic)
    assert info.value.row == table.num_rows + 1
    assert info.value.column == "manager_id"
    assert "duplicate key" in str(info.value)


def test_empty_required_value_names_the_row(dataset_copy: Path, engine: Engine,
                                            analytic: AnalyticStore) -> None:
    path = dataset_copy / "bank" / "decisions.parquet"
    table = pq.read_table(path)
    col = table.column("decision").to_pylist()
    col[4] = None
    table = table.set_column(table.schema.get_field_index("decision"), "decision",
                             pa.array(col, pa.string()))
    pq.write_table(table, path)
    with pytest.raises(DatasetError, match=r"decisions\.parquet, row 5, column 'decision'"):
        load_dataset(dataset_copy, engine, analytic)


def test_not_parquet_is_refused(dataset_copy: Path, engine: Engine,
                                analytic: AnalyticStore) -> None:
    (dataset_copy / "raw" / "tax_filings.parquet").write_text("period,sales\n2024-01,1\n")
    with pytest.raises(DatasetError, match=r"tax_filings\.parquet: is not a readable Parquet"):
        load_dataset(dataset_copy, engine, analytic)


def test_failure_mid_load_leaves_nothing(dataset_copy: Path, engine: Engine,
                                         analytic: AnalyticStore) -> None:
    """A manager in a branch that does not exist breaks a foreign key half-way: roll back."""
    path = dataset_copy / "bank" / "managers.parquet"
    table = pq.read_table(path)
    branch = table.column("branch_id").to_pylist()
    branch[-1] = "B9999"
    pq.write_table(table.set_column(table.schema.get_field_index("branch_id"), "branch_id",
                                    pa.array(branch)), path)
    with pytest.raises(IntegrityError):
        load_dataset(dataset_copy, engine, analytic)
    for tbl in (t.LoadBatch, t.Branch, t.CustomerManager, t.Party, t.Application):
        assert _count(engine, tbl) == 0, tbl.__tablename__


def test_malformed_source_rows_are_quarantined_with_reasons(dataset_copy: Path, engine: Engine,
                                                            analytic: AnalyticStore) -> None:
    """A raw row that breaks its source contract is kept aside, never silently dropped."""
    path = dataset_copy / "raw" / "tax_filings.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[3]["unit"] = "美元"  # not a unit the tax bureau reports in
    rows[7]["sales"] = -5.0  # negative sales
    rows[9]["period"] = "2024-13"  # no such month
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    report = load_dataset(dataset_copy, engine, analytic)
    tax = report.sources["tax_filings"]
    assert tax["rows_in"] == table.num_rows == tax["accepted"] + tax["quarantined"]
    assert tax["quarantined"] == 3
    assert report.analytic_tables["tax_filings"] == table.num_rows - 3
    kept = analytic.connection.execute(
        "SELECT row_number, \"column\", reason FROM raw_quarantine.tax_filings "
        "ORDER BY row_number").fetchall()
    assert [(r[0], r[1]) for r in kept] == [(4, "unit"), (8, "sales"), (10, "period")]
    assert all(r[2] for r in kept)
