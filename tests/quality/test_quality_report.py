"""The data-quality report on a loaded, governed tiny bank, and on copies made dirtier."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from xiaowei.data.govern.standardise import uscc
from xiaowei.data.pipeline import simulate_and_load
from xiaowei.data.quality import THRESHOLDS, QualityReport, quality_report, render_html
from xiaowei.data.sources import SourceLoadReport, packaged_contracts
from xiaowei.store.analytic import AnalyticStore

VOID = {"meta", "br", "img", "hr", "input", "link", "col", "wbr", "source", "area", "base"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny bank (seed 15) loaded and governed; the analytic store's file, closed."""
    root = tmp_path_factory.mktemp("quality")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIAOWEI_HOME", str(root / "home"))
        return simulate_and_load(root, "tiny", 15).analytic_path


@pytest.fixture(scope="module")
def report(loaded: Path) -> QualityReport:
    with AnalyticStore(loaded) as store:
        return quality_report(store)


@pytest.fixture
def copy(loaded: Path, tmp_path: Path) -> Iterator[AnalyticStore]:
    """A private copy of the loaded store, for a test to make dirtier."""
    target = tmp_path / "copy.duckdb"
    shutil.copy(loaded, target)
    with AnalyticStore(target) as store:
        yield store


def test_every_contracted_raw_source_is_reported(report: QualityReport, loaded: Path) -> None:
    with AnalyticStore(loaded) as store:
        raw = set(store.tables("raw"))
    contracted = raw & set(packaged_contracts())
    assert len(contracted) == 19
    assert set(report.sources) == contracted  # the bank's own tables have no contract
    assert report.as_of == dt.date(2025, 12, 31)  # the dataset's as-of, from gov
    assert all(s.rows > 0 and s.light in {"green", "amber", "red"}
               for s in report.sources.values())


def test_optional_address_is_mostly_but_not_fully_complete(report: QualityReport) -> None:
    registry = report.sources["registry_companies"]
    address = next(c for c in registry.columns if c.name == "address")
    assert 0.9 < address.completeness < 1  # the sim leaves ~5% of addresses empty
    assert not address.required
    assert registry.dimensions["completeness"] == 1.0  # required columns are all full


def test_uscc_validity_counts_wrong_check_characters(report: QualityReport,
                                                     loaded: Path) -> None:
    column = next(c for c in report.sources["registry_companies"].columns if c.name == "uscc")
    assert 0.97 < column.validity < 1  # ~1% wrong check characters in the registry
    assert dict(column.reasons).get("checksum does not match", 0) > 0
    with AnalyticStore(loaded) as store:
        values = [r[0] for r in store.connection.execute(
            "SELECT uscc FROM raw.registry_companies").fetchall()]
    refused = sum(1 for v in values if uscc(v).reason is not None)
    assert column.invalid == refused  # the batch count agrees with the online rule


def test_blanked_required_column_turns_the_source_red(copy: AnalyticStore) -> None:
    copy.connection.execute("UPDATE raw.registry_companies SET name = '  '")
    dirty = quality_report(copy)
    registry = dirty.sources["registry_companies"]
    name = next(c for c in registry.columns if c.name == "name")
    assert name.completeness == 0
    assert registry.worst_required is not None and registry.worst_required.name == "name"
    assert registry.light == "red"
    assert dirty.sources["tax_filings"].light != "red"  # other sources untouched


def test_duplicate_keys_and_rows_are_counted(copy: AnalyticStore,
                                             report: QualityReport) -> None:
    assert report.sources["tax_filings"].duplicate_keys == 0
    con = copy.connection
    con.execute("INSERT INTO raw.tax_filings SELECT * FROM raw.tax_filings LIMIT 1")
    con.execute("INSERT INTO raw.tax_filings SELECT * REPLACE (vat_payable + 1 AS vat_payable)"
                " FROM raw.tax_filings LIMIT 1")
    filings = quality_report(copy).sources["tax_filings"]
    assert filings.duplicate_keys == 2  # two extra rows share a (taxpayer_id, period)
    assert filings.duplicate_rows == 1  # only one repeats the whole row
    assert filings.dimensions["uniqueness"] < 1


