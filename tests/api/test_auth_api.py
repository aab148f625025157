"""Sign-in over HTTP: the OAuth2 token endpoint, web sessions with CSRF, throttling, and
refusals (forged, expired, revoked, wrong scope, no CSRF) that store nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from tests.auth_support import PASSWORD, audit_count, auth, stored, token, user

from xiaowei.api import create_app
from xiaowei.config import Settings
from xiaowei.security import audit
from xiaowei.store.database import transaction
from xiaowei.store.tables import ApiToken


@pytest.fixture
def client(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(home=Path(pipeline_bank["home"]),
                        database_url=pipeline_store.url.render_as_string(hide_password=False),
                        analytic_path=Path(pipeline_bank["analytic"]))
    app = create_app(settings, model_dirs={"app_score": str(pipeline_bank["model"])})
    user(pipeline_store, "gateway", "admin")
    with TestClient(app, base_url="https://testserver") as c:  # Secure cookies need https
        yield c


@pytest.fixture
def application(pipeline_bank: dict[str, Any]) -> dict[str, Any]:
    return {**pipeline_bank["apps"][0], "application_id": "AUTH-1"}


def test_password_flow_gives_a_bearer_token(client: TestClient,
                                            pipeline_store: Engine) -> None:
    res = client.post("/api/auth/token", data={"username": "gateway", "password": PASSWORD})
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["token_type"] == "bearer" and doc["access_token"].startswith("xw_")
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {doc['access_token']}"})
    assert me.status_code == 200 and me.json()["role"] == "admin"
    assert "users:manage" in me.json()["permissions"]
    assert audit_count(pipeline_store, "login.ok") == 1
    bad = client.post("/api/auth/token", data={"username": "gateway", "password": "wrong!"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "Bearer"
    assert audit_count(pipeline_store, "login.failed") == 1
    scoped = client.post("/api/auth/token", data={"username": "gateway", "password": PASSWORD,
                                                  "scope": "customers audit"})
    me = client.get("/api/auth/me",
                    headers={"Authorization": f"Bearer {scoped.json()['access_token']}"})
    assert set(me.json()["permissions"]) == {"customers:read:all", "audit:read"}
    nonsense = client.post("/api/auth/token", data={"username": "gateway",
                                                    "password": PASSWORD, "scope": "root"})
    assert nonsense.status_code == 400 and "unknown scope" in nonsense.text
    assert audit_count(pipeline_store, "login.ok") == 2  # the refused scope signed nobody in


def _expired(store: Engine) -> str:
    bearer = token(store, "gateway")
    with transaction(store) as session:
        session.execute(update(ApiToken).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    return bearer


def _revoked(store: Engine) -> str:
    bearer = token(store, "gateway")
    with transaction(store) as session:
        session.execute(update(ApiToken).values(revoked_at=dt.datetime.now(dt.UTC)))
    return bearer


@pytest.mark.parametrize(("make", "words"), [
    (lambda s: token(s, "gateway")[:-3] + "xyz", "not valid"),
    (lambda s: "xw_deadbeefdeadbeef.forged", "not valid"),
    (lambda s: "eyJhbGciOiJub25lIn0.e30.", "not valid"),
    (_expired, "expired"),
    (_revoked, "revoked"),
])
def test_bad_tokens_are_401_and_store_nothing(client: TestClient, pipeline_store: Engine,
                                              application: dict[str, Any], make: Any,
                                              words: str) -> None:
    bearer = make(pipeline_store)
    before = stored(pipeline_store)
    res = client.post("/v1/applications", json=application,
                      headers={"Authorization": f"Bearer {bearer}"})
    assert res.status_code == 401 and words in res.text
    assert res.headers["WWW-Authenticate"] == "Bearer"
    assert stored(pipeline_store) == before


def test_no_credentials_is_401_and_wrong_scope_is_403(client: TestClient,
                                                      pipeline_store: Engine,
                                                      application: dict[str, Any]) -> None:
    before = stored(pipeline_store)
    assert client.post("/v1/applications", json=application).status_code == 401
    assert client.get("/api/customers").status_code == 401
    res = client.post("/v1/applications", json=application,
                      headers=auth(pipeline_store, "gateway", ["customers"]))
    assert res.status_code == 403 and "applications:create" in res.text
    assert stored(pipeline_store) == before


def _sign_in(client: TestClient, name: str = "gateway") -> str:
    res = client.post("/api/auth/session", data={"username": name, "password": PASSWORD})
    assert res.status_code == 200, res.text
    cookie = next(h for h in res.headers.get_list("set-cookie")
                  if h.startswith("xiaowei_session="))
    assert {"Secure", "HttpOnly", "SameSite=strict"} <= {p.strip() for p in cookie.split(";")}
    return res.json()["csrf_token"]


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
])
def test_a_sign_in_posted_from_another_site_is_refused_before_the_password(
        client: TestClient, pipeline_store: Engine, headers: dict[str, str]) -> None:
    res = client.post("/api/auth/session", headers=headers,
                      data={"username": "gateway", "password": PASSWORD})
    assert res.status_code == 403 and "sign-in refused" in res.text
    assert "xiaowei_session" not in res.headers.get("set-cookie", "")
    tried = audit_count(pipeline_store, "login.ok") + audit_count(pipeline_store, "login.failed")
    assert tried == 0  # refused before the password was checked
    # The workbench's own page posts with its own origin and is let in.
    same = client.post("/api/auth/session",
                       headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
                       data={"username": "gateway", "password": PASSWORD})
    assert same.status_code == 200, same.text


def test_a_cookie_post_without_its_csrf_token_is_403_and_stores_nothing(
        client: TestClient, pipeline_store: Engine, application: dict[str, Any]) -> None:
    csrf = _sign_in(client)
    assert client.get("/api/auth/me").json()["name"] == "gateway"  # reads need no CSRF
    before = stored(pipeline_store)
    missing = client.post("/v1/applications", json=application)
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = client.post("/v1/applications", json=application,
                        headers={"X-CSRF-Token": "guessed"})
    assert wrong.status_code == 403
    assert stored(pipeline_store) == before
    ok = client.post("/v1/applications", json=application, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert stored(pipeline_store)["application"] == before["application"] + 1


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = _sign_in(client)
    assert client.post("/api/auth/logout").status_code == 403  # logout is a POST too
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401


def test_a_logged_out_cookie_is_refused(client: TestClient) -> None:
    csrf = _sign_in(client)
    cookie = client.cookies.get("xiaowei_session")
    client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    client.cookies.set("xiaowei_session", cookie or "", domain="testserver.local")
    res = client.get("/api/auth/me")
    assert res.status_code == 401 and "sign in again" in res.text


def test_bearer_logout_revokes_the_token(client: TestClient, pipeline_store: Engine) -> None:
    headers = auth(pipeline_store, "gateway")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_the_sixth_failure_is_429_with_retry_after(client: TestClient,
                                                   pipeline_store: Engine) -> None:
    for _ in range(5):
        res = client.post("/api/auth/token", data={"username": "gateway", "password": "nope!"})
        assert res.status_code == 401
    res = client.post("/api/auth/token", data={"username": "gateway", "password": PASSWORD})
    assert res.status_code == 429 and 0 < int(res.headers["Retry-After"]) <= 900
    web = client.post("/api/auth/session", data={"username": "gateway", "password": PASSWORD})
    assert web.status_code == 429
    assert audit_count(pipeline_store, "login.failed") == 5
    assert audit_count(pipeline_store, "login.throttled") == 2
    assert audit.verify(pipeline_store) == []
