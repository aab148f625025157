"""Every API error is RFC 9457 problem+json; bad input gets a clear 4xx and stores nothing."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.api_support import bank_settings, bearer_headers, model_dirs, stored_counts

from xiaowei.api import create_app
from xiaowei.api.limits import BodyLimit
from xiaowei.api.logs import JsonFormatter
from xiaowei.api.ops import install_ops
from xiaowei.api.problems import MEDIA_TYPE, install_problem_handlers
from xiaowei.config import Settings
from xiaowei.store.tables import Application, DecisionLog

MAX_BODY = 64 * 1024


@pytest.fixture
def client(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[TestClient]:
    app = create_app(bank_settings(pipeline_store, pipeline_bank),
                     model_dirs=model_dirs(pipeline_bank), max_body_bytes=MAX_BODY)
    with TestClient(app) as c:
        c.headers.update(bearer_headers(c, pipeline_store))
        yield c


@pytest.fixture
def template(pipeline_bank: dict[str, Any]) -> dict[str, Any]:
    return dict(pipeline_bank["apps"][0])


def assert_problem(res: Any, status: int) -> dict[str, Any]:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith(MEDIA_TYPE)
    doc = res.json()
    assert doc["status"] == status and doc["title"] and doc["type"]
    assert doc["instance"].startswith("/")
    assert doc["request_id"] == res.headers["X-Request-ID"]
    return doc


def test_every_error_path_is_a_problem(client: TestClient, template: dict[str, Any]) -> None:
    missing = assert_problem(client.get("/v1/applications/NOPE"), 404)
    assert "NOPE" in missing["detail"] and missing["type"] == "about:blank"
    assert missing["instance"] == "/v1/applications/NOPE"
    assert_problem(client.get("/no/such/route"), 404)
    forged = client.get("/v1/applications/NOPE", headers={"Authorization": "Bearer forged"})
    assert_problem(forged, 401)
    assert forged.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(client.delete("/v1/applications"), 405)
    invalid = assert_problem(client.post("/v1/applications", json={"party_id": "P1"}), 422)
    assert invalid["type"].endswith("invalid-application") and len(invalid["problems"]) >= 5
    unknown = assert_problem(client.post("/v1/applications",
                                         json={**template, "application_id": "PB-1",
                                               "party_id": "P-NOBODY"}), 422)
    assert unknown["type"].endswith("unknown-party") and "P-NOBODY" in unknown["detail"]
    body = {**template, "application_id": "PB-2"}
    assert client.post("/v1/applications", json=body).status_code == 201
    conflict = assert_problem(client.post("/v1/applications", json={**body, "amount": 7}), 409)
    assert "different payload" in conflict["detail"]
    not_list = assert_problem(client.post("/v1/applications/batch", json={"a": 1}), 422)
    assert not_list["type"].endswith("invalid-request") and not_list["problems"]
    broken = assert_problem(client.post("/v1/applications", content=b"{not json",
                                        headers={"content-type": "application/json"}), 422)
    assert "JSON" in broken["problems"][0]


def test_a_500_says_nothing_of_the_cause_but_logs_the_request_id(
        tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    secret = "110101199003077777 张三 password=hunter2"

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(secret)

    install_problem_handlers(app)
    install_ops(app, Settings(home=tmp_path, database_url="sqlite://",
                              analytic_path=tmp_path / "none.duckdb"))
    caplog.set_level(logging.INFO, logger="xiaowei")
    with TestClient(app, raise_server_exceptions=False) as c:
        res = c.get("/boom", headers={"X-Request-ID": "req-500"})
    doc = assert_problem(res, 500)
    assert doc["request_id"] == "req-500" and secret not in res.text
    assert "hunter2" not in res.text and "RuntimeError" not in res.text
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert any("req-500" in line and "RuntimeError" in line for line in lines)
    access = [json.loads(line) for line in lines if '"route"' in line]
    assert access[-1]["status"] == 500 and access[-1]["request_id"] == "req-500"
    assert all("hunter2" not in line and "110101199003077777" not in line for line in lines)


def test_oversized_body_is_413_and_nothing_is_stored(client: TestClient, template: dict[str, Any],
                                                     pipeline_store: Engine) -> None:
    before = stored_counts(pipeline_store)
    huge = {**template, "application_id": "PB-BIG", "product_intent": "x" * (MAX_BODY + 10)}
    doc = assert_problem(client.post("/v1/applications", json=huge), 413)
    assert f"{MAX_BODY:,}" in doc["detail"]
    rows = [{**template, "application_id": f"PB-B{i}"} for i in range(600)]
    assert_problem(client.post("/v1/applications/batch", json=rows), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield json.dumps(huge).encode()[:40_000]
        yield json.dumps(huge).encode()[40_000:]

    streamed = client.post("/v1/applications", content=chunks(),
                           headers={"content-type": "application/json"})
    assert_problem(streamed, 413)
    assert stored_counts(pipeline_store) == before


def test_body_limit_refuses_a_bad_setting() -> None:
    with pytest.raises(ValueError, match="max_bytes must be at least 1, got 0"):
        BodyLimit(FastAPI(), 0)


def test_wrong_types_are_422_listing_each_field(client: TestClient, template: dict[str, Any],
                                                pipeline_store: Engine) -> None:
    before = stored_counts(pipeline_store)
    wrong = {"application_id": 5, "party_id": ["P1"], "party_type": {"a": 1},
             "product_intent": 1.5, "channel": True, "amount": "abc", "applied_on": "yesterday",
             "term_months": "12", "declared_revenue": "lots", "employees": -3}
    doc = assert_problem(client.post("/v1/applications", json=wrong), 422)
    fields = {p.split(":")[0] for p in doc["problems"]}
    assert fields == set(wrong)
    batch = client.post("/v1/applications/batch", json=[wrong])
    assert batch.status_code == 200 and batch.json()["refused"] == 1
    header = assert_problem(client.post("/v1/applications", json=template,
                                        headers={"X-Automated-Ok": "perhaps"}), 422)
    assert any("X-Automated-Ok" in p for p in header["problems"])
    after = stored_counts(pipeline_store)
    assert after["quarantined_row"] == before["quarantined_row"] + 1  # the batch keeps it
    assert {k: v for k, v in after.items() if k != "quarantined_row"} == \
        {k: v for k, v in before.items() if k != "quarantined_row"}


INJECTIONS = ("x'; DROP TABLE application; --", "' OR '1'='1", "<script>alert(1)</script>",
              "<img src=x onerror=alert(1)>")
TEXT_FIELDS = ("application_id", "party_id", "party_type", "product_intent", "channel")


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_injection_in_every_text_field_is_refused_or_stored_verbatim(
        client: TestClient, template: dict[str, Any], pipeline_store: Engine,
        field: str) -> None:
    for n, payload in enumerate(INJECTIONS):
        body = {**template, "application_id": f"INJ-{field[:6]}-{n}", field: payload}
        before = stored_counts(pipeline_store)
        res = client.post("/v1/applications", json=body)
        assert res.status_code in (201, 422), res.text
        if res.status_code == 422:  # refused: a clear problem, nothing stored
            assert_problem(res, 422)
            assert stored_counts(pipeline_store) == before
            continue
        assert res.headers["content-type"] == "application/json"
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        key = body["application_id"]
        read = client.get(f"/v1/applications/{urllib.parse.quote(key, safe='')}")
        assert read.status_code == 200 and read.json()["application_id"] == key
        with pipeline_store.connect() as connection:
            row = connection.execute(select(Application).where(
                Application.application_id == key)).one()
            inputs = connection.scalar(select(DecisionLog.inputs).where(
                DecisionLog.application_id == key))
        stored = {"application_id": row.application_id, "product_intent": row.product_intent,
                  "channel": row.channel}.get(field, inputs[f"app.{field}"])
        assert stored == payload  # verbatim: neither executed nor altered
    assert stored_counts(pipeline_store)["application"] > 0  # the table is still there
    if field == "party_id":  # an unknown party is always refused
        assert client.get("/v1/applications/INJ-party_-0").status_code == 404


def test_values_past_the_store_columns_are_422_not_500(
        client: TestClient, template: dict[str, Any], pipeline_store: Engine) -> None:
    """On PostgreSQL an over-long key or amount would fail inside the insert (a 500)."""
    before = stored_counts(pipeline_store)
    for change, name in (({"application_id": "K" * 33}, "application_id"),
                         ({"application_id": "PB-L1", "party_id": "P" * 40}, "party_id"),
                         ({"application_id": "PB-L2", "amount": "1e17"}, "amount")):
        doc = assert_problem(client.post("/v1/applications", json={**template, **change}), 422)
        assert [p.split(":")[0] for p in doc["problems"]] == [name]
    assert stored_counts(pipeline_store) == before
