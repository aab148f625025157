"""Offers for the tiny bank's customers: every product decided once per customer, reasons
for every refusal, and bad input — unknown customers, stale tags, ineligible offers —
refused with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.postloan.bank_copy import copy_bank

from xiaowei.customers.offer_rules import PRODUCTS
from xiaowei.customers.offers import (
    OfferBook,
    OfferRefused,
    StaleTags,
    evaluate_offers,
    held_by_loans,
    needed_tags,
    run_tags,
)
from xiaowei.data.tags.service import data_as_of
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def bank(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[Path, dt.date, OfferBook]:
    path = copy_bank(pipeline_bank, tmp_path_factory.mktemp("offers-bank"))
    with AnalyticStore(path, read_only=True) as analytic:
        day = data_as_of(analytic)
        book = evaluate_offers(analytic, day)
    return path, day, book


def test_every_customer_gets_every_product_decided_once(bank) -> None:
    _, _, book = bank
    assert book.customers > 20 and book.offers.num_rows > 0
    decided: dict[tuple[str, str], int] = {}
    for r in book.offers.to_pylist() + book.refusals.to_pylist():
        decided[(r["party_id"], r["product"])] = decided.get((r["party_id"], r["product"]),
                                                             0) + 1
    parties = {p for p, _ in decided}
    assert len(parties) == book.customers
    assert decided == {(p, k): 1 for p in parties for k in PRODUCTS}
    for r in book.refusals.to_pylist():
        assert r["reasons"], r
        assert all(c in book.texts for c in r["reasons"])
    for party in {r["party_id"] for r in book.offers.to_pylist()}:
        ranked = book.party(party)["offers"]
        assert [o["rank"] for o in ranked] == list(range(1, len(ranked) + 1))
        assert [o["score"] for o in ranked] == sorted((o["score"] for o in ranked),
                                                      reverse=True)
        assert all(o["value_yuan"] >= 0 and o["reasons"] for o in ranked)
    gated = {r["party_id"] for r in book.refusals.to_pylist() if r["gate"]}
    assert len(gated) == book.gated
    summary = book.summary()
    assert sum(summary["offers"].values()) == book.offers.num_rows


def test_a_customers_view_and_not_available_products(bank) -> None:
    _, _, book = bank
    party = book.offers["party_id"][0].as_py()
    view = book.party(party)
    assert view["offers"] and view["not_available"][0]["product"] == "fx_settlement"
    assert book.check(party, view["offers"][0]["product"])["rank"] == 1
    with pytest.raises(OfferRefused, match="fx_settlement") as refused:
        book.check(party, "fx_settlement")
    assert "进出口" in refused.value.reasons[0]["zh"]
    with pytest.raises(OfferRefused) as unknown_product:
        book.check(party, "mortgage")
    assert unknown_product.value.reasons[0]["code"] == "NOT_OFFERED"


def test_an_offer_the_customer_is_not_eligible_for_is_refused_with_its_reasons(bank) -> None:
    _, _, book = bank
    row = next(r for r in book.refusals.to_pylist() if not r["gate"])
    with pytest.raises(OfferRefused) as refused:
        book.check(row["party_id"], row["product"])
    assert [r["code"] for r in refused.value.reasons] == row["reasons"]
    assert all(r["zh"] and r["en"] for r in refused.value.reasons)


def test_unknown_customers_are_refused(bank) -> None:
    path, day, _ = bank
    with AnalyticStore(path, read_only=True) as analytic:
        book = evaluate_offers(analytic, day, parties=["P-NO-SUCH-CUSTOMER"])
    assert book.offers.num_rows == 0
    assert {tuple(r["reasons"]) for r in book.refusals.to_pylist()} == {("UNKNOWN_CUSTOMER",)}
    with pytest.raises(OfferRefused) as refused:
        book.check("P-NO-SUCH-CUSTOMER", "payroll_service")
    assert refused.value.reasons[0]["code"] == "UNKNOWN_CUSTOMER"


def test_stale_tags_and_days_past_the_data_are_refused(bank) -> None:
    path, day, _ = bank
    with AnalyticStore(path, read_only=True) as analytic:
        with pytest.raises(StaleTags, match="days before"):
            evaluate_offers(analytic, day + dt.timedelta(days=40))
        old = run_tags(analytic, day - dt.timedelta(days=60), needed_tags())
        with pytest.raises(StaleTags, match="days old") as stale:
            evaluate_offers(analytic, day, tag_rows=old)
        assert stale.value.reasons[0]["code"] == "STALE_TAGS"
        with pytest.raises(StaleTags, match="later than"):
            evaluate_offers(analytic, day - dt.timedelta(days=90), tag_rows=old)


def test_products_held_through_open_loans(bank) -> None:
    path, day, book = bank
    with AnalyticStore(path, read_only=True) as analytic:
        held = held_by_loans(analytic.connection, day)
        expected = analytic.connection.execute("""
            SELECT DISTINCT party_id FROM gov.loan l WHERE product_intent IN ('invoice_loan',
              'tax_loan') AND start_date <= ? AND EXISTS (SELECT 1 FROM gov.repayment r
              WHERE r.loan_id = l.loan_id AND (r.paid_on IS NULL OR r.paid_on > ?))""",
                                                [day, day]).fetchall()
    assert {p for p, kinds in held.items() if "invoice_credit" in kinds} == \
        {r[0] for r in expected}
    for party, kinds in held.items():
        if "supply_chain_finance" in kinds:
            refusal = [r for r in book.refusals.to_pylist() if r["party_id"] == party
                       and r["product"] == "supply_chain_finance"]
            assert not refusal or refusal[0]["gate"] or "SF03" in refusal[0]["reasons"]


def test_stored_warnings_and_classes_close_the_risk_gate(bank, tmp_path: Path) -> None:
    path, day, book = bank
    party = book.offers["party_id"][0].as_py()
    copy = tmp_path / "risk" / path.name
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    (copy.parent / "governed").symlink_to(path.parent / "governed")
    con = duckdb.connect(str(copy))
    from xiaowei.postloan.monitoring_tables import ensure_tables

    ensure_tables(con)
    con.execute("INSERT INTO postloan.warning (raised_on, party_id, signal, level, level_rank) "
                "VALUES (?, ?, 'court_new_case', 'red', 3)", [day - dt.timedelta(days=10), party])
    con.close()
    with AnalyticStore(copy, read_only=True) as analytic:
        after = evaluate_offers(analytic, day, parties=[party])
    assert after.offers.num_rows == 0
    assert all("RK04" in r["reasons"] for r in after.refusals.to_pylist())
