"""The bank's default tag catalogue over a governed tiny bank: loads, computes, agrees."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.data.tags.service import bank_catalogue, export_governed
from xiaowei.engine.tags import run_duckdb
from xiaowei.store.analytic import AnalyticStore

AS_OF = dt.date(2025, 12, 31)
# Tags a tiny bank may leave empty: too few parties for an anchor with a graded tax record.
MAY_BE_EMPTY = {"anchor_tax_grade"}


@pytest.fixture(scope="module")
def governed_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    brought = simulate_and_load(tmp_path_factory.mktemp("tags"), "tiny", 15)
    with AnalyticStore(brought.analytic_path) as store:
        return export_governed(store, bank_catalogue())


def test_catalogue_has_what_a_risk_team_uses() -> None:
    cat = bank_catalogue()
    assert len(cat.tags) >= 80
    categories = Counter(t.definition.category for t in cat.tags.values())
    assert set(categories) == {"fact", "risk", "business"}
    assert min(categories.values()) >= 10
    for needed in ("years_in_business", "tax_sales_trend_3m", "tax_sales_trend_6m",
                   "tax_sales_trend_12m", "invoice_top_buyer_share_12m",
                   "electricity_trend_3m", "account_inflow_trend_3m", "other_bank_balance",
                   "bureau_overdue_reports_12m", "hard_inquiries_3m",
                   "court_cases_defendant_12m", "enforcements_36m", "dishonest_debtor",
                   "abnormal_listed_now", "legal_rep_changes_6m", "guarantee_circle_size",
                   "fraud_ring_score", "supply_chain_role", "anchor_tax_grade", "products_held",
                   "deposit_balance_avg_6m", "lifecycle_stage"):
        assert needed in cat.tags, needed
    for tag in cat.tags.values():
        d = tag.definition
        assert d.label.zh and d.label.en and d.owner and d.version >= 1, d.name


def test_every_tag_computes_on_a_governed_bank(governed_sources: dict[str, Path]) -> None:
    cat = bank_catalogue()
    result = run_duckdb(cat, governed_sources, AS_OF)
    produced = Counter(result.table.column("tag").to_pylist())
    empty = set(cat.tags) - set(produced)
    assert empty <= MAY_BE_EMPTY, sorted(empty)
    assert produced["years_in_business"] > 300


def test_duckdb_and_spark_agree_on_every_tag(governed_sources: dict[str, Path]) -> None:
    """The issue's check: same definitions, both engines, one fingerprint (Spark for real);
    and fusing tags into one query per table changes no value on either engine."""
    from xiaowei.engine.tags.batch import DuckDBTagRunner
    from xiaowei.engine.tags.fusion import plan_fusion
    from xiaowei.engine.tags.spark import SparkTagRunner, local_session

    cat = bank_catalogue()
    groups, _ = plan_fusion(cat.select())
    assert sum(len(g.tags) for g in groups) >= 40  # most flow-table tags do fuse
    duck = run_duckdb(cat, governed_sources, AS_OF)
    with DuckDBTagRunner(cat, governed_sources, fuse=False) as runner:
        unfused = runner.run(AS_OF)
    assert unfused.fingerprint == duck.fingerprint
    assert unfused.parts == duck.parts
    session = local_session("test-bank-tags")
    spark = SparkTagRunner(cat, governed_sources, session).run(AS_OF)
    assert spark.table.num_rows == duck.table.num_rows
    assert spark.fingerprint == duck.fingerprint
    chosen = [t.name for g in groups for t in g.tags]
    spark_unfused = SparkTagRunner(cat, governed_sources, session, fuse=False).run(AS_OF, chosen)
    assert spark_unfused.parts == {t: duck.parts[t] for t in chosen}


def test_late_filings_are_not_seen_before_they_arrive(governed_sources: dict[str, Path]
                                                      ) -> None:
    """A tax filing for a month counts only from the day the bank received it."""
    import duckdb

    con = duckdb.connect()
    late = con.execute(f"""
        SELECT party_id, period, known_at FROM '{governed_sources['tax_filing']}'
        WHERE known_at > period + INTERVAL 2 MONTH ORDER BY known_at LIMIT 1""").fetchall()
    assert late, "the simulator should deliver some filings late"
    party, period, known_at = late[0]
    before = known_at - dt.timedelta(days=1)
    cat = bank_catalogue()
    with_late = run_duckdb(cat, governed_sources, known_at, tags=["tax_months_filed_12m"])
    without = run_duckdb(cat, governed_sources, before, tags=["tax_months_filed_12m"])
    assert period >= dt.date(known_at.year - 1, known_at.month, 1)
    assert with_late.values(party)["tax_months_filed_12m"] == \
        without.values(party).get("tax_months_filed_12m", 0) + 1


def test_sources_that_cover_everyone_count_zero_not_empty(governed_sources: dict[str, Path]
                                                          ) -> None:
    """Courts, the registry and news cover every firm: no record means 0 (or false), not
    unknown — a strategy must be able to tell 'no cases' from 'no data'."""
    cat = bank_catalogue()
    names = ["court_cases_defendant_12m", "dishonest_debtor", "abnormal_listed_now",
             "legal_rep_changes_6m", "negative_news_6m", "bureau_overdue_now"]
    result = run_duckdb(cat, governed_sources, AS_OF, tags=names)
    counts = Counter(result.table.column("tag").to_pylist())
    parties = run_duckdb(cat, governed_sources, AS_OF, tags=["party_type"]).table.num_rows
    for name in names[:-1]:
        assert counts[name] == parties, name
    values = [result.values(e) for e in result.table.column("entity_id").to_pylist()[:50]]
    assert any(v.get("court_cases_defendant_12m") == 0 for v in values)
    # The bureau is queried only with consent, at application: no report stays unknown.
    assert counts["bureau_overdue_now"] < parties


def test_two_credit_reports_of_one_day_give_one_answer(
    governed_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A tie in "the latest report" is broken by the catalogue, not by row order: the same
    reports in two orders give the same tags, and the worse report of the day is read."""
    import duckdb

    con = duckdb.connect()
    source = str(governed_sources["bureau_report"])
    party, day = con.execute(
        "SELECT party_id, max(query_date) FROM read_parquet($p) GROUP BY party_id "
        "ORDER BY party_id LIMIT 1", {"p": source}).fetchall()[0]
    # A second report of the same day and the same arrival, with one more overdue account.
    twin = ("SELECT * REPLACE (overdue_accounts_now + 1 AS overdue_accounts_now) "
            "FROM read_parquet($p) WHERE party_id = $party AND query_date = $day")
    bureau_tags = ["other_bank_loans", "bureau_overdue_now", "hard_inquiries_3m"]
    prints = []
    for order in ("ASC", "DESC"):
        path = tmp_path / f"bureau_{order}.parquet"
        con.execute(
            f"COPY (SELECT * FROM (SELECT * FROM read_parquet($p) UNION ALL {twin}) "
            f"ORDER BY party_id, overdue_accounts_now {order}) TO '{path}' (FORMAT parquet)",
            {"p": source, "party": party, "day": day})
        result = run_duckdb(bank_catalogue(), {**governed_sources, "bureau_report": path},
                            AS_OF, tags=bureau_tags)
        prints.append(result.fingerprint)
        worst = con.execute(
            "SELECT max(overdue_accounts_now) FROM read_parquet($p) WHERE party_id = $party "
            "AND query_date = $day", {"p": str(path), "party": party, "day": day}).fetchall()
        assert result.values(party)["bureau_overdue_now"] == worst[0][0]
    assert prints[0] == prints[1]
