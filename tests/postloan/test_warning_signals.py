"""The warning-signal catalogue: it loads, refuses mistakes with their line, reads only tags the
bank defines, and its levels follow the thresholds at their boundaries — in the vectorised
batch path and for one customer alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from xiaowei.data.tags.service import bank_catalogue
from xiaowei.entities.datafiles import DataFileError
from xiaowei.postloan.warning_catalogue import Level, load_warning_catalogue
from xiaowei.postloan.warning_levels import evaluate, levels_for_party


@pytest.fixture(scope="module")
def catalogue():
    return load_warning_catalogue()


def test_the_shipped_catalogue_reads_only_defined_tags(catalogue) -> None:
    defined = set(bank_catalogue().tags)
    catalogue.check_tags(defined)
    assert len(catalogue.signals) >= 15
    sources = {s.source for s in catalogue.signals}
    assert {"tax", "invoices", "utilities", "core_banking", "courts", "registry", "bureau",
            "relations"} <= sources
    with pytest.raises(ValueError, match="tax_sales_drop: tax_sales_trend_3m"):
        catalogue.check_tags(defined - {"tax_sales_trend_3m"})


def test_deadlines_red_in_clock_hours_others_in_working_days(catalogue) -> None:
    cal = catalogue.calendar.calendar()
    friday_5pm = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    red = catalogue.levels["red"].respond_within.due(friday_5pm, cal)
    assert red - friday_5pm == dt.timedelta(hours=24)  # Saturday 17:00: the clock never stops
    orange = catalogue.levels["orange"].respond_within.due(friday_5pm, cal)
    local = orange.astimezone(friday_5pm.tzinfo)
    assert local.date() == dt.date(2026, 12, 4) and local.hour == 17  # 5 working days: Fri
    assert catalogue.levels["yellow"].inspection == "off_site"
    assert catalogue.levels["orange"].inspection == "on_site"


@pytest.mark.parametrize(("trend", "expected"), [
    (0.71, Level.NONE), (0.7, Level.YELLOW), (0.51, Level.YELLOW), (0.5, Level.ORANGE),
    (0.0, Level.ORANGE), (None, Level.NONE), (1.4, Level.NONE)])
def test_a_drop_signal_at_its_boundaries(catalogue, trend, expected) -> None:
    books, _ = evaluate(catalogue, ["P1"], {"tax_sales_trend_3m": pa.array([trend],
                                                                          pa.float64())})
    assert books.by_signal["tax_sales_drop"][0] == expected


@pytest.mark.parametrize(("months", "expected"), [
    (2, Level.NONE), (3, Level.ORANGE), (4, Level.RED), (9, Level.RED)])
def test_a_count_signal_at_its_boundaries(catalogue, months, expected) -> None:
    books, _ = evaluate(catalogue, ["P1"], {"months_since_last_tax_filing": [months]})
    assert books.by_signal["tax_filings_stopped"][0] == expected


def test_a_ratio_signal_divides_by_its_per_tag_and_skips_a_zero_divisor(catalogue) -> None:
    books, hits = evaluate(catalogue, ["A", "B", "C", "D"], {
        "enforcement_amount_36m": [40_000.0, 120_000.0, 50_000.0, 600_000.0],
        "outstanding_principal": [1_000_000.0, 1_000_000.0, 0.0, 1_000_000.0]})
    assert list(books.by_signal["enforcement_vs_loan"]) == [0, 2, 0, 3]
    row = next(r for r in hits.to_pylist() if r["entity_id"] == "B")
    assert row["value"] == pytest.approx(0.12) and row["threshold"] == 0.1


def test_flags_and_the_worst_level_over_signals(catalogue) -> None:
    books, hits = evaluate(catalogue, ["A", "B", "C"], {
        "dishonest_debtor": pa.array([True, False, None]),
        "legal_rep_changes_6m": pa.array([0, 1, None], pa.int64())})
    assert list(books.by_signal["dishonest_debtor"]) == [3, 0, 0]
    assert list(books.worst) == [3, 1, 0]
    assert list(books.count(Level.YELLOW)) == [0, 1, 0]
    assert sorted((r["entity_id"], r["signal"]) for r in hits.to_pylist()) == [
        ("A", "dishonest_debtor"), ("B", "legal_rep_change")]


def test_one_customer_agrees_with_the_book(catalogue) -> None:
    rng = np.random.default_rng(5)
    n = 300
    columns = {t: np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 4, n))
               for t in catalogue.tags}
    books, _ = evaluate(catalogue, [f"P{i}" for i in range(n)], columns)
    for i in range(0, n, 7):
        one = levels_for_party(catalogue, {t: None if np.isnan(c[i]) else c[i]
                                           for t, c in columns.items()})
        expected = {s: Level(int(v[i])).key for s, v in books.by_signal.items() if v[i] > 0}
        assert {h["signal"]: h["level"] for h in one} == expected
        if one:
            assert Level.of(one[0]["level"]) == books.worst[i]


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    shipped = Path(__file__).parents[2] / "src/xiaowei/postloan/warning_signals.yaml"
    text = shipped.read_text("utf-8")
    assert old in text
    path = tmp_path / "warning_signals.yaml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    yellow: 0.7\n    orange: 0.5\n", "    yellow: 0.5\n    orange: 0.7\n",
     "strictly lower threshold"),
    ("    direction: flag\n    red: true\n", "    direction: flag\n    red: 2\n", "true"),
    ("    direction: below\n", "    direction: sideways\n", "direction"),
    ("respond_within: {hours: 24}", "respond_within: {hours: 24, working_days: 1}",
     "exactly one"),
    ("  - name: invoice_drop\n", "  - name: tax_sales_drop\n", "used twice"),
])
def test_a_mistake_is_refused_with_its_line(tmp_path: Path, old: str, new: str,
                                            message: str) -> None:
    with pytest.raises(DataFileError, match=message) as refused:
        load_warning_catalogue(_edited(tmp_path, old, new))
    assert str(refused.value).startswith("warning_signals.yaml:")
