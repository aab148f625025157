"""Real data through the same pipeline: the CUMCM 2020 C invoices (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from xiaowei.data.realdata.contest_tags import contest_invoice_tags, invoice_tags, separation
from xiaowei.data.realdata.cumcm2020c import ContestFiles, load_invoices
from xiaowei.data.tags.service import bank_catalogue


@pytest.fixture(scope="module")
def files() -> ContestFiles:
    return ContestFiles.find()


def test_invoices_load_complete_with_statuses(files: ContestFiles) -> None:
    con = duckdb.connect()
    counts = load_invoices(con, files)
    assert counts["invoice"] == 162_484  # PROVENANCE.md: 162,484 × 8
    assert counts["purchase_invoice"] == 210_947
    assert counts["contest_label"] == 123
    statuses = dict(con.execute("SELECT status, COUNT(*) FROM gov.invoice GROUP BY 1")
                    .fetchall())
    assert set(statuses) == {"正常", "作废", "红冲"}  # ' 作废发票' with its space included
    bad = con.execute("SELECT SUM(defaulted::INT) FROM gov.contest_label").fetchall()[0][0]
    assert bad == 27


def test_invoice_tags_are_the_bank_catalogues_invoice_only_tags() -> None:
    cat = bank_catalogue()
    names = invoice_tags(cat)
    assert len(names) >= 8
    assert {"invoice_amount_12m", "invoice_top_buyer_share_12m"} <= set(names)
    assert "invoice_to_tax_sales_12m" not in names  # it reads tax filings too
    assert all(set(cat.tags[n].reads) == {"invoice"} for n in names)


def test_invoice_tags_separate_defaulted_firms(files: ContestFiles, tmp_path: Path) -> None:
    result, labels = contest_invoice_tags(files, tmp_path)
    auc = {r["tag"]: r["auc"] for r in separation(result, labels)}
    # Defaulted firms invoice far less and depend on fewer buyers (docs/contest_invoices.md).
    assert auc["invoice_amount_12m"] < 0.3
    assert auc["invoice_count_12m"] < 0.3
    assert auc["invoice_top_buyer_share_12m"] > 0.6
