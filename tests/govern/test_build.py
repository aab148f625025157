"""`govern`: raw sources of a loaded tiny bank → the governed tables that tags read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xiaowei.data.govern.build import GovernReport, govern
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.sim import SimResult
from xiaowei.store.analytic import AnalyticStore

GOVERNED = ("party_profile", "shareholder", "registry_change", "abnormal_listing",
            "tax_filing", "tax_grade", "invoice", "electricity", "account_flow",
            "bank_account", "bureau_report", "court_case", "enforcement", "dishonest_listing",
            "news", "field_visit", "application", "loan", "repayment", "relation_metric")


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimResult, AnalyticStore,
                                                                 GovernReport]:
    # seed 15: a tiny bank with fraud rings
    brought = simulate_and_load(tmp_path_factory.mktemp("govern"), "tiny", 15)
    store = AnalyticStore(brought.analytic_path)
    yield brought.bank, store, brought.governed
    store.close()


def _one(store: AnalyticStore, sql: str) -> object:
    return store.connection.execute(sql).fetchall()[0][0]


def test_every_governed_table_has_party_and_known_at(governed) -> None:
    _, store, report = governed
    for table in GOVERNED:
        assert report.tables[table] > 0, table
        nulls = _one(store, f"SELECT COUNT(*) FROM gov.{table} "
                            "WHERE party_id IS NULL OR known_at IS NULL")
        assert nulls == 0, table


def test_every_raw_row_is_linked_or_counted(governed) -> None:
    bank, _, report = governed
    assert report.tables["tax_filing"] + report.unlinked["tax_filing"] == \
        bank.tables["raw.tax_filings"]
    assert sum(report.unlinked.values()) <= 0.01 * sum(report.tables.values())


def test_units_and_dates_are_standardised(governed) -> None:
    _bank, store, _ = governed
    wan = _one(store, "SELECT COUNT(*) FROM raw.tax_filings WHERE unit = '万元'")
    assert wan > 0
    # A filing reported in 万元 comes out in yuan: no month of a firm is 10,000× smaller.
    ratio = _one(store, """SELECT MIN(sales_yuan / NULLIF(med, 0)) FROM gov.tax_filing t
                           JOIN (SELECT party_id, median(sales_yuan) AS med FROM gov.tax_filing
                                 GROUP BY party_id) m USING (party_id) WHERE sales_yuan > 0""")
    assert ratio > 0.001
    assert _one(store, "SELECT COUNT(*) FROM gov.court_case WHERE filed_on IS NULL") == 0
    assert _one(store, "SELECT MIN(established_on) FROM gov.party_profile") > dt.date(1980, 1, 1)


def test_known_at_is_never_before_the_business_date(governed) -> None:
    _, store, _ = governed
    assert _one(store, "SELECT COUNT(*) FROM gov.tax_filing "
                       "WHERE known_at < period + INTERVAL 1 MONTH") == 0
    late = _one(store, "SELECT COUNT(*) FROM gov.tax_filing "
                       "WHERE known_at > period + INTERVAL 2 MONTH")
    assert late > 0  # the simulator's late arrivals survive governance


def test_parties_are_resolved_not_duplicated(governed) -> None:
    bank, store, _report = governed
    # Registry duplicates in format variants collapse into one party each.
    firms = _one(store, "SELECT COUNT(DISTINCT uscc) FROM gov.party_profile WHERE uscc IS NOT NULL")
    assert firms == _one(store, "SELECT COUNT(*) FROM gov.party_profile WHERE uscc IS NOT NULL")
    true_firms = _one(store, f"SELECT COUNT(*) FROM '{bank.out / 'truth' / 'parties.parquet'}' "
                             "WHERE uscc <> ''")
    assert abs(firms - true_firms) <= 0.03 * true_firms


def test_relation_metrics_see_the_rings(governed) -> None:
    bank, store, _ = governed
    truth = bank.out / "truth" / "parties.parquet"
    flagged = _one(store, f"""
        SELECT AVG((r.identifier_cluster_size >= 3)::INT) FROM gov.relation_metric r
        JOIN gov.party_profile p USING (party_id)
        JOIN '{truth}' t ON t.uscc = p.uscc WHERE t.fraud_ring >= 0""")
    assert flagged >= 0.5


def test_rerun_keeps_party_ids(governed) -> None:
    bank, store, _ = governed
    before = dict(store.connection.execute(
        "SELECT record_id, party_id FROM gov.party_link").fetchall())
    govern(bank.out, store)
    after = dict(store.connection.execute(
        "SELECT record_id, party_id FROM gov.party_link").fetchall())
    assert after == before


def test_a_missing_raw_table_leaves_gov_untouched(governed, tmp_path: Path) -> None:
    bank, store, report = governed
    store.connection.execute("ALTER TABLE raw.tax_filings RENAME TO tax_filings_away")
    try:
        with pytest.raises(Exception, match="tax_filings"):
            govern(bank.out, store)
        assert _one(store, "SELECT COUNT(*) FROM gov.tax_filing") == report.tables["tax_filing"]
    finally:
        store.connection.execute("ALTER TABLE raw.tax_filings_away RENAME TO tax_filings")


def test_analytic_only_bring_in_governs_without_a_transactional_store(tmp_path: Path) -> None:
    brought = simulate_and_load(tmp_path, "tiny", 15, transactional=False)
    assert brought.load is None and brought.database_url == ""
    assert not (tmp_path / "bank.db").exists()
    assert brought.governed is not None and brought.governed.tables["tax_filing"] > 1000
