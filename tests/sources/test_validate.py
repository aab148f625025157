"""Rows checked against a contract: each broken row quarantined with its column and reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from xiaowei.data.sources import SourceContract, parse_contract, validate

INVOICE = {"invoice_no": "INV1", "seller_tax_id": "91330000MA0000000X", "seller_name": "甲公司",
           "buyer_tax_id": "91330000MA0000001X", "buyer_name": "乙公司",
           "issue_date": "2024-03-05", "amount": "1000.50", "tax_amount": "130.07",
           "status": "正常"}


def _invoices(*changes: dict[str, str | None]) -> pa.Table:
    """Text rows (as a CSV gives them), one per change applied to a good invoice."""
    rows = []
    for i, change in enumerate(changes):
        rows.append({**INVOICE, "invoice_no": f"INV{i}", **change})
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [pa.field(n, pa.string()) for n in INVOICE]))


@pytest.mark.parametrize(("change", "column", "reason"), [
    ({"amount": "一千元"}, "amount", "not a number"),
    ({"amount": "12万"}, "amount", "not a number"),
    ({"seller_name": ""}, "seller_name", "required value is empty"),
    ({"seller_name": "   "}, "seller_name", "required value is empty"),
    ({"buyer_tax_id": None}, "buyer_tax_id", "required value is empty"),
    ({"issue_date": "2024-02-30"}, "issue_date", "not a date (YYYY-MM-DD)"),
    ({"issue_date": None}, "issue_date", "required value is empty"),
    ({"status": "伪造"}, "status", "not one of the allowed values"),
    ({"tax_amount": "nan"}, "tax_amount", "not a finite number"),
])
def test_a_broken_invoice_is_quarantined_with_column_and_reason(
        contracts: dict[str, SourceContract], change: dict[str, str | None], column: str,
        reason: str) -> None:
    accepted, quarantined = validate(contracts["tax_invoices"], _invoices({}, change, {}))
    assert accepted.num_rows == 2
    assert accepted.column("amount").to_pylist() == [1000.5, 1000.5]
    (row,) = quarantined.to_pylist()
    assert (row["row_number"], row["column"], row["reason"]) == (2, column, reason)
    assert row["invoice_no"] == "INV1"
    for name, value in change.items():
        assert row[name] == value, "the raw value is kept as text"


def test_negative_amounts_and_impossible_ranges(contracts: dict[str, SourceContract]) -> None:
    flows = pa.table({"account_no": ["A", "A", "B", "C"], "period": ["2024-01", "2024-13",
                                                                      "2024-01", "2024-01"],
                      "inflow": [10.0, 1.0, -5.0, 3.0], "outflow": [1.0, 1.0, 1.0, 1.0],
                      "txn_count": [1, 1, 1, -2], "end_balance": [-3.0, 0.0, 0.0, 0.0]})
    accepted, quarantined = validate(contracts["core_flows"], flows)
    assert accepted.column("account_no").to_pylist() == ["A"]  # a negative balance is allowed
    got = {(r["row_number"], r["column"], r["reason"]) for r in quarantined.to_pylist()}
    assert got == {(2, "period", "not a month (YYYY-MM)"), (3, "inflow", "below the minimum 0"),
                   (4, "txn_count", "below the minimum 0")}


def test_one_record_per_row_even_with_several_faults(
        contracts: dict[str, SourceContract]) -> None:
    table = _invoices({"amount": "x", "status": "?", "seller_name": ""})
    accepted, quarantined = validate(contracts["tax_invoices"], table)
    assert (accepted.num_rows, quarantined.num_rows) == (0, 1)
    assert quarantined.column("column").to_pylist() == ["seller_name"]  # contract order


def test_duplicate_unique_key_and_missing_column(contracts: dict[str, SourceContract]) -> None:
    table = _invoices({}, {}).set_column(0, "invoice_no", pa.array(["SAME", "SAME"]))
    accepted, quarantined = validate(contracts["tax_invoices"], table)
    assert accepted.num_rows == 1
    assert quarantined.column("reason").to_pylist() == ["duplicate of an earlier row's unique key"]
    missing = table.drop_columns(["status"])
    accepted, quarantined = validate(contracts["tax_invoices"], missing)
    assert accepted.num_rows == 0
    assert set(quarantined.column("reason").to_pylist()) == {"column is missing from the source"}


def test_dirt_is_not_a_contract_failure(contracts: dict[str, SourceContract]) -> None:
    """Full-width identifiers, 万元 units and free-text dates are for standardisation."""
    filings = pa.table({"taxpayer_id": ["９１３３０４２４８８２００２９１２Ｙ"],
                        "period": ["2024-03"], "sales": [39.52], "unit": ["万元"],
                        "vat_payable": [1.0], "filed_at": [dt.date(2024, 4, 9)]})
    accepted, quarantined = validate(contracts["tax_filings"], filings)
    assert (accepted.num_rows, quarantined.num_rows) == (1, 0)
    cases = pa.table({"record_id": ["C1", "C2", "C3"], "case_no": ["x"] * 3, "court": ["y"] * 3,
                      "filed_date": ["2024年3月5日", "2024/3/5", "三月五日"],
                      "party_name": ["甲"] * 3, "role": ["被告"] * 3, "case_type": ["z"] * 3,
                      "received_at": [dt.date(2024, 3, 9)] * 3})
    accepted, quarantined = validate(contracts["court_cases"], cases)
    assert accepted.column("record_id").to_pylist() == ["C1", "C2"]
    assert quarantined.column("reason").to_pylist() == [
        "business date is empty or not a date in a known format"]


def test_typed_and_text_input_give_the_same_rows(contracts: dict[str, SourceContract]) -> None:
    text = _invoices({}, {"amount": "-3.25"})
    typed = text.set_column(6, "amount", pa.array([1000.5, -3.25])).set_column(
        5, "issue_date", pa.array([dt.date(2024, 3, 5)] * 2))
    assert validate(contracts["tax_invoices"], text)[0].equals(
        validate(contracts["tax_invoices"], typed)[0])


def test_decimal_timestamp_bool_and_year_columns() -> None:
    contract = parse_contract("""\
source: ledger
version: 1
columns:
  - {name: posted, type: timestamp, required: true, min: 2020-01-01}
  - {name: amount, type: decimal, scale: 2, required: true, min: 0}
  - {name: reversed, type: bool}
  - {name: year, type: int, min: 2000, max: 2100}
known_at: {column: posted}
party_keys: {uscc: [year]}
""", "ledger.yaml")
    table = pa.table({"posted": ["2024-01-02 10:00:00", "2019-05-01 00:00:00", "2024-01-02",
                                 "2024-01-02 09:00:00", "2024-01-02 09:00:00"],
                      "amount": ["12.34", "1", "12.345", "5", "-1"],
                      "reversed": ["true", "false", "0", "maybe", "1"],
                      "year": ["2024", "2024", "2024", "2024", "1999"]})
    accepted, quarantined = validate(contract, table)
    assert accepted.column("amount").to_pylist() == [Decimal("12.34")]
    assert accepted.column("posted").to_pylist() == [dt.datetime(2024, 1, 2, 10)]
    got = [(r["row_number"], r["column"], r["reason"]) for r in quarantined.to_pylist()]
    assert got == [(2, "posted", "below the minimum 2020-01-01"),
                   (3, "amount", "not a decimal with scale 2"),
                   (4, "reversed", "not true/false"), (5, "amount", "below the minimum 0")]
