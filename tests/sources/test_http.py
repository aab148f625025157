"""The HTTP connector against a local fake source: retries, breaker, cache, bad payloads."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pyarrow.compute as pc
import pytest

from xiaowei.data.sources import (
    HttpConnector,
    HttpSourceConfig,
    NotSupported,
    ParquetConnector,
    PartyKey,
    SourceContract,
    SourceUnavailable,
)
from xiaowei.data.sources.resilience import RetryPolicy
from xiaowei.data.sources.testing import FakeSourceServer
from xiaowei.sim import SimResult


class FakeClock:
    """Monotonic time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(fake_server: FakeSourceServer, contracts: dict[str, SourceContract],
            clock: FakeClock, sleeps: list[float]) -> Callable[..., HttpConnector]:
    """An HTTP connector to the fake server, with short timeouts and a recorded backoff."""

    def make(source: str = "court_cases", **settings: object) -> HttpConnector:
        config = HttpSourceConfig.model_validate({
            "url": fake_server.url(source), "timeout_s": 0.15, "max_attempts": 3,
            "failure_threshold": 3, "cool_down_s": 30, "cache_ttl_s": 60, **settings})
        return HttpConnector(source, contracts[source], config, clock=clock,
                             sleep=sleeps.append, rng=random.Random(7))

    return make


@pytest.fixture
def party(fake_server: FakeSourceServer) -> PartyKey:
    """A party with at least one court case carrying its id."""
    cases = fake_server.tables["court_cases"]
    party_id = cases.filter(pc.is_valid(cases.column("party_id"))).column("party_id")[0]
    return PartyKey(uscc=party_id.as_py())


def test_online_pull_equals_the_file_pull(connect: Callable[..., HttpConnector], party: PartyKey,
                                          fake_server: FakeSourceServer, tiny_sim: SimResult,
                                          contracts: dict[str, SourceContract]) -> None:
    rows = connect().online(party)
    path = Path(tiny_sim.out) / "raw" / "court_cases.parquet"
    from_file = ParquetConnector("court_cases", contracts["court_cases"], path).online(party)
    assert rows.accepted.num_rows > 0 and rows.quarantined.num_rows == 0
    assert rows.accepted.equals(from_file.accepted)
    assert fake_server.requests["court_cases"] == 1


def test_cache_hit_avoids_a_request_until_it_expires(connect: Callable[..., HttpConnector],
                                                     party: PartyKey, clock: FakeClock,
                                                     fake_server: FakeSourceServer) -> None:
    connector = connect()
    first = connector.online(party)
    again = connector.online(PartyKey(uscc=party.uscc, phone="not matched by court_cases"))
    assert again.from_cache and not first.from_cache
    assert again.accepted.equals(first.accepted)
    assert fake_server.requests["court_cases"] == 1
    clock.now += 61
    assert not connector.online(party).from_cache
    assert fake_server.requests["court_cases"] == 2


def test_timeouts_are_retried_then_name_the_source(connect: Callable[..., HttpConnector],
                                                   party: PartyKey, sleeps: list[float],
                                                   fake_server: FakeSourceServer) -> None:
    fake_server.faults.latency_s = 1.0
    with pytest.raises(SourceUnavailable) as caught:
        connect().online(party)
    error = caught.value
    assert (error.source, error.cause) == ("court_cases", "timeout")
    assert "'court_cases'" in str(error) and "after 3 attempts" in str(error)
    assert fake_server.requests["court_cases"] == 3
    assert len(sleeps) == 2 and 0.1 <= sleeps[0] <= 0.2 and 0.2 <= sleeps[1] <= 0.4


def test_server_errors_are_retried_and_not_cached(connect: Callable[..., HttpConnector],
                                                  party: PartyKey,
                                                  fake_server: FakeSourceServer) -> None:
    connector = connect()
    fake_server.faults.fail_next = 2
    assert connector.online(party).accepted.num_rows > 0
    assert fake_server.requests["court_cases"] == 3
    other = PartyKey(name="某某")
    fake_server.faults.fail_next = 3
    with pytest.raises(SourceUnavailable, match=r"HTTP 500 after 3 attempts"):
        connector.online(other)
    connector.online(other)  # the error was not cached: a new request is made
    assert fake_server.requests["court_cases"] == 7


def test_client_errors_are_not_retried(connect: Callable[..., HttpConnector], party: PartyKey,
                                       fake_server: FakeSourceServer) -> None:
    fake_server.faults.fail_next, fake_server.faults.fail_status = 1, 403
    with pytest.raises(SourceUnavailable, match=r"HTTP 403 after 1 attempt$"):
        connect().online(party)
    assert fake_server.requests["court_cases"] == 1


