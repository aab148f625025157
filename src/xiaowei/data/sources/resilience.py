"""Guards around an online source: bounded retries with backoff, a circuit breaker, a cache.

Why: an application decision waits on outside systems (tax, courts, bureau). A slow or broken
source must cost a bounded time and then say so, never hang the decision; a source that keeps
failing must be skipped at once (fail fast) until a cool-down has passed, instead of every
application waiting out its timeouts; and the same party pulled twice within minutes (the
decision, then the manager's view) must not cost a second request.

Clocks and sleeps are injectable so that tests run in milliseconds and deterministically.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` tries; between them exponential backoff with equal jitter:
    half of min(cap, base·2ⁿ) plus a random part up to the other half."""

    max_attempts: int = 3
    backoff_s: float = 0.2
    backoff_max_s: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_s * (2 ** (attempt - 1)))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class CircuitOpen(Exception):
    """The breaker is open: the call was not made."""

    def __init__(self, failures: int, retry_in_s: float) -> None:
        self.failures, self.retry_in_s = failures, retry_in_s
        super().__init__(f"circuit open after {failures} consecutive failures; "
                         f"next try in {retry_in_s:.1f} s")


class CircuitBreaker:
    """closed → open after ``failure_threshold`` consecutive failed calls → half-open after
    ``cool_down_s``: one trial call goes through; success closes, failure opens again."""

    def __init__(self, failure_threshold: int = 5, cool_down_s: float = 30.0,
                 clock: Clock = time.monotonic) -> None:
        self.failure_threshold, self.cool_down_s, self.clock = (failure_threshold,
                                                                cool_down_s, clock)
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.cool_down_s:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise ``CircuitOpen`` unless a call may go through now."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half_open" and not self._trial_running:
                self._trial_running = True
                return
            assert self.opened_at is not None
            wait = max(0.0, self.cool_down_s - (self.clock() - self.opened_at))
            raise CircuitOpen(self.failures, wait)

    def record_success(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self._trial_running = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial_running or self.failures >= self.failure_threshold:
                self.opened_at = self.clock()
            self._trial_running = False


class ResponseCache(Generic[T]):
    """Answers kept for ``ttl_s`` seconds, at most ``max_entries`` (least recently used
    go first). Only successful answers are put in: an error must be retried next time."""

    def __init__(self, ttl_s: float = 300.0, max_entries: int = 10_000,
                 clock: Clock = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, value = item
            if self.clock() - stored_at > self.ttl_s:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: str, value: T) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._items[key] = (self.clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
