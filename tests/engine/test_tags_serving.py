"""Serving tags: the latest batch run for stable tags, online for tags over intraday tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xiaowei.engine.tags import OnlineTags, TagHistory, load_catalogue, run_duckdb
from xiaowei.engine.tags.serving import ServingTags, intraday_tags

DATA = Path(__file__).parent / "data"
LATE = dt.date(2024, 3, 20)  # the day the bank learns of shop s007 (see conftest.toy_tables)
SHOPS = [f"s{i:03d}" for i in range(40)]


@pytest.fixture(scope="module")
def intraday_catalogue(tmp_path_factory: pytest.TempPathFactory):
    """The toy catalogue with ``shops`` declared intraday (data, not code)."""
    folder = tmp_path_factory.mktemp("intraday")
    text = (DATA / "toy_catalogue.yaml").read_text("utf-8")
    marked = text.replace("  - name: shops\n    keys: [shop]\n",
                          "  - name: shops\n    keys: [shop]\n    intraday: true\n", 1)
    assert marked != text
    (folder / "toy.yaml").write_text(marked, "utf-8")
    return load_catalogue(folder)


def _serving(catalogue, sources, run_days: list[dt.date], **kwargs) -> ServingTags:
    history = TagHistory()
    for day in run_days:
        history.apply(run_duckdb(catalogue, sources, day))
    return ServingTags(catalogue, sources, history, **kwargs)


def test_intraday_tags_are_the_ones_reading_an_intraday_table(intraday_catalogue) -> None:
    names = list(intraday_catalogue.tags)
    found = intraday_tags(intraday_catalogue, names)
    assert found and set(found) < set(names)
    assert all("shops" in intraday_catalogue.tags[n].reads for n in found)
    assert "order_count_30d" not in found  # reads orders only


def test_serving_equals_exact_online_when_the_run_is_of_the_day(intraday_catalogue,
                                                               toy_sources) -> None:
    day = dt.date(2024, 3, 1)
    serving = _serving(intraday_catalogue, toy_sources, [dt.date(2024, 2, 1), day])
    exact = OnlineTags(intraday_catalogue, toy_sources)
    try:
        for shop in [*SHOPS, "nobody"]:
            assert serving.values(shop, day) == exact.values(shop, day), shop
        assert serving.served == len(SHOPS) + 1 and serving.exact_answers == 0
    finally:
        serving.close()
        exact.close()


def test_an_intraday_row_of_the_day_is_seen_though_the_run_is_a_day_old(intraday_catalogue,
                                                                        toy_sources) -> None:
    """s007 enters the shops table on LATE: its shop tags appear the same day; the other tags
    are the run's (a day old), as the mode promises."""
    before = LATE - dt.timedelta(days=1)
    serving = _serving(intraday_catalogue, toy_sources, [before])
    exact = OnlineTags(intraday_catalogue, toy_sources)
    try:
        got = serving.values("s007", LATE)
        now, run = exact.values("s007", LATE), exact.values("s007", before)
        shop_tags = set(serving.intraday)
        assert "region_name" in got and "region_name" not in run  # seen on its day
        assert {k: v for k, v in got.items() if k in shop_tags} == {
            k: v for k, v in now.items() if k in shop_tags}
        assert {k: v for k, v in got.items() if k not in shop_tags} == {
            k: v for k, v in run.items() if k not in shop_tags}
        assert serving.served == 1
    finally:
        serving.close()
        exact.close()


@pytest.mark.parametrize("run_day", [dt.date(2024, 2, 27), dt.date(2024, 3, 2)])
def test_a_run_too_old_or_after_the_day_gives_the_exact_answer(intraday_catalogue, toy_sources,
                                                               run_day) -> None:
    day = dt.date(2024, 3, 1)
    serving = _serving(intraday_catalogue, toy_sources, [run_day])
    exact = OnlineTags(intraday_catalogue, toy_sources)
    try:
        assert serving.values("s001", day) == exact.values("s001", day)
        assert serving.exact_answers == 1 and serving.served == 0
    finally:
        serving.close()
        exact.close()


def test_without_any_run_every_answer_is_exact(intraday_catalogue, toy_sources) -> None:
    serving = _serving(intraday_catalogue, toy_sources, [])
    try:
        assert serving.values("s002", dt.date(2024, 3, 1))
        assert serving.exact_answers == 1
    finally:
        serving.close()


def test_a_new_run_is_picked_up_at_the_next_check(intraday_catalogue, toy_sources) -> None:
    now = [0.0]
    history = TagHistory()
    serving = ServingTags(intraday_catalogue, toy_sources, history, recheck_seconds=30,
                          clock=lambda: now[0])
    day = dt.date(2024, 3, 1)
    try:
        serving.values("s001", day)
        history.apply(run_duckdb(intraday_catalogue, toy_sources, day))
        serving.values("s001", day)
        assert serving.exact_answers == 2  # not checked again yet
        now[0] = 31.0
        serving.values("s001", day)
        assert serving.served == 1
    finally:
        serving.close()


def test_threads_asking_at_once_get_the_single_threaded_answers(intraday_catalogue,
                                                                toy_sources) -> None:
    """The pool of intraday runners serves several threads at once, each its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    day = dt.date(2024, 3, 1)
    serving = _serving(intraday_catalogue, toy_sources, [day], runners=2)
    exact = OnlineTags(intraday_catalogue, toy_sources)
    try:
        assert serving.concurrent
        want = {shop: exact.values(shop, day) for shop in SHOPS}
        with ThreadPoolExecutor(8) as pool:
            got = dict(zip(SHOPS * 3, pool.map(lambda s: serving.values(s, day), SHOPS * 3),
                           strict=True))
        assert got == want
        assert serving.served == 3 * len(SHOPS)
    finally:
        serving.close()
        exact.close()
