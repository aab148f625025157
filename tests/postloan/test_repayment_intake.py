"""Repayments booked against the store's loans: once by payment id, with an allocation that
accounts for every yuan; bad rows quarantined with the field at fault; a resent file books
nothing twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.postloan.repayment_intake import take_payments
from xiaowei.store.database import transaction
from xiaowei.store.tables import Loan, LoanPayment, QuarantinedRow


@pytest.fixture
def loan(pipeline_store: Engine) -> Loan:
    with transaction(pipeline_store) as session:
        chosen = session.scalars(select(Loan).where(Loan.repayment_method == "equal_instalment")
                                 .order_by(Loan.loan_id)).first()
        assert chosen is not None
        session.expunge(chosen)
        return chosen


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(table)) or 0


def _day(loan: Loan, days: int) -> str:
    return (loan.start_date + dt.timedelta(days=days)).isoformat()


def test_payments_are_booked_once_with_every_yuan_allocated(pipeline_store: Engine,
                                                            loan: Loan) -> None:
    as_of = loan.start_date + dt.timedelta(days=120)
    batch = [{"payment_id": "T-P1", "loan_id": loan.loan_id, "paid_on": _day(loan, 31),
              "amount": "5000.00"},
             {"payment_id": "T-P2", "loan_id": loan.loan_id, "paid_on": _day(loan, 62),
              "amount": "7000.50"}]
    first = take_payments(pipeline_store, batch, by="teller.wu", as_of=as_of)
    assert [b.payment_id for b in first.booked] == ["T-P1", "T-P2"] and not first.quarantined
    for b in first.booked:
        parts = sum(Decimal(v) for k, v in b.allocation.items() if k != "principal_prepaid")
        assert parts == b.amount  # penalty + interest + principal + suspense = received
    again = take_payments(pipeline_store, batch, by="teller.wu", as_of=as_of)  # resent
    assert again.booked == () and set(again.duplicates) == {"T-P1", "T-P2"}
    assert _count(pipeline_store, LoanPayment) == 2
    with transaction(pipeline_store) as session:
        stored = session.get_one(LoanPayment, "T-P2")
        assert stored.amount == Decimal("7000.50") and stored.received_by == "teller.wu"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"loan_id": "LN-NO-SUCH"}, "loan_id", "is not a loan"),
    ({"amount": "-5.00"}, "amount", "> 0"),
    ({"amount": 12.5}, "amount", "float"),
    ({"paid_on": "1999-01-01"}, "paid_on", "before"),
    ({"paid_on": "2999-01-01"}, "paid_on", ""),
])
def test_a_bad_payment_is_quarantined_and_the_rest_booked(
        pipeline_store: Engine, loan: Loan, change: dict, field: str, words: str) -> None:
    as_of = loan.start_date + dt.timedelta(days=90)
    good = {"payment_id": "T-G1", "loan_id": loan.loan_id, "paid_on": _day(loan, 31),
            "amount": "1000.00"}
    bad = {**good, "payment_id": "T-B1", **change}
    result = take_payments(pipeline_store, [good, bad], by="teller.wu", as_of=as_of)
    assert [b.payment_id for b in result.booked] == ["T-G1"]
    assert len(result.quarantined) == 1
    refused = result.quarantined[0]
    assert refused["field"] == field and words in refused["reason"]
    with transaction(pipeline_store) as session:
        row = session.scalars(select(QuarantinedRow).where(
            QuarantinedRow.table_name == "loan_payment")).one()
        assert row.column_name == field and row.raw["payment_id"] == "T-B1"


def test_a_reused_id_with_other_content_is_refused(pipeline_store: Engine, loan: Loan) -> None:
    as_of = loan.start_date + dt.timedelta(days=90)
    take_payments(pipeline_store, [{"payment_id": "T-R1", "loan_id": loan.loan_id,
                                    "paid_on": _day(loan, 31), "amount": "800.00"}],
                  by="teller.wu", as_of=as_of)
    result = take_payments(pipeline_store, [{"payment_id": "T-R1", "loan_id": loan.loan_id,
                                             "paid_on": _day(loan, 31), "amount": "900.00"}],
                           by="teller.wu", as_of=as_of)
    assert result.booked == () and result.quarantined[0]["payment_id"] == "T-R1"
    with transaction(pipeline_store) as session:
        assert session.get_one(LoanPayment, "T-R1").amount == Decimal("800.00")


def test_the_command_books_a_file(pipeline_store: Engine, loan: Loan, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL",
                       pipeline_store.url.render_as_string(hide_password=False))
    path = tmp_path / "payments.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"payment_id": "C-1", "loan_id": loan.loan_id, "paid_on": _day(loan, 31),
         "amount": "1200.00"},
        {"payment_id": "C-2", "loan_id": "LN-NO-SUCH", "paid_on": _day(loan, 31),
         "amount": "1.00"}]), "utf-8")
    as_of = _day(loan, 60)
    res = CliRunner().invoke(app, ["postloan", "repay", "--input", str(path), "--as-of", as_of,
                                   "--by", "teller.wu", "--json"])
    assert res.exit_code == 1, res.output  # one row quarantined
    doc = json.loads(res.stdout)
    assert [b["payment_id"] for b in doc["booked"]] == ["C-1"]
    assert doc["quarantined"][0]["payment_id"] == "C-2"
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"payment_id": "C-3"\n', "utf-8")
    res = CliRunner().invoke(app, ["postloan", "repay", "--input", str(broken)])
    assert res.exit_code == 2 and "line 1" in res.output
    assert _count(pipeline_store, LoanPayment) == 1
