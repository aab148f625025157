"""History: compact intervals, as_of reads equal to the runs, change events, idempotence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from xiaowei.engine.tags import DuckDBTagRunner, TagHistory

DAYS = [dt.date(2024, 2, 1) + dt.timedelta(days=i) for i in range(0, 30, 3)]
KNOWN = dt.datetime(2024, 3, 31, 8)


@pytest.fixture(scope="module")
def runs(catalogue, toy_sources):
    with DuckDBTagRunner(catalogue, toy_sources) as runner:
        return [runner.run(day) for day in DAYS]


@pytest.fixture
def history(runs, tmp_path):
    store = TagHistory(tmp_path / "history.duckdb")
    for result in runs:
        store.apply(result, known_at=KNOWN)
    yield store
    store.close()


def snapshot(result) -> dict[tuple[str, str], str | None]:
    return {(r["entity_id"], r["tag"]): r["value_text"] for r in result.table.to_pylist()}


def test_as_of_reads_back_every_run_exactly(history, runs) -> None:
    for result in runs:
        assert history.as_of(result.as_of).equals(result.table), result.as_of


def test_between_runs_the_last_run_holds(history, runs) -> None:
    between = history.as_of(DAYS[2] + dt.timedelta(days=1))
    assert between.drop_columns(["as_of"]).equals(runs[2].table.drop_columns(["as_of"]))
    assert history.as_of(DAYS[0] - dt.timedelta(days=1)).num_rows == 0


def test_intervals_are_compact(history, runs) -> None:
    total = sum(r.table.num_rows for r in runs)
    snaps = [snapshot(r) for r in runs]
    # every run after the first opens one interval per value that is new or different
    changes = sum(
        sum(1 for k, v in b.items() if k not in a or a[k] != v)
        for a, b in itertools.pairwise(snaps)
    )
    assert history.row_count() == runs[0].table.num_rows + changes
    assert history.row_count() < total
    # a value that never changes is stored once, however many runs saw it
    regions = history.changes(DAYS[0], DAYS[-1], tags=["region_name"])
    assert [c.kind for c in regions] == ["appeared"] * len(regions) == ["appeared"] * 39


def test_changes_are_the_differences_between_runs(history, runs) -> None:
    expected = []
    for before, after in itertools.pairwise(runs):
        a, b = snapshot(before), snapshot(after)
        for key in sorted(a.keys() | b.keys()):
            if key not in a:
                expected.append((after.as_of, *key, None, b[key], "appeared"))
            elif key not in b:
                expected.append((after.as_of, *key, a[key], None, "disappeared"))
            elif a[key] != b[key]:
                expected.append((after.as_of, *key, a[key], b[key], "changed"))
    got = [
        (c.on, c.entity_id, c.tag, c.old, c.new, c.kind) for c in history.changes(DAYS[1], DAYS[-1])
    ]
    assert got == sorted(expected, key=lambda e: (e[0], e[1], e[2]))
    assert any(kind == "changed" for *_, kind in got)
    first = next(c for c in history.changes(DAYS[1], DAYS[-1]) if c.kind == "changed")
    assert first.describe() == (
        f"tag {first.tag} of entity {first.entity_id} changed from "
        f"{first.old} to {first.new} on {first.on}"
    )
    only = history.changes(DAYS[1], DAYS[-1], tags=["order_count_30d"])
    assert only and {c.tag for c in only} == {"order_count_30d"}


def test_applying_the_same_as_of_twice_changes_nothing(history, runs) -> None:
    rows = history.row_count()
    assert history.apply(runs[-1]) == 0
    assert history.row_count() == rows


def test_history_is_append_only(history, runs, catalogue, toy_sources) -> None:
    with pytest.raises(ValueError, match="cannot apply the earlier as-of"):
        history.apply(runs[0])
    with DuckDBTagRunner(catalogue, toy_sources) as runner:
        other = runner.run(DAYS[-1] + dt.timedelta(days=40))
    relabelled = dataclasses.replace(other, as_of=DAYS[-1])
    with pytest.raises(ValueError, match="already applied with a different result"):
        history.apply(relabelled)


def test_a_partial_run_leaves_other_tags_alone(runs, catalogue, toy_sources) -> None:
    store = TagHistory()
    store.apply(runs[0])
    with DuckDBTagRunner(catalogue, toy_sources) as runner:
        partial = runner.run(DAYS[5], ["order_count_30d"])
    store.apply(partial)
    later = store.as_of(DAYS[5])
    by_tag: dict[str, dict[str, str | None]] = {}
    for row in later.to_pylist():
        by_tag.setdefault(row["tag"], {})[row["entity_id"]] = row["value_text"]
    assert by_tag["order_count_30d"] == {
        e: v for (e, t), v in snapshot(partial).items() if t == "order_count_30d"
    }
    assert by_tag["avg_delivery_days"] == {
        e: v for (e, t), v in snapshot(runs[0]).items() if t == "avg_delivery_days"
    }


def test_schema_name_is_validated() -> None:
    with pytest.raises(ValueError, match="schema must match"):
        TagHistory(schema="tags; DROP TABLE x")


def test_latest_follows_each_apply(runs) -> None:
    store = TagHistory()
    assert store.latest("s001") == {}
    store.apply(runs[0])
    assert store.latest("s001") == runs[0].values("s001")
    store.apply(runs[-1])
    assert store.latest("s001") == runs[-1].values("s001") != runs[0].values("s001")
    assert store.latest("nobody") == {}