def test_dropped_connections(connect: Callable[..., HttpConnector], party: PartyKey,
                             fake_server: FakeSourceServer) -> None:
    fake_server.faults.drop_next = 1
    assert connect().online(party).accepted.num_rows > 0
    assert fake_server.requests["court_cases"] == 2, "the dropped call was retried"
    fake_server.faults.drop_next = 5
    with pytest.raises(SourceUnavailable) as caught:
        connect(cache_ttl_s=0).online(party)
    assert caught.value.cause == "connection"


def test_circuit_opens_fails_fast_and_half_opens(connect: Callable[..., HttpConnector],
                                                 party: PartyKey, clock: FakeClock,
                                                 fake_server: FakeSourceServer) -> None:
    connector = connect(max_attempts=1, failure_threshold=2, cool_down_s=30)
    connector.online(party)  # cached before the source breaks
    fake_server.faults.fail_next = 100
    for name in ("甲", "乙"):
        with pytest.raises(SourceUnavailable, match="http_error"):
            connector.online(PartyKey(name=name))
    assert connector.breaker.state == "open"
    with pytest.raises(SourceUnavailable) as caught:
        connector.online(PartyKey(name="丙"))
    assert caught.value.cause == "circuit_open" and "court_cases" in str(caught.value)
    assert fake_server.requests["court_cases"] == 3, "fail fast: no request while open"
    assert connector.online(party).from_cache, "a fresh cached answer still serves"
    clock.now += 30
    assert connector.breaker.state == "half_open"
    with pytest.raises(SourceUnavailable, match="http_error"):
        connector.online(PartyKey(name="丁"))  # the trial call fails: open again
    assert connector.breaker.state == "open"
    assert fake_server.requests["court_cases"] == 4
    clock.now += 30
    fake_server.faults.fail_next = 0
    assert connector.online(PartyKey(name="戊")).accepted.num_rows == 0
    assert connector.breaker.state == "closed"


@pytest.mark.parametrize("kind", ["json", "shape"])
def test_a_malformed_payload_fails_the_pull_at_once(connect: Callable[..., HttpConnector],
                                                    party: PartyKey, kind: str,
                                                    fake_server: FakeSourceServer) -> None:
    fake_server.faults.malformed = kind
    with pytest.raises(SourceUnavailable) as caught:
        connect().online(party)
    assert (caught.value.source, caught.value.cause) == ("court_cases", "malformed_payload")
    assert fake_server.requests["court_cases"] == 1


def test_bad_rows_and_other_parties_rows_are_quarantined(
        connect: Callable[..., HttpConnector], party: PartyKey,
        fake_server: FakeSourceServer) -> None:
    good = connect(cache_ttl_s=0)
    expected = good.online(party).accepted.num_rows
    fake_server.faults.malformed = "rows"
    rows = good.online(party)
    assert rows.accepted.num_rows == expected - 1
    (bad,) = rows.quarantined.to_pylist()
    assert (bad["row_number"], bad["column"], bad["reason"]) == (1, "claim_amount",
                                                                "not a number")
    fake_server.faults.malformed = "other_party"
    rows = good.online(party)
    assert rows.accepted.num_rows == expected
    assert rows.quarantined.column("reason").to_pylist() == [
        "row is not about the requested party"]


def test_bulk_is_not_supported_and_secrets_stay_out(connect: Callable[..., HttpConnector],
                                                    party: PartyKey,
                                                    fake_server: FakeSourceServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotSupported, match="court_cases"):
        next(iter(connect().bulk()))
    monkeypatch.delenv("XIAOWEI_TEST_COURT_TOKEN", raising=False)
    connector = connect(token_env="XIAOWEI_TEST_COURT_TOKEN")
    with pytest.raises(SourceUnavailable, match="XIAOWEI_TEST_COURT_TOKEN is not set"):
        connector.online(party)
    assert fake_server.requests["court_cases"] == 0
    monkeypatch.setenv("XIAOWEI_TEST_COURT_TOKEN", "t0ken")
    assert connector.online(party).accepted.num_rows > 0
    with pytest.raises(ValueError, match="loopback"):
        FakeSourceServer({}, {}, host="0.0.0.0")


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    policy = RetryPolicy(max_attempts=6, backoff_s=0.2, backoff_max_s=1.0)
    rng = random.Random(1)
    delays = [[policy.delay(attempt, rng) for attempt in range(1, 6)] for _ in range(50)]
    for attempt, ceiling in enumerate([0.2, 0.4, 0.8, 1.0, 1.0]):
        seen = [d[attempt] for d in delays]
        assert all(ceiling / 2 <= d <= ceiling for d in seen)
        assert max(seen) - min(seen) > ceiling / 10, "jitter spreads the retries"
