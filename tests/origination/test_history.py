"""Historical applications and their point-in-time tags from cached batch snapshots."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.data.tags.service import online_party_tags
from xiaowei.origination.decide import validate_application
from xiaowei.origination.history import PointInTimeTags, historical_applications
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


def test_replayed_tags_equal_the_online_runner_on_the_application_day(
        bank: dict[str, Any]) -> None:
    """A replay reads what a live decision on that day would have read, party by party."""
    online = online_party_tags(bank["analytic"])
    try:
        checked = 0
        for app in bank["window"][:6]:
            expected = online.values(app.party_id, app.applied_on)
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


def test_days_are_computed_once_and_then_read_from_the_cache(bank: dict[str, Any]) -> None:
    days = {a.applied_on for a in bank["window"]}
    assert sorted(bank["pit"].computed) == sorted(days)
    with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as again:
        again.load([(a.party_id, a.applied_on) for a in bank["window"]])
        assert again.computed == [] and again._online is None  # no runner was even built
        for app in bank["window"]:
            assert again.values(app.party_id, app.applied_on) == \
                bank["pit"].values(app.party_id, app.applied_on)


def test_a_party_not_yet_cached_for_a_day_is_added_to_that_day(bank: dict[str, Any]) -> None:
    app = bank["window"][0]
    other = next(a for a in bank["apps"] if a.party_id != app.party_id)
    with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as again:
        again.load([(other.party_id, app.applied_on), (app.party_id, app.applied_on)])
        assert again.computed == [app.applied_on]  # only the new party was computed
        assert again.values(other.party_id, app.applied_on)  # a real party has tags
    with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as third:
        third.load([(other.party_id, app.applied_on), (app.party_id, app.applied_on)])
        assert third.computed == []


def test_another_catalogue_or_load_does_not_read_old_cache(bank: dict[str, Any]) -> None:
    with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as again:
        again.key = "0" * 64  # what another catalogue's content would give
        again.cache = again.cache.parent / again.key[:16]
        app = bank["window"][0]
        again.load([(app.party_id, app.applied_on)])
        assert again.computed == [app.applied_on]


def test_reading_a_pair_that_was_not_loaded_names_it(bank: dict[str, Any]) -> None:
    with pytest.raises(LookupError, match="P-NOBODY"):
        bank["pit"].values("P-NOBODY", dt.date(2025, 3, 9))


def test_another_load_of_the_governed_data_gets_another_cache(bank: dict[str, Any]) -> None:
    """Two datasets can share an as-of date (another seed): the key follows the data files."""
    with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as before:
        path = next(iter(before.snapshot.values()))
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with PointInTimeTags(bank["analytic"], cache=bank["root"] / "pit") as after:
            assert after.key != before.key and after.cache != before.cache
