"""The live switch: servers change pack version without a restart, atomically, and a decision
in flight finishes on the version it started with."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xiaowei.engine.strategy import Decider, Pack
from xiaowei.strategies import LivePacks, StrategyNotFound, StrategyStore

MakePack = Callable[..., Path]
# v1 sends a case with one overdue to review (rule A002); v2 raises the threshold to 2, so the
# same case is approved. A decision's outcome therefore shows which rules it ran on.
THRESHOLD = {"tag.overdue_90d > 0": "tag.overdue_90d > 2"}
SLOW_SOURCE = {"timeout_ms: 50\n    inputs": "timeout_ms: 60000\n    inputs"}
OUTCOME = {1: "review", 2: "approve"}
CASE: dict[str, Any] = {
    "app.party_type": "company", "app.scenario": "loan", "app.amount": Decimal("300000"),
    "app.phone": "13900000000", "tag.age": 40, "tag.overdue_90d": 1,
    "tag.tax_sales_12m": Decimal("900000"),
}


class Scores:
    """A model resolver whose every model scores 0.9 (grade A)."""

    def resolve(self, ref: str) -> Callable[[Mapping[str, Any]], float]:
        return lambda variables: 0.9


def _bind(bureau: Callable[[Mapping[str, Any], float], Mapping[str, Any]] | None = None
          ) -> Callable[[Pack], Decider]:
    def bind(pack: Pack) -> Decider:
        return Decider(pack, resolver=Scores(), sources={
            "bureau": bureau or (lambda request, timeout: {"bureau.hits": 0}),
            "weather": lambda request, timeout: {"ext.index": 1}})
    return bind


def _publish(store: StrategyStore, path: Path) -> str:
    ref = store.submit(path, "zhao.min").record.ref
    store.approve(ref, "li.na")
    store.publish(ref, "chen.gang")
    return ref


def test_current_follows_publish_and_rollback(store: StrategyStore, make_pack: MakePack) -> None:
    now = [0.0]
    live = LivePacks(store, bind=_bind(), interval=10, clock=lambda: now[0])
    with pytest.raises(StrategyNotFound, match="no version"):
        live.current("example")
    _publish(store, make_pack("v1"))
    first = live.current("example")
    assert (first.ref, first.decider.decide("c", CASE).outcome) == ("example@1", "review")
    _publish(store, make_pack("v2", THRESHOLD))
    assert live.current("example") is first  # not yet due: no query, same object
    now[0] = 10
    second = live.current("example")
    assert (second.ref, second.decider.decide("c", CASE).outcome) == ("example@2", "approve")
    assert second.pack.hash == store.get("example@2").content_hash
    now[0] = 15
    assert live.current("example") is second
    store.rollback("example", "chen.gang", note="test")
    assert live.refresh("example").ref == "example@1"  # on demand, before the interval


def test_a_failed_check_keeps_deciding_on_the_version_held(
    store: StrategyStore, make_pack: MakePack
) -> None:
    _publish(store, make_pack())
    live = LivePacks(store, bind=_bind(), interval=0)
    held = live.current("example")
    store.live_version = _down  # type: ignore[method-assign]
    assert live.current("example") is held
    assert isinstance(live.last_error, ConnectionError)


def _down(name: str) -> tuple[int, str]:
    raise ConnectionError("store unreachable")


def test_decision_in_flight_finishes_on_the_version_it_started_with(
    store: StrategyStore, make_pack: MakePack
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_bureau(request: Mapping[str, Any], timeout: float) -> Mapping[str, Any]:
        entered.set()
        assert release.wait(10)
        return {"bureau.hits": 0}

    _publish(store, make_pack("v1", SLOW_SOURCE))
    live = LivePacks(store, bind=_bind(slow_bureau), interval=0)
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(
        d=live.current("example").decider.decide("slow", CASE)))
    worker.start()
    assert entered.wait(10)
    _publish(store, make_pack("v2", {**SLOW_SOURCE, **THRESHOLD}))
    switched = live.refresh("example")  # the switch happens mid-decision
    release.set()
    worker.join(10)
    v1 = store.get("example@1").content_hash
    assert (result["d"].pack, result["d"].outcome) == (v1, "review")
    assert switched.ref == "example@2" and switched.decider.decide("next", CASE).outcome == (
        "approve")


def test_decisions_during_switches_each_run_on_one_version(
    store: StrategyStore, make_pack: MakePack
) -> None:
    refs = [_publish(store, make_pack("v1"))]
    v2 = store.submit(make_pack("v2", THRESHOLD), "zhao.min").record.ref
    store.approve(v2, "li.na")
    live = LivePacks(store, bind=_bind(), interval=0.0)
    hashes = {r.content_hash: r.version for r in store.versions("example")}
    seen: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def decide() -> None:
        try:
            while not stop.is_set():
                held = live.current("example")
                decision = held.decider.decide("c", CASE, trace=False)
                seen.append((decision.pack, held.version, decision.outcome))
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=decide) for _ in range(2)]
    for w in workers:
        w.start()
    _wait_for(seen, 1)
    for _ in range(3):  # switch back and forth while the deciders run
        store.publish(v2, "chen.gang")
        live.refresh("example")
        store.rollback("example", "chen.gang", note="flip")
        live.refresh("example")
    store.publish(v2, "chen.gang")
    live.refresh("example")
    _wait_for(seen, 2)
    stop.set()
    for w in workers:
        w.join(10)
    assert errors == []
    assert {version for _, version, _ in seen} == {1, 2}, refs
    for pack_hash, version, outcome in seen:
        assert hashes[pack_hash] == version and outcome == OUTCOME[version]


def _wait_for(seen: list[tuple[str, int, str]], version: int) -> None:
    """Until a decision on ``version`` is recorded after this call (at most 10 s)."""
    start = len(seen)
    for _ in range(1000):
        if any(v == version for _, v, _ in seen[start:]):
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"no decision ran on version {version}")
