"""What operators need of the running service: liveness, readiness, metrics and request ids.

- ``GET /healthz`` — the process answers (a load balancer's liveness probe); touches nothing.
- ``GET /readyz`` — the transactional store answers ``select 1``, the analytic store opens and
  the decider is loaded: 200, else 503 naming the check that failed (a readiness probe takes
  the replica out of rotation instead of sending it applications it cannot decide).
- ``GET /metrics`` — Prometheus text, from a registry of this app's own (two apps in one
  process, as in tests, never mix their counts); for a principal with ``ops:read`` only.

:class:`RequestObserver` (pure ASGI, so it costs microseconds, not a task per request) gives
every request an id — the caller's ``X-Request-ID`` when it is well formed, else a new one —,
echoes it, counts and times the request by route template, writes its JSON log line
(:mod:`xiaowei.api.logs`) and counts the decisions the intake answers report. Why from the
answers: they are what the API actually returned (a retried submission, ``created: false``,
is not a new decision), and intake stays free of interface concerns.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from typing import Any

import duckdb
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.datastructures import MutableHeaders

from xiaowei.api.deps import require
from xiaowei.api.limits import ASGIApp, Message, Receive, Scope, Send
from xiaowei.api.logs import log_request, user_of
from xiaowei.api.problems import MEDIA_TYPE, problem_response
from xiaowei.config import Settings

REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
DECISION_PATHS = "/v1/applications"
SOURCE_FAILED = "SYS_SOURCE_FAILED"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("xiaowei_http_requests_total", "HTTP requests answered",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("xiaowei_http_request_duration_seconds",
                                 "time to answer an HTTP request", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.decisions = Counter("xiaowei_decisions_total",
                                 "applications decided through the API",
                                 ["outcome", "mode"], registry=r)
        self.source_failures = Counter(
            "xiaowei_source_failures_total",
            "decisions in which a critical data source failed (reason SYS_SOURCE_FAILED)",
            registry=r)
        self.tasks = Counter("xiaowei_tasks_opened_total",
                             "review and due-diligence tasks opened by intake", ["kind"],
                             registry=r)

    def observe_intake(self, doc: Any) -> None:
        """Count the new decisions in an intake answer (one application or a batch)."""
        if not isinstance(doc, dict):
            return
        results = doc.get("results") if isinstance(doc.get("results"), list) else [doc]
        for result in results:
            if not isinstance(result, dict) or result.get("created") is not True:
                continue
            decision = result.get("decision") or {}
            self.decisions.labels(str(decision.get("outcome")), str(decision.get("mode"))).inc()
            if any(isinstance(r, dict) and r.get("code") == SOURCE_FAILED
                   for r in decision.get("reasons") or ()):
                self.source_failures.inc()
            for task in result.get("tasks") or ():
                if isinstance(task, dict):
                    self.tasks.labels(str(task.get("kind"))).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


def _route_of(scope: Scope) -> str:
    """The matched route's template; ``-`` when nothing matched (a raw path may carry PII and
    would give Prometheus a label per URL)."""
    route = scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or "-"


def _caller_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text_value = value.decode("latin-1")
            return text_value if REQUEST_ID.fullmatch(text_value) else None
    return None


class RequestObserver:
    """Request id, metrics and the JSON log line of every HTTP request (see the module doc)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _caller_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        watch = scope["method"] == "POST" and scope["path"].startswith(DECISION_PATHS)
        status = 500
        body: list[bytes] = []

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
            elif watch and status < 300 and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route, method = _route_of(scope), scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            if body:
                with contextlib.suppress(ValueError):  # not JSON: nothing to count
                    self.metrics.observe_intake(json.loads(b"".join(body)))
            log_request(request_id=request_id, method=method, route=route, status=status,
                        ms=elapsed * 1000, user=user_of(scope.get("state")))


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


def _checks(request: Request, settings: Settings) -> dict[str, str]:
    checks: dict[str, str] = {}
    engine = getattr(request.app.state, "engine", None)
    try:
        with engine.connect() as connection:  # type: ignore[union-attr]
            connection.execute(text("select 1"))
        checks["store"] = "ok"
    except Exception as exc:  # any failure means not ready; the type says which
        checks["store"] = f"failed: {type(exc).__name__}"
    path = settings.analytic_path
    if not path.is_file():
        checks["analytic"] = "failed: the analytic store's file is missing"
    else:
        try:  # the decider's own connection is not thread-safe; a new one shares its database
            with duckdb.connect(str(path)) as connection:
                connection.execute("select 1").fetchone()
            checks["analytic"] = "ok"
        except Exception as exc:
            checks["analytic"] = f"failed: {type(exc).__name__}"
    loaded = getattr(request.app.state, "intake", None) is not None
    checks["decider"] = "ok" if loaded else "failed: not loaded"
    return checks


def ops_router(settings: Settings, metrics: Metrics) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics`` for ``settings``' stores."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health()

    @router.get("/readyz", response_model=Readiness,
                responses={503: {"description": "a dependency is not ready (a problem with "
                                 "`checks`)",
                                 "content": {MEDIA_TYPE: {"schema": {
                                     "$ref": "#/components/schemas/Problem"}}}}})
    def readyz(request: Request) -> Any:
        """Readiness: the transactional store, the analytic store and the decider."""
        checks = _checks(request, settings)
        failed = sorted(k for k, v in checks.items() if v != "ok")
        if not failed:
            return Readiness(status="ready", checks=checks)
        return problem_response(request, 503, kind="not-ready", title="服务未就绪 · not ready",
                                detail=f"not ready: {', '.join(failed)}",
                                headers={"Retry-After": "5"}, extra={"checks": checks})

    @router.get("/metrics", response_class=Response, dependencies=[require("ops:read")],
                responses={200: {"description": "Prometheus text exposition",
                                 "content": {"text/plain": {"schema": {"type": "string"}}}}})
    def prometheus() -> Response:
        """Prometheus metrics: requests, latency, decisions, source failures, tasks. Needs
        ``ops:read`` (the ``monitoring`` role's token, for the scraper): route names, volumes
        and outcomes describe the bank's business and are not for anyone on the intranet."""
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_ops(app: FastAPI, settings: Settings) -> Metrics:
    """Add the operations routes and the request observer (outermost, so that refused bodies
    and errors are counted and logged too)."""
    metrics = Metrics()
    app.state.metrics = metrics
    app.include_router(ops_router(settings, metrics))
    app.add_middleware(RequestObserver, metrics=metrics)
    return metrics


__all__ = ["Metrics", "RequestObserver", "install_ops", "ops_router"]
