"""The HTTP intake on a real app and a real store: 201/200, 422 with problems, 409, 404.

Every request carries a bearer token of a user allowed to submit (an admin, as a channel
system would); who may see what is proven in test_role_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.auth_support import auth, user

from xiaowei.api import app as app_module
from xiaowei.api import create_app
from xiaowei.config import Settings
from xiaowei.engine.strategy import load_pack
from xiaowei.origination.decide import DEFAULT_PACK
from xiaowei.strategies import StrategyStore


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
    user(pipeline_store, "channel.gateway", "admin")
    with TestClient(app, headers=auth(pipeline_store, "channel.gateway", ["applications"])) as c:
        c.built = built  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def apps(pipeline_bank: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**a, "application_id": f"H-{a['application_id']}"}
            for a in pipeline_bank["apps"][:3]]


def test_post_then_get_then_retry(client: TestClient, apps: list[dict[str, Any]]) -> None:
    first = client.post("/v1/applications", json=apps[0])
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


def test_a_published_pack_version_reaches_the_running_server(
        pipeline_store: Engine, pipeline_bank: dict[str, Any], apps: list[dict[str, Any]],
        tmp_path: Path) -> None:
    """Maker–checker publishes version 2 while the server runs: the next application is decided
    on it, without a restart; a rollback brings version 1 back the same way."""
    store = StrategyStore(pipeline_store)
    text = DEFAULT_PACK.read_text("utf-8")
    refs = {}
    for n, edited in ((1, text), (2, text.replace("团伙欺诈评分极高", "团伙欺诈评分极高（二）"))):
        folder = tmp_path / f"v{n}"
        folder.mkdir()
        (folder / "pack.yaml").write_text(edited, "utf-8")
        refs[n] = store.submit(folder, "zhao.min").record.ref
        store.approve(refs[n], "li.na")
    hashes = {n: store.get(ref).content_hash for n, ref in refs.items()}
    store.publish(refs[1], "chen.gang")
    settings = Settings(home=Path(pipeline_bank["home"]),
                        database_url=pipeline_store.url.render_as_string(hide_password=False),
                        analytic_path=Path(pipeline_bank["analytic"]))
    app = create_app(settings, model_dirs={"app_score": str(pipeline_bank["model"])},
                     live_check_seconds=0.0)
    user(pipeline_store, "channel.gateway", "admin")
    with TestClient(app, headers=auth(pipeline_store, "channel.gateway")) as client:
        def version_of(app_doc: dict[str, Any]) -> str:
            reply = client.post("/v1/applications", json=app_doc)
            assert reply.status_code == 201, reply.text
            return reply.json()["decision"]["pack_version"]

        first = version_of(apps[0])
        store.publish(refs[2], "chen.gang")
        second = version_of(apps[1])
        store.rollback("origination-default", "chen.gang", note="回退")
        third = version_of(apps[2])
    assert first == third != second
    assert {first, second} == {_pack_hash(tmp_path / "v1"), _pack_hash(tmp_path / "v2")}
    assert hashes[1] != hashes[2]


def _pack_hash(folder: Path) -> str:
    return load_pack(folder / "pack.yaml").hash