def test_text_typed_source_is_checked_by_type_and_contract(copy: AnalyticStore) -> None:
    con = copy.connection  # as if the source had come as CSV: sentiment as text
    con.execute("CREATE OR REPLACE TABLE raw.web_news AS SELECT * EXCLUDE (site) "
                "REPLACE (CAST(sentiment AS VARCHAR) AS sentiment) FROM raw.web_news")
    con.execute("UPDATE raw.web_news SET sentiment = CASE WHEN record_id = (SELECT min("
                "record_id) FROM raw.web_news) THEN 'x' ELSE '5' END WHERE record_id IN "
                "(SELECT record_id FROM raw.web_news ORDER BY record_id LIMIT 3)")
    news = quality_report(copy).sources["web_news"]
    sentiment = next(c for c in news.columns if c.name == "sentiment")
    assert dict(sentiment.reasons) == {"not an integer": 1, "not one of the allowed values": 2}
    site = next(c for c in news.columns if c.name == "site")
    assert site.missing_from_source and site.completeness == 0
    assert news.dimensions["completeness"] == 1.0  # site is optional
    assert news.validity is not None and news.validity < 1


def test_late_filings_and_staleness(report: QualityReport, loaded: Path) -> None:
    fresh = report.sources["tax_filings"].freshness
    assert 0 < fresh.late_share < 0.1  # ~4% of filings arrive 35-150 days late
    # December's filings arrive in January: as of 31 Dec the latest month known is November
    assert fresh.latest_business_date == dt.date(2025, 11, 30)
    assert fresh.known_after_as_of > 0 and fresh.age_days is not None and fresh.age_days < 10
    assert report.sources["web_news"].freshness.late_share is None  # known on publication
    with AnalyticStore(loaded) as store:
        later = quality_report(store, as_of=dt.date(2027, 1, 1))
    stale = later.sources["tax_filings"]
    assert stale.freshness.stale and stale.dimensions["freshness"] == 0
    assert later.as_of == dt.date(2027, 1, 1)


def test_linkage_is_raw_in_minus_governed_out(report: QualityReport, loaded: Path) -> None:
    filings = report.sources["tax_filings"]
    with AnalyticStore(loaded) as store:
        governed = store.row_count("tax_filing", "gov")
    assert filings.governed_table == "tax_filing"
    assert filings.unlinked == filings.rows - governed


def test_quarantine_from_the_store_and_from_load_reports(copy: AnalyticStore) -> None:
    con = copy.connection
    con.execute("INSERT INTO raw_quarantine.web_news (row_number, \"column\", reason) "
                "VALUES (7, 'sentiment', 'not one of the allowed values')")
    fed = SourceLoadReport(source="court_cases", mode="bulk", rows_in=100, accepted=90,
                           quarantined=10)
    fed.reasons["filed_date: business date is empty"] = 10
    dirty = quality_report(copy, loads=[fed])
    news = dirty.sources["web_news"].quarantine
    assert news.recorded and news.quarantined == 1
    assert news.reasons == {"sentiment: not one of the allowed values": 1}
    assert dirty.sources["web_news"].dimensions["quarantine"] < 1
    courts = dirty.sources["court_cases"]
    assert courts.quarantine.quarantined == 10
    assert courts.dimensions["quarantine"] == pytest.approx(0.9)


def test_json_shape(report: QualityReport) -> None:
    doc = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert set(doc) >= {"as_of", "sources", "overall"}
    assert doc["overall"]["light"] in {"green", "amber", "red"}
    filings = doc["sources"]["tax_filings"]
    assert set(filings["dimensions"]) == {"completeness", "validity", "uniqueness",
                                          "freshness", "linkage", "quarantine"}
    assert filings["columns"]["unit"]["validity"] == 1.0


class _Balance(HTMLParser):
    """Every opened tag is closed, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass  # <rect .../> opens and closes itself

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_html_is_self_contained_and_well_formed(copy: AnalyticStore) -> None:
    copy.connection.execute("INSERT INTO raw_quarantine.web_news (row_number, reason) "
                            "VALUES (1, '<script>alert(1)</script>')")
    page = render_html(quality_report(copy))
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    for name in packaged_contracts():
        assert name in page
    lowered = page.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert "&lt;script&gt;alert(1)" in page  # the data is shown, escaped
    assert page.count("<svg") > 19 and "数据质量报告" in page


def test_traffic_light_thresholds() -> None:
    assert THRESHOLDS.light(0.98) == "green"
    assert THRESHOLDS.light(0.9799) == "amber"
    assert THRESHOLDS.light(0.90) == "amber"
    assert THRESHOLDS.light(0.8999) == "red"
    assert THRESHOLDS.light(None) is None
