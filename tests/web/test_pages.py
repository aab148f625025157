"""The workbench pages on a real app and the tiny bank's store: who may open what, row scope
(another's record is a 404), Chinese by default and English after the switch, nothing from
another origin, escaping, and the review and field forms going through the domain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from jinja2.ext import babel_extract
from sqlalchemy import Engine, select
from tests.web.workbench import app_in_branch, first_app, sign_in, workbench_app

from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, Decision, Task
from xiaowei.web import STATIC
from xiaowei.web.i18n import FOLDER

WEB = STATIC.parent
EXTERNAL = re.compile(r"""(?:src|href|action|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture
def bench(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The app and one signed-in client per role (each with its CSRF token)."""
    app, passwords = workbench_app(pipeline_store, pipeline_bank)
    clients: dict[str, Any] = {}
    with TestClient(app, base_url="https://testserver") as anonymous:
        for role in ("customer_manager", "approver", "risk_analyst", "auditor", "admin"):
            client = TestClient(app, base_url="https://testserver")
            clients[role] = (client, sign_in(client, passwords, role))
        yield {"app": app, "anon": anonymous, "clients": clients, "engine": pipeline_store}


def _submit(bench: dict[str, Any], doc: dict[str, Any], automated: bool = True) -> Any:
    client, csrf = bench["clients"]["customer_manager"]
    form = {**{k: str(v) for k, v in doc.items()}, "csrf_token": csrf}
    if automated:
        form["automated_ok"] = "yes"
    return client.post("/web/applications", data=form, follow_redirects=False)


def _reviewed_case(bench: dict[str, Any], bank: dict[str, Any], key: str) -> str:
    """Submit an application the applicant wants a person to decide; its review task id."""
    doc = {**app_in_branch(bench["engine"], bank), "application_id": key}
    assert _submit(bench, doc, automated=False).status_code == 303
    with transaction(bench["engine"]) as session:
        return session.scalars(select(Task.task_id).where(
            Task.application_id == key, Task.kind == "manual_review")).one()


def test_pages_by_role_and_scope(bench: dict[str, Any], pipeline_bank: dict[str, Any]) -> None:
    task = _reviewed_case(bench, pipeline_bank, "WEB-T-1")
    with transaction(bench["engine"]) as session:
        app = session.get_one(Application, "WEB-T-1")
        party, branch = app.party_id, app.branch_id
        elsewhere = session.scalars(select(Application.application_id)
                                    .where(Application.branch_id != branch)).first()
    c = {role: client for role, (client, _csrf) in bench["clients"].items()}
    may = {
        "approver": ["/web/dashboard", "/web/tasks", "/web/applications", "/web/reviews",
                     f"/web/reviews/{task}", "/web/applications/WEB-T-1", "/web/customers",
                     f"/web/customers/{party}"],
        "risk_analyst": ["/web/strategies", "/web/models", "/web/dashboard",
                         f"/web/customers/{party}", "/web/applications/WEB-T-1"],
        "customer_manager": ["/web/field", "/web/tasks", "/web/applications/new",
                             "/web/applications"],
        "auditor": ["/web/applications/WEB-T-1", "/web/strategies", "/web/models",
                    "/web/dashboard"],
    }
    for role, paths in may.items():
        for path in paths:
            reply = c[role].get(path)
            assert reply.status_code == 200, (role, path, reply.text[:300])
            assert "<!DOCTYPE html>" in reply.text and "workbench.css" in reply.text
    refused = [("customer_manager", "/web/dashboard", 403),
               ("customer_manager", "/web/reviews", 403),
               ("approver", "/web/strategies", 403), ("approver", "/web/models", 403),
               ("approver", "/web/field", 403), ("risk_analyst", "/web/reviews", 403),
               ("approver", "/web/applications/NO-SUCH", 404),
               ("approver", "/web/reviews/NO-SUCH", 404)]
    if elsewhere is not None:  # another branch's application is not the approver's to see
        refused.append(("approver", f"/web/applications/{elsewhere}", 404))
    for role, path, status in refused:
        reply = c[role].get(path)
        assert reply.status_code == status, (role, path)
        assert "<!DOCTYPE html>" in reply.text  # a page, not JSON
    login = bench["anon"].get("/web/dashboard", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/web/login")
    assert bench["anon"].get("/web/login").status_code == 200


def test_chinese_first_english_by_switch(bench: dict[str, Any]) -> None:
    client, _ = bench["clients"]["approver"]
    zh = client.get("/web/dashboard").text
    assert 'lang="zh-CN"' in zh and "驾驶舱" in zh and "审批队列" in zh and "今日进件" in zh
    switched = client.get("/web/lang/en?next=/web/dashboard", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/web/dashboard"
    en = client.get("/web/dashboard").text
    assert 'lang="en"' in en and "Dashboard" in en and "Applications today" in en
    assert "驾驶舱" not in en
    assert client.get("/web/lang/fr").status_code == 404
    outside = client.get("/web/lang/zh_CN?next=https://evil.example/", follow_redirects=False)
    assert outside.headers["location"].startswith("/web/")  # no open redirect


def test_nothing_loads_from_another_origin(bench: dict[str, Any],
                                           pipeline_bank: dict[str, Any]) -> None:
    task = _reviewed_case(bench, pipeline_bank, "WEB-T-2")
    pages = {"approver": ["/web/dashboard", "/web/applications", "/web/applications/WEB-T-2",
                          f"/web/reviews/{task}", "/web/reviews", "/web/tasks"],
             "risk_analyst": ["/web/strategies", "/web/models", "/web/customers"],
             "customer_manager": ["/web/field", "/web/applications/new"]}
    seen = 0
    for role, paths in pages.items():
        client, _ = bench["clients"][role]
        for path in paths:
            html = client.get(path).text
            assert not EXTERNAL.search(html), path
            assert all(u.startswith("/") for u in re.findall(r'(?:src|href)="([^"#]+)"', html))
            seen += 1
    for asset in [*STATIC.iterdir(), *(WEB / "templates").iterdir()]:
        text = asset.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, asset.name
        assert "@import" not in text and "@font-face" not in text, asset.name
    css = bench["anon"].get("/web/static/workbench.css")
    assert css.status_code == 200 and "zebra" in css.text
    assert seen == 11


def test_fields_are_escaped(bench: dict[str, Any], pipeline_bank: dict[str, Any]) -> None:
    evil = "<script>alert(1)</script>"
    doc = {**first_app(pipeline_bank), "application_id": "WEB-XSS", "product_intent": evil}
    assert _submit(bench, doc).status_code == 303
    client, _ = bench["clients"]["admin"]
    assert client.get("/web/applications/WEB-XSS").status_code == 200
    for path in ("/web/applications/WEB-XSS", "/web/reviews"):
        html = client.get(path).text
        assert evil not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/web/applications/WEB-XSS").text


def test_review_through_the_pages(bench: dict[str, Any], pipeline_bank: dict[str, Any]) -> None:
    task = _reviewed_case(bench, pipeline_bank, "WEB-T-3")
    client, csrf = bench["clients"]["approver"]
    before = client.get("/web/dashboard").text
    forged = client.post(f"/web/reviews/{task}/claim", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    claimed = client.post(f"/web/reviews/{task}/claim", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert claimed.status_code == 303
    approved = client.post(f"/web/reviews/{task}/approve",
                           data={"csrf_token": csrf, "note": "流水核实无误 · turnover verified"},
                           follow_redirects=True)
    assert approved.status_code == 200, approved.text[:300]
    with transaction(bench["engine"]) as session:
        decision = session.scalars(select(Decision).where(
            Decision.application_id == "WEB-T-3")).one()
        assert decision.outcome == "approve" and decision.decided_by == "demo.approver"
    after = client.get("/web/dashboard").text
    count = re.compile(r'id="kpi-approved">(\d+)<')
    assert int(count.search(after)[1]) == int(count.search(before)[1]) + 1
    again = client.post(f"/web/reviews/{task}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409 and "notice bad" in again.text  # the domain refuses


def test_an_approval_above_the_approvers_authority_is_refused_on_the_page(
        bench: dict[str, Any], pipeline_bank: dict[str, Any]) -> None:
    """The page applies the same authority rule as the API: nothing is decided."""
    task = _reviewed_case(bench, pipeline_bank, "WEB-T-4")
    client, csrf = bench["clients"]["approver"]
    client.post(f"/web/reviews/{task}/claim", data={"csrf_token": csrf})
    refused = client.post(f"/web/reviews/{task}/approve",
                          data={"csrf_token": csrf, "note": "超额 · above authority",
                                "amount": "3500000"})
    assert refused.status_code == 409 and "超出审批权限" in refused.text
    with transaction(bench["engine"]) as session:
        assert session.scalars(select(Decision).where(
            Decision.application_id == "WEB-T-4")).first() is None


def test_field_visit_check_in_and_record(bench: dict[str, Any],
                                         pipeline_bank: dict[str, Any]) -> None:
    client, csrf = bench["clients"]["customer_manager"]
    manager = None
    for n, template in enumerate(pipeline_bank["apps"][:12]):
        _submit(bench, {**template, "application_id": f"WEB-F-{n}"})
        with transaction(bench["engine"]) as session:
            manager = session.scalar(select(Task.task_id).where(
                Task.application_id == f"WEB-F-{n}", Task.kind == "due_diligence_visit",
                Task.claimed_by == "M00000"))
        if manager:
            break
    assert manager, "no visit was assigned to the demo customer manager"
    listing = client.get("/web/field")
    assert listing.status_code == 200 and manager in listing.text
    page = client.get(f"/web/field/{manager}")
    items = re.findall(r'name="outcome_([a-z_]+)" value="ok"', page.text)
    assert items
    checked = client.post(f"/web/field/{manager}/check-in", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert checked.status_code == 303
    form = {"csrf_token": csrf} | {f"outcome_{i}": "ok" for i in items} | {
        f"note_{i}": "已核实 seen" for i in items}
    incomplete = client.post(f"/web/field/{manager}/record",
                             data={k: v for k, v in form.items() if not k.startswith("note_")})
    assert incomplete.status_code == 422 and "notice bad" in incomplete.text
    done = client.post(f"/web/field/{manager}/record", data=form, follow_redirects=False)
    assert done.status_code == 303
    with transaction(bench["engine"]) as session:
        assert session.get_one(Task, manager).status == "done"


def test_catalogues_translate_every_message() -> None:
    templates = WEB / "templates"
    ids: set[str] = set()
    for path in templates.glob("*.html"):
        found = extract_from_file(babel_extract, str(path))
        ids |= {m[1] for m in found if isinstance(m[1], str)}
    assert len(ids) > 100
    pot = {m.id for m in read_po((FOLDER / "messages.pot").open("rb")) if m.id}
    assert ids <= pot, sorted(ids - pot)
    for lang in ("zh_CN", "en"):
        po = read_po((FOLDER / lang / "LC_MESSAGES" / "messages.po").open("rb"))
        translated = {m.id for m in po if m.id and m.string}
        assert pot <= translated, (lang, sorted(pot - translated)[:10])
    zh = read_po((FOLDER / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb"))
    assert zh["Dashboard"].string == "驾驶舱"
    assert Path(FOLDER / "messages.pot").read_text(encoding="utf-8").count("msgid") > 200
