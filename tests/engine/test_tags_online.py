"""Online: one entity's tags equal the batch's for that entity, and latest reads the history."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from xiaowei.engine.tags import OnlineTags, TagHistory, run_duckdb
from xiaowei.engine.tags.layout import fingerprint

DATES = (dt.date(2024, 1, 20), dt.date(2024, 3, 1))


@pytest.fixture
def online(catalogue, toy_sources):
    runner = OnlineTags(catalogue, toy_sources)
    yield runner
    runner.close()


@pytest.mark.parametrize("as_of", DATES)
def test_online_equals_batch_for_every_entity(catalogue, toy_sources, online, as_of) -> None:
    batch = run_duckdb(catalogue, toy_sources, as_of)
    shops = [f"s{i:03d}" for i in range(40)]
    for shop in shops:
        alone = online.compute(shop, as_of)
        rows = batch.table.filter(pc.equal(batch.table["entity_id"], shop))
        assert alone.table.equals(rows.sort_by("tag")), shop
        assert alone.fingerprint == fingerprint(rows, as_of)


@pytest.mark.parametrize("as_of", DATES)
def test_many_entities_in_one_call_equal_the_batch_run(catalogue, toy_sources, online,
                                                       as_of) -> None:
    """compute_many is the batch run restricted to the asked entities, population tags too."""
    batch = run_duckdb(catalogue, toy_sources, as_of)
    shops = [f"s{i:03d}" for i in range(0, 40, 3)]
    many = online.compute_many([*shops, shops[0], "s999"], as_of)  # repeats, an unknown one
    rows = batch.table.filter(pc.is_in(batch.table["entity_id"], pa.array(shops)))
    assert many.table.equals(rows.sort_by([("entity_id", "ascending"), ("tag", "ascending")]))
    assert many.fingerprint == fingerprint(rows, as_of)
    assert many.entities == len(set(rows["entity_id"].to_pylist()))
    values = online.values_many([*shops, "s999"], as_of)
    assert values["s999"] == {} and values[shops[1]] == online.values(shops[1], as_of)


def test_many_with_hostile_ids_finds_nothing(online) -> None:
    assert online.values_many(["s001' OR '1'='1", "x); DROP TABLE sales; --"], DATES[1]) == {
        "s001' OR '1'='1": {}, "x); DROP TABLE sales; --": {}}


def test_population_tag_online_sees_the_other_entities(online) -> None:
    ranks = {online.values(f"s{i:03d}", DATES[1])["amount_rank_in_region"] for i in range(0, 40, 3)}
    assert ranks == set(range(1, 15))  # all of region east, ranked against each other


def test_unknown_or_hostile_entity_ids_find_nothing(online) -> None:
    assert online.values("s999", DATES[1]) == {}
    assert online.values("s001' OR '1'='1", DATES[1]) == {}


def test_latest_reads_the_history(catalogue, toy_sources) -> None:
    history = TagHistory()
    for as_of in DATES:
        history.apply(run_duckdb(catalogue, toy_sources, as_of))
    runner = OnlineTags(catalogue, toy_sources, history=history)
    assert runner.latest("s001") == runner.values("s001", DATES[1])
    assert runner.latest("nobody") == {}
    with pytest.raises(RuntimeError, match="without a history"):
        OnlineTags(catalogue, toy_sources).latest("s001")


@pytest.mark.parametrize("workers", [1, 3, 50])
def test_any_number_of_workers_gives_the_same_answer(catalogue, toy_sources, online,
                                                     workers) -> None:
    """Splitting the statement across parallel cursors is a speed choice, never a result one."""
    other = OnlineTags(catalogue, toy_sources, workers=workers)
    try:
        for shop in ("s001", "s017", "s033"):
            assert other.compute(shop, DATES[1]).table.equals(
                online.compute(shop, DATES[1]).table), (workers, shop)
    finally:
        other.close()


def test_workers_must_be_positive(catalogue, toy_sources) -> None:
    with pytest.raises(ValueError, match="workers must be ≥ 1, got 0"):
        OnlineTags(catalogue, toy_sources, workers=0)
