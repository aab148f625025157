"""An online source behind HTTP: one party's records, pulled at application time.

Protocol (what the bank's gateway to each outside source answers):
``GET <url>?uscc=…&name=…`` — only the identifiers the source's contract matches on — returns
``200`` with ``{"rows": [{column: value, …}, …]}``; no records is ``{"rows": []}``.

Behaviour, and why: each attempt has the source's own timeout; timeouts, dropped connections,
HTTP 5xx and 429 are retried a bounded number of times with backoff and jitter, anything else
fails at once; a circuit breaker stops calling a source that keeps failing; a fresh cached
answer is served without a request (even while the circuit is open); errors are never
cached. A payload that is not the agreed JSON fails the pull as ``malformed_payload``; a row
with a bad value, or one about another party, is quarantined and the rest are kept. Every
failure is ``SourceUnavailable`` naming the source and the cause, so the caller can route the
application to manual review and say which source failed.

No secrets live in config: ``token_env`` names an environment variable read per request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator

from xiaowei.data.sources.connector import (
    Connector,
    NotSupported,
    PartyKey,
    SourceRows,
    SourceUnavailable,
    party_mask,
    require_key,
)
from xiaowei.data.sources.contract import SourceContract
from xiaowei.data.sources.resilience import CircuitBreaker, CircuitOpen, ResponseCache, RetryPolicy
from xiaowei.data.sources.text import records_as_text
from xiaowei.data.sources.validate import check_rows, split

log = logging.getLogger(__name__)
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class HttpSourceConfig(BaseModel):
    """Connection settings of one online source (defaults suit an application decision)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["http"] = "http"
    url: str
    timeout_s: float = Field(default=3.0, gt=0, le=60)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=0.2, ge=0, le=30)
    backoff_max_s: float = Field(default=2.0, ge=0, le=60)
    failure_threshold: int = Field(default=5, ge=1, le=1000)
    cool_down_s: float = Field(default=30.0, ge=0, le=3600)
    cache_ttl_s: float = Field(default=300.0, ge=0, le=86_400)
    cache_max_entries: int = Field(default=10_000, ge=1)
    max_response_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"url must be http(s)://host/…, got {value!r}")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials; use token_env")
        return value


class _Failed(Exception):
    """One attempt failed; ``retry`` says whether another attempt may help."""

    def __init__(self, cause: str, detail: str, retry: bool) -> None:
        self.cause, self.detail, self.retry = cause, detail, retry
        super().__init__(detail)


class HttpConnector(Connector):
    """Online pulls from an HTTP source, guarded by timeout, retries, breaker and cache."""

    type_name = "http"
    config_model = HttpSourceConfig

    def __init__(self, name: str, contract: SourceContract, config: HttpSourceConfig, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.name, self.contract, self.config = name, contract, config
        self.retry = RetryPolicy(config.max_attempts, config.backoff_s, config.backoff_max_s)
        self.breaker = CircuitBreaker(config.failure_threshold, config.cool_down_s, clock)
        self.cache: ResponseCache[SourceRows] = ResponseCache(
            config.cache_ttl_s, config.cache_max_entries, clock)
        self._sleep, self._rng = sleep, rng or random.Random()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.requests_sent = 0

    @classmethod
    def from_config(cls, name: str, contract: SourceContract, config: Any,
                    base_dir: Any = None) -> HttpConnector:
        return cls(name, contract, HttpSourceConfig.model_validate(config))

    def bulk(self, start: dt.date | None = None, end: dt.date | None = None
             ) -> Iterator[SourceRows]:
        raise NotSupported(f"source {self.name!r} is an online HTTP source: bulk loads come "
                           "from its file delivery (parquet, csv or jsonl connector)")

    def online(self, key: PartyKey) -> SourceRows:
        wanted = require_key(self.contract, key)
        cache_key = json.dumps(wanted, sort_keys=True, ensure_ascii=False)
        cached = self.cache.get(cache_key)
        if cached is not None:
            return dataclasses.replace(cached, from_cache=True)
        try:
            self.breaker.before_call()
        except CircuitOpen as exc:
            raise SourceUnavailable(self.name, "circuit_open", str(exc)) from None
        try:
            payload = self._fetch(wanted)
            rows = self._rows(payload, key)
        except _Failed as exc:
            self.breaker.record_failure()
            raise SourceUnavailable(self.name, exc.cause, exc.detail) from None
        self.breaker.record_success()
        self.cache.put(cache_key, rows)
        return rows

    def _fetch(self, wanted: dict[str, str]) -> bytes:
        attempts = self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(wanted)
            except _Failed as exc:
                log.warning("source %s attempt %d/%d failed: %s", self.name, attempt,
                            attempts, exc.cause)
                if not exc.retry or attempt == attempts:
                    tries = f" after {attempt} attempt{'s' if attempt > 1 else ''}"
                    raise _Failed(exc.cause, exc.detail + tries, False) from None
                self._sleep(self.retry.delay(attempt, self._rng))
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, wanted: dict[str, str]) -> bytes:
        query = urllib.parse.urlencode(sorted(wanted.items()))
        sep = "&" if urllib.parse.urlsplit(self.config.url).query else "?"
        request = urllib.request.Request(f"{self.config.url}{sep}{query}",
                                         headers={"Accept": "application/json"})
        if self.config.token_env:
            token = os.environ.get(self.config.token_env)
            if not token:
                raise _Failed("configuration", f"{self.config.token_env} is not set", False)
            request.add_header("Authorization", f"Bearer {token}")
        self.requests_sent += 1
        limit = self.config.max_response_bytes
        try:
            with self._opener.open(request, timeout=self.config.timeout_s) as response:
                body = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raise _Failed("http_error", f"HTTP {exc.code}", exc.code in _RETRYABLE_STATUS
                          ) from None
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException,
                ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise _Failed("timeout", f"timed out ({self.config.timeout_s:g} s per "
                              "attempt)", True) from None
            raise _Failed("connection", f"connection failed ({type(reason).__name__})",
                          True) from None
        if len(body) > limit:
            raise _Failed("malformed_payload", f"response larger than {limit} bytes", False)
        return body

    def _rows(self, body: bytes, key: PartyKey) -> SourceRows:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _Failed("malformed_payload", f"not JSON ({exc})", False) from None
        records = payload.get("rows") if isinstance(payload, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise _Failed("malformed_payload", 'expected {"rows": [objects]}', False)
        raw = records_as_text(records)
        check = check_rows(self.contract, raw)
        if raw.num_rows:
            other = pc.and_(pc.invert(party_mask(self.contract, raw, key)),
                            pc.is_null(check.reason))
            check.reason = pc.if_else(other, "row is not about the requested party",
                                      check.reason)
            check.column = pc.if_else(other, "party_keys", check.column)
        result = split(self.contract, check)
        return SourceRows(self.name, result.accepted, result.quarantined,
                          extra_columns=check.extra_columns)
