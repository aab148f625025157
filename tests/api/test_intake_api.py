"""The HTTP intake on a real app and a real store: 201/200, 422 with problems, 409, 404."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from xiaowei.api import app as app_module
from xiaowei.api import create_app
from xiaowei.config import Settings


@pytest.fixture
def client(pipeline_store: Engine, pipeline_bank: dict[str, Any],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    settings = Settings(home=Path(pipeline_bank["home"]),
                        database_url=pipeline_store.url.render_as_string(hide_password=False),
                        analytic_path=Path(pipeline_bank["analytic"]))
    built: list[Any] = []
    real = app_module.open_intake_decider

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "open_intake_decider", counting)
    app = create_app(settings, model_dirs={"app_score": str(pipeline_bank["model"])})
    with TestClient(app) as c:
        c.built = built  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def apps(pipeline_bank: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**a, "application_id": f"H-{a['application_id']}"}
            for a in pipeline_bank["apps"][:3]]


def test_post_then_get_then_retry(client: TestClient, apps: list[dict[str, Any]]) -> None:
    first = client.post("/v1/applications", json=apps[0], headers={"X-User": "wang.li"})
    assert first.status_code == 201, first.text
    doc = first.json()
    assert doc["decision"]["outcome"] in ("approve", "reject", "review")
    assert "explanation" in doc["manager"]
    again = client.post("/v1/applications", json=apps[0])
    assert again.status_code == 200 and again.json()["decision"] == doc["decision"]
    read = client.get(f"/v1/applications/{apps[0]['application_id']}")
    assert read.status_code == 200
    assert read.json()["status"] == doc["status"] and read.json()["manager"] == doc["manager"]
    assert client.get("/v1/applications/NOPE").status_code == 404
    assert client.built == [1]  # one decider for the app's life, not one per request


def test_refused_automation_by_header_or_field(client: TestClient,
                                               apps: list[dict[str, Any]]) -> None:
    by_header = client.post("/v1/applications", json=apps[0],
                            headers={"X-Automated-Ok": "false"})
    assert by_header.status_code == 201, by_header.text
    assert by_header.json()["decision"]["mode"] == "human"
    assert by_header.json()["automated_ok"] is False
    by_field = client.post("/v1/applications", json={**apps[1], "automated_ok": False})
    assert by_field.status_code == 201 and by_field.json()["decision"]["mode"] == "human"
    bad = client.post("/v1/applications", json={**apps[2], "automated_ok": "nope"})
    assert bad.status_code == 422 and "automated_ok" in bad.json()["problems"][0]


def test_bad_application_is_422_listing_every_problem(client: TestClient) -> None:
    res = client.post("/v1/applications", json={"party_id": "P1", "amount": "abc"})
    assert res.status_code == 422
    fields = {p.split(":")[0] for p in res.json()["problems"]}
    assert {"application_id", "channel", "amount", "applied_on"} <= fields
    assert client.post("/v1/applications", json=[1, 2]).status_code == 422


def test_unknown_party_is_422_and_reused_key_is_409(client: TestClient,
                                                    apps: list[dict[str, Any]]) -> None:
    res = client.post("/v1/applications", json={**apps[0], "party_id": "P-NOBODY"})
    assert res.status_code == 422 and "P-NOBODY" in res.json()["problems"][0]
    assert client.post("/v1/applications", json=apps[0]).status_code == 201
    res = client.post("/v1/applications", json={**apps[0], "amount": 5})
    assert res.status_code == 409 and "different payload" in res.json()["detail"]


def test_batch_lists_bad_rows_by_position(client: TestClient,
                                          apps: list[dict[str, Any]]) -> None:
    res = client.post("/v1/applications/batch", json=[apps[0], {"x": 1}, apps[1]])
    assert res.status_code == 200, res.text
    doc = res.json()
    assert (doc["accepted"], doc["refused"]) == (2, 1)
    assert doc["errors"][0]["row"] == 2 and doc["batch_id"]
