"""Operations: liveness, readiness (and 503 when the store is gone), Prometheus metrics after
decisions, request ids echoed and logged as JSON lines without personal data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api_support import OPS_USER, bank_settings, bearer_headers, model_dirs

from xiaowei.api import create_app
from xiaowei.api.logs import JsonFormatter
from xiaowei.store.database import make_engine


@pytest.fixture
def client(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[TestClient]:
    app = create_app(bank_settings(pipeline_store, pipeline_bank),
                     model_dirs=model_dirs(pipeline_bank))
    with TestClient(app) as c:
        c.headers.update(bearer_headers(c, pipeline_store))
        yield c


@pytest.fixture
def template(pipeline_bank: dict[str, Any]) -> dict[str, Any]:
    return dict(pipeline_bank["apps"][0])


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records
            if r.name == "xiaowei.api.access"]


def test_healthz_and_request_ids(client: TestClient) -> None:
    res = client.get("/healthz")
    assert res.status_code == 200 and res.json() == {"status": "ok"}
    generated = res.headers["X-Request-ID"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    mine = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"})
    assert mine.headers["X-Request-ID"] == "lb-7f3a.1"
    for bad in ("a b", "x" * 65, "<script>"):
        echoed = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32


def test_readyz_is_200_then_503_naming_the_store_when_it_is_gone(
        client: TestClient, tmp_path: Any) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready",
                            "checks": {"store": "ok", "analytic": "ok", "decider": "ok"}}
    state = client.app.state  # type: ignore[attr-defined]
    real = state.engine
    state.engine = make_engine(f"sqlite:///{tmp_path}")  # a folder: cannot open
    try:
        res = client.get("/readyz")
    finally:
        state.engine.dispose()
        state.engine = real
    assert res.status_code == 503 and res.headers["content-type"] == "application/problem+json"
    doc = res.json()
    assert doc["checks"]["store"].startswith("failed: ") and doc["checks"]["decider"] == "ok"
    assert doc["detail"] == "not ready: store" and res.headers["Retry-After"] == "5"
    assert client.get("/readyz").status_code == 200


def test_metrics_count_requests_decisions_and_source_failures(
        client: TestClient, template: dict[str, Any]) -> None:
    first = client.post("/v1/applications", json={**template, "application_id": "M-1"})
    assert first.status_code == 201, first.text
    decision = first.json()["decision"]
    client.post("/v1/applications", json={**template, "application_id": "M-1"})  # a retry
    tags = client.app.state.intake.decider  # type: ignore[attr-defined]

    def failing(_party: str, _day: Any) -> Any:
        raise TimeoutError("bureau did not answer")

    real, tags.tags = tags.tags, failing
    try:
        failed = client.post("/v1/applications", json={**template, "application_id": "M-2"})
    finally:
        tags.tags = real
    assert failed.status_code == 201
    assert "SYS_SOURCE_FAILED" in {r["code"] for r in failed.json()["decision"]["reasons"]}
    res = client.get("/metrics")  # the admin's token holds ops:read
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    text = res.text
    assert ('xiaowei_http_requests_total{method="POST",route="/v1/applications",'
            'status="201"} 2.0') in text
    assert ('xiaowei_http_requests_total{method="POST",route="/v1/applications",'
            'status="200"} 1.0') in text
    assert ('xiaowei_http_request_duration_seconds_count{method="POST",'
            'route="/v1/applications"} 3.0') in text
    assert "xiaowei_source_failures_total 1.0" in text
    assert (f'xiaowei_decisions_total{{mode="{decision["mode"]}",'
            f'outcome="{decision["outcome"]}"}}') in text
    total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("xiaowei_decisions_total{"))
    assert total == 2.0  # the retry decided nothing
    opened = [t["kind"] for r in (first, failed) for t in r.json()["tasks"]]
    for kind in set(opened):
        assert f'xiaowei_tasks_opened_total{{kind="{kind}"}} {opened.count(kind)}.0' in text
    assert opened  # the failed source sends the case to review: a task was opened


def test_each_request_is_one_json_log_line_without_personal_data(
        client: TestClient, template: dict[str, Any],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="xiaowei")
    name, id_number, phone = "张三丰", "110101199003077777", "13800138000"
    res = client.post(f"/v1/applications?phone={phone}",
                      json={**template, "application_id": "LOG-1", "name": name,
                            "id_number": id_number, "phone": phone},
                      headers={"X-Request-ID": "req-pii-1"})
    assert res.status_code == 422 and res.headers["X-Request-ID"] == "req-pii-1"
    client.get(f"/v1/applications/{id_number}", headers={"X-Request-ID": "req-pii-2"})
    lines = access_lines(caplog)
    by_id = {line["request_id"]: line for line in lines}
    post, get = by_id["req-pii-1"], by_id["req-pii-2"]
    assert post["method"] == "POST" and post["route"] == "/v1/applications"
    assert post["status"] == 422 and post["ms"] >= 0 and post["level"] == "info"
    assert post["user"] == OPS_USER and {"ts", "logger"} <= set(post)
    assert get["route"] == "/v1/applications/{application_id}" and get["status"] == 404
    every = caplog.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in (name, id_number, phone):
        assert secret not in every


def test_metrics_need_ops_read_the_monitoring_role_holds_it(
        client: TestClient, pipeline_store: Engine) -> None:
    anonymous = client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    analyst = bearer_headers(client, pipeline_store, name="ops.analyst", role="risk_analyst")
    refused = client.get("/metrics", headers=analyst)
    assert refused.status_code == 403 and "ops:read" in refused.text
    scraper = bearer_headers(client, pipeline_store, name="prometheus", role="monitoring")
    scraped = client.get("/metrics", headers=scraper)
    assert scraped.status_code == 200 and "xiaowei_http_requests_total" in scraped.text
    assert client.get("/v1/applications/NOPE", headers=scraper).status_code == 403
