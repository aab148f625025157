"""Serving-mode tags on the bank's catalogue: the same values as exact-day online tags when no
intraday source changed, and an application-day credit report is seen at once."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.data.tags.service import (
    bank_catalogue,
    compute_all,
    data_as_of,
    online_party_tags,
    serving_party_tags,
    snapshot_dir,
)
from xiaowei.engine.tags.serving import intraday_tags
from xiaowei.origination.decide import batch_tag_reader
from xiaowei.store.analytic import AnalyticStore


def _copy(bank: dict[str, Any], folder: Path) -> Path:
    """The bank's analytic store alone (its own snapshot and tag history will be written)."""
    folder.mkdir()
    return Path(shutil.copy(bank["analytic"], folder / "analytic.duckdb"))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal as the engine compares runs: floats to 10 significant digits (a batch and an
    online statement may sum in another order), everything else exactly."""
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-9) if isinstance(a[k], float)
        and isinstance(b[k], float) else a[k] == b[k] for k in a)


def _parties(analytic: AnalyticStore, n: int) -> list[str]:
    rows = analytic.connection.execute(
        "SELECT DISTINCT party_id FROM gov.bureau_report ORDER BY 1 LIMIT ?", [n]).fetchall()
    return [str(r[0]) for r in rows]


def test_the_bank_declares_the_application_and_bureau_report_intraday() -> None:
    cat = bank_catalogue()
    assert {n for n, t in cat.tables.items() if t.intraday} == {"application", "bureau_report"}
    online = intraday_tags(cat, list(cat.tags))
    assert {"bureau_overdue_now", "hard_inquiries_3m", "applications_12m"} <= set(online)
    assert len(online) < len(cat.tags) / 4  # most tags come from the run


def test_serving_equals_exact_day_online_when_the_run_is_of_the_day(
        pipeline_bank: dict[str, Any], tmp_path: Path) -> None:
    with AnalyticStore(_copy(pipeline_bank, tmp_path / "a")) as analytic:
        day = data_as_of(analytic)
        compute_all(analytic, day)
        serving, exact = serving_party_tags(analytic), online_party_tags(analytic)
        try:
            parties = _parties(analytic, 25)
            for party in parties:
                assert _same(serving.values(party, day), exact.values(party, day)), party
            assert serving.served == len(parties) and serving.exact_answers == 0
            # a day the run does not cover (a backdated application) is answered exactly
            earlier = day - dt.timedelta(days=30)
            assert _same(serving.values(parties[0], earlier), exact.values(parties[0], earlier))
            assert serving.exact_answers == 1
        finally:
            serving.close()
            exact.close()


def test_an_application_day_bureau_report_is_seen(pipeline_bank: dict[str, Any],
                                                  tmp_path: Path) -> None:
    """The run is as of yesterday; a report pulled today with 7 overdue accounts counts."""
    with AnalyticStore(_copy(pipeline_bank, tmp_path / "b")) as analytic:
        day = data_as_of(analytic)
        compute_all(analytic, day - dt.timedelta(days=1))
        party = _parties(analytic, 1)[0]
        path = snapshot_dir(analytic) / "bureau_report.parquet"
        reports = pq.read_table(path)
        mine = reports.filter(pc.equal(reports["party_id"], pa.scalar(party,
                                                                       reports["party_id"].type)))
        today = mine.slice(0, 1).to_pylist()[0]
        today.update(query_date=day, overdue_accounts_now=7,
                     known_at=dt.datetime.combine(day, dt.time(10)))
        pq.write_table(pa.concat_tables([reports, pa.Table.from_pylist([today],
                                                                       reports.schema)]), path)
        with batch_tag_reader(analytic, serving=True) as read:
            got = read(party, day)
        exact = online_party_tags(analytic)
        try:
            assert got["bureau_overdue_now"] == 7
            online = set(intraday_tags(bank_catalogue(), list(got)))
            yesterday = exact.values(party, day - dt.timedelta(days=1))
            assert yesterday["bureau_overdue_now"] != 7  # the run could not have seen it
            assert _same({k: v for k, v in got.items() if k in online}, {
                k: v for k, v in exact.values(party, day).items() if k in online})
            assert _same({k: v for k, v in got.items() if k not in online}, {
                k: v for k, v in yesterday.items() if k not in online})
        finally:
            exact.close()


def test_serving_is_opted_into_and_exact_stays_the_default(pipeline_bank: dict[str, Any],
                                                           tmp_path: Path) -> None:
    """`xiaowei decide` and the replays call without ``serving``: exact-day online tags."""
    with AnalyticStore(_copy(pipeline_bank, tmp_path / "c")) as analytic:
        with batch_tag_reader(analytic) as read:
            assert type(read.__self__).__name__ == "OnlineTags"  # type: ignore[attr-defined]
        with batch_tag_reader(analytic, serving=True) as read:
            assert type(read.__self__).__name__ == "ServingTags"  # type: ignore[attr-defined]
