"""`xiaowei users`, `token`, `audit` and `keys` on a real store; demo users for `make demo`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.security.demo_users import create_demo_users
from xiaowei.security.roles import default_roles
from xiaowei.security.signin import sign_in
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, AuditLog, Party

runner = CliRunner()


@pytest.fixture
def cli_store(store: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("XIAOWEI_USER", "admin.zhang")
    monkeypatch.delenv("XIAOWEI_NEW_PASSWORD", raising=False)
    return store


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + (result.stderr or "")


def test_add_generates_a_password_once_or_reads_it_from_the_environment(
        cli_store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = _run("users", "add", "wang.li", "--role", "customer_manager",
                      "--branch", "B1", "--manager", "M1", "--json")
    assert code == 0, text
    doc = json.loads(text)
    assert (doc["name"], doc["role"], doc["branch"]) == ("wang.li", "customer_manager", "B1")
    assert len(doc["password"]) >= 16
    assert sign_in(cli_store, "wang.li", doc["password"]).manager_id == "M1"
    monkeypatch.setenv("XIAOWEI_NEW_PASSWORD", "from-the-vault-2026")
    code, text = _run("users", "passwd", "wang.li", "--json")
    assert code == 0 and "password" not in json.loads(text)
    assert sign_in(cli_store, "wang.li", "from-the-vault-2026").name == "wang.li"
    monkeypatch.setenv("XIAOWEI_NEW_PASSWORD", "short")
    code, text = _run("users", "passwd", "wang.li")
    assert code == 2 and "XIAOWEI_NEW_PASSWORD" in text


@pytest.mark.parametrize(("args", "words"), [
    (["nobody", "--role", "boss"], "unknown role 'boss'"),
    (["li", "--role", "approver"], "needs --branch"),
    (["li", "--role", "customer_manager", "--branch", "B1"], "needs --manager"),
    (["li", "--role", "customer_manager", "--manager", "M2", "--branch", "B1"], "belongs to"),
    (["li", "--role", "approver", "--branch", "B9"], "no branch 'B9'"),
    (["Li Na", "--role", "auditor"], "not allowed"),
])
def test_bad_users_are_refused_with_the_reason(cli_store: Engine, args: list[str],
                                               words: str) -> None:
    code, text = _run("users", "add", *args)
    assert code == 2 and words in text


def test_list_counts_a_managers_customers(cli_store: Engine) -> None:
    with transaction(cli_store) as session:
        import datetime as dt
        from decimal import Decimal
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for i, manager in enumerate(["M1", "M1", "M2"]):
            session.add(Party(party_id=f"P{i}", party_type="enterprise", name=f"公司{i}",
                              name_masked="公司*", region_code="330106", created_at=now))
            session.flush()
            session.add(Application(application_id=f"A{i}", party_id=f"P{i}", applied_at=now,
                                    channel="branch", product_intent="loan",
                                    amount=Decimal(1000), term_months=12, manager_id=manager,
                                    branch_id="B1" if manager == "M1" else "B2",
                                    status="received"))
    _run("users", "add", "wang.li", "--role", "customer_manager", "--manager", "M1")
    _run("users", "add", "chen", "--role", "auditor")
    code, text = _run("users", "list", "--json")
    assert code == 0, text
    users = {u["name"]: u for u in json.loads(text)}
    assert users["wang.li"]["customers"] == 2 and users["wang.li"]["branch"] == "B1"
    assert "customers" not in users["chen"] and users["chen"]["branch"] is None


def test_token_create_revoke_and_the_audit_trail(cli_store: Engine) -> None:
    _run("users", "add", "gateway", "--role", "admin")
    code, text = _run("token", "create", "gateway", "--scope", "applications", "--days", "7",
                      "--json")
    assert code == 0, text
    issued = json.loads(text)
    assert issued["access_token"].startswith("xw_") and issued["scopes"] == ["applications"]
    assert _run("token", "create", "gateway", "--scope", "nonsense")[0] == 2
    assert _run("token", "revoke", issued["token_id"])[0] == 0
    code, text = _run("audit", "list", "--json")
    actions = [e["action"] for e in json.loads(text)["entries"]]
    assert actions == ["token.revoke", "token.create", "user.add"]
    assert {e["actor"] for e in json.loads(text)["entries"]} == {"admin.zhang"}


def test_audit_verify_exits_1_naming_the_edited_entry(cli_store: Engine) -> None:
    for name in ("a1", "a2", "a3"):
        _run("users", "add", name, "--role", "auditor")
    code, text = _run("audit", "verify", "--json")
    assert code == 0 and json.loads(text)["ok"] and json.loads(text)["entries"] == 3
    with transaction(cli_store) as session:
        session.execute(update(AuditLog).where(AuditLog.seq == 2).values(actor="nobody"))
    code, text = _run("audit", "verify", "--json")
    doc = json.loads(text)
    assert code == 1 and not doc["ok"]
    assert [(p["seq"], p["kind"]) for p in doc["problems"]] == [(2, "edited")]
    code, text = _run("audit", "verify")
    assert code == 1 and "entry 2" in text


def test_keys_rotate_re_encrypts_everything(cli_store: Engine) -> None:
    result = runner.invoke(app, ["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["total_rewritten"] == 2 and doc["remaining"] == 0  # the managers' phones


def test_demo_users_one_per_role_with_passwords(store: Engine) -> None:
    passwords = create_demo_users(store, ["B2", "B1"])
    assert len(passwords) == len(default_roles().roles)
    manager = sign_in(store, "demo.customer-manager", passwords["demo.customer-manager"])
    assert (manager.manager_id, manager.branch_id) == ("M2", "B2")
    again = create_demo_users(store, ["B2"])  # a rerun resets the passwords
    assert again["demo.admin"] != passwords["demo.admin"]
    assert sign_in(store, "demo.admin", again["demo.admin"]).role == "admin"
