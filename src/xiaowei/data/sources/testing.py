"""A fake online source server, for tests and demos: serves parties' records from sim tables.

Why in the package rather than under tests: the demo shows what happens to an application
when the court gateway is slow or down, and it needs the same switchable faults the tests
use. It binds to a loopback address only, on an ephemeral port, in a background thread; every
injected delay is bounded and cut short when the server stops.

Faults, set on ``server.faults`` at any time: ``latency_s`` (sleep before answering),
``fail_next`` (answer HTTP ``fail_status`` to the next N requests), ``drop_next`` (close the
next N connections without an answer), ``malformed`` ('json': a cut-off body, 'shape': JSON
without ``rows``, 'rows': the first row's typed value replaced by text, 'other_party': a row
about someone else added).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.data.sources.connector import PartyKey, PartyKeyError, party_mask
from xiaowei.data.sources.contract import PARTY_KEY_FIELDS, SourceContract

LOOPBACK = ("127.0.0.1", "::1", "localhost")
MAX_LATENCY_S = 10.0


@dataclass
class Faults:
    """What the server does wrong; all off by default."""

    latency_s: float = 0.0
    fail_next: int = 0
    fail_status: int = 500
    drop_next: int = 0
    malformed: str | None = None


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class FakeSourceServer:
    """Serve ``GET /<source>?<key>=<value>`` from in-memory tables, with faults on demand."""

    def __init__(self, tables: dict[str, pa.Table], contracts: dict[str, SourceContract],
                 host: str = "127.0.0.1") -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the fake source server binds to loopback only, not {host!r}")
        self.tables, self.contracts, self.host = tables, contracts, host
        self.faults = Faults()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return int(self._server.server_address[1])

    def url(self, source: str) -> str:
        return f"http://{self.host}:{self.port}/{source}"

    def start(self) -> FakeSourceServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer((self.host, 0), handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={
            "poll_interval": 0.05}, name="fake-source-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSourceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take(self, source: str) -> tuple[str | None, Faults]:
        """Count the request and decide (atomically) which fault, if any, it meets."""
        with self._lock:
            self.requests[source] += 1
            faults = Faults(**vars(self.faults))
            if self.faults.drop_next > 0:
                self.faults.drop_next -= 1
                return "drop", faults
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return "fail", faults
        return None, faults

    def answer(self, source: str, params: dict[str, str], malformed: str | None
               ) -> tuple[int, bytes]:
        """Status and body for one request."""
        table, contract = self.tables.get(source), self.contracts.get(source)
        if table is None or contract is None:
            return 404, b'{"error": "no such source"}'
        refs = {k: v for k, v in params.items() if k not in PARTY_KEY_FIELDS}
        key = PartyKey(**{k: params.get(k) for k in PARTY_KEY_FIELDS}, refs=refs)
        try:
            mask = party_mask(contract, table, key)
        except PartyKeyError as exc:
            return 400, json.dumps({"error": str(exc)}).encode()
        rows = [{k: _json_value(v) for k, v in r.items()} for r in table.filter(mask).to_pylist()]
        if malformed == "json":
            return 200, json.dumps({"rows": rows}, ensure_ascii=False).encode()[:-7]
        if malformed == "shape":
            return 200, json.dumps({"data": rows}, ensure_ascii=False).encode()
        if malformed == "rows" and rows:
            typed = [c.name for c in contract.columns if c.type not in {"string"}]
            if typed:
                rows[0][typed[0]] = "不是数值 not a value"
        if malformed == "other_party":
            others = table.filter(pc.invert(mask)).slice(0, 1).to_pylist()
            rows += [{k: _json_value(v) for k, v in r.items()} for r in others]
        return 200, json.dumps({"rows": rows}, ensure_ascii=False).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSourceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        source = parts.path.strip("/")
        fault, faults = self.fake._take(source)
        if faults.latency_s > 0:
            self.fake._stopping.wait(min(faults.latency_s, MAX_LATENCY_S))
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "fail":
            status, body = faults.fail_status, b'{"error": "injected failure"}'
        else:
            status, body = self.fake.answer(source, dict(parse_qsl(parts.query)),
                                            faults.malformed)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
