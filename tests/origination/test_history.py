"""Historical applications and their point-in-time tags from cached batch snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.data.tags.service import online_party_tags
from xiaowei.origination.decide import validate_application
from xiaowei.origination.history import (
    PointInTimeTags,
    historical_applications,
    snapshot_day,
)
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("history")
    brought = simulate_and_load(root, "tiny", 15, transactional=False)
    with AnalyticStore(brought.analytic_path) as analytic:
        apps = historical_applications(analytic)
        window = [a for a in apps if dt.date(2025, 3, 1) <= a.applied_on < dt.date(2025, 5, 1)]
        pit = PointInTimeTags(analytic, cache=root / "pit")
        pit.load([(a.party_id, a.applied_on) for a in window])
        yield {"root": root, "analytic": analytic, "apps": apps, "window": window, "pit": pit}


def test_every_governed_application_replays_as_a_valid_payload(bank: dict[str, Any]) -> None:
    apps = bank["apps"]
    con = bank["analytic"].connection
    total = con.execute("select count(*) from gov.application").fetchone()
    assert len(apps) == total[0] > 50
    for app in apps:
        typed = validate_application(app.payload)  # raises, listing every problem
        assert typed["applied_on"] == app.applied_on
        assert app.recorded_decision in ("approve", "reject", "pending")
    assert [a.applied_on for a in apps] == sorted(a.applied_on for a in apps)


def test_window_is_inclusive_on_both_ends(bank: dict[str, Any]) -> None:
    day = bank["apps"][len(bank["apps"]) // 2].applied_on
    same_day = historical_applications(bank["analytic"], since=day, until=day)
    assert same_day and {a.applied_on for a in same_day} == {day}
    assert len(same_day) == sum(a.applied_on == day for a in bank["apps"])


def test_snapshot_is_never_after_the_application() -> None:
    for day in (dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(2025, 12, 31)):
        snap = snapshot_day(day)
        assert snap <= day and snap.day == 1 and (snap.year, snap.month) == (day.year, day.month)


def test_snapshot_values_equal_the_online_runner_on_the_snapshot_day(
        bank: dict[str, Any]) -> None:
    """Batch and online are one definition in two runtimes: the replay reads the same values
    the online runner gives for the snapshot day."""
    online = online_party_tags(bank["analytic"])
    try:
        checked = 0
        for app in bank["window"][:6]:
            expected = online.values(app.party_id, snapshot_day(app.applied_on))
            got = bank["pit"].values(app.party_id, app.applied_on)
            for tag in set(got) | set(expected):
                want, have = expected.get(tag), got.get(tag)
                if isinstance(want, float) and isinstance(have, float):
                    # sums of floats in another order; tags' canonical text keeps 10 digits
                    assert have == pytest.approx(want, rel=1e-9), (app.party_id, tag)
                else:
                    assert have == want, (app.party_id, tag)
            checked += 1
        assert checked == 6
    finally:
        online.close()


def test_snapshots_are_computed_once_and_reused(bank: dict[str, Any]) -> None:
    days = {snapshot_day(a.applied_on) for a in bank["window"]}
    assert sorted(bank["pit"].computed) == sorted(days)
    again = PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit")
    again.load([(a.party_id, a.applied_on) for a in bank["window"]])
    assert again.computed == []
    first = bank["window"][0]
    assert again.values(first.party_id, first.applied_on) == \
        bank["pit"].values(first.party_id, first.applied_on)


def test_an_unfinished_or_stale_snapshot_is_recomputed(bank: dict[str, Any]) -> None:
    day = min(snapshot_day(a.applied_on) for a in bank["window"])
    again = PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit")
    marker = again.folder(day) / "_SUCCESS"
    marker.unlink()  # an interrupted run leaves no marker
    again.ensure([day])
    assert again.computed == [day] and marker.read_text() == again.key
    marker.write_text("another catalogue or another load")
    third = PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit")
    third.ensure([day])
    assert third.computed == [day]


def test_reading_a_pair_that_was_not_loaded_names_it(bank: dict[str, Any]) -> None:
    with pytest.raises(LookupError, match="P-NOBODY"):
        bank["pit"].values("P-NOBODY", dt.date(2025, 3, 9))
