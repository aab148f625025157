"""The workbench in a real browser: Playwright drives Debian's Chromium (never a downloaded
one) against the app served by uvicorn on a free port over the tiny bank.

A customer manager signs in and submits an application through the form; an approver signs
in, finds it in the review queue, claims and approves it with a note, sees it counted on the
dashboard, and switches the language; the manager's field pages are opened at phone size.
Screenshots of every page go to tests/artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine, select
from tests.web.workbench import app_in_branch, user_name, workbench_app

from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser, Decision, Task

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def chromium() -> str:
    """Debian's Chromium: ``XIAOWEI_CHROMIUM`` (set by ``make test``), else on the PATH."""
    path = os.environ.get("XIAOWEI_CHROMIUM") or shutil.which("chromium")
    if not path or not Path(path).exists():
        pytest.fail("Chromium is missing: run `bash scripts/ensure_chromium.sh` (make test "
                    "does) or set XIAOWEI_CHROMIUM", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(pipeline_store: Engine, pipeline_bank: dict[str, Any], tmp_path: Path
           ) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a uvicorn server in a thread: (base URL, demo passwords). Its analytic store
    is a copy of the tiny bank's on which the staff batch ran (the supervisor's pages)."""
    from tests.postloan.bank_copy import copy_bank

    from xiaowei.data.tags.service import data_as_of
    from xiaowei.staff.run import run_staff
    from xiaowei.store.analytic import AnalyticStore

    analytic_copy = copy_bank(pipeline_bank, tmp_path / "analytic")
    with AnalyticStore(analytic_copy) as analytic:
        run_staff(analytic.connection, data_as_of(analytic), engine=pipeline_store,
                  open_tasks=True)
    app, passwords = workbench_app(pipeline_store, {**pipeline_bank,
                                                    "analytic": analytic_copy})
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", passwords
    server.should_exit = True
    thread.join(timeout=10)


def _shot(page: Page, name: str) -> None:
    """A full-page screenshot, after checking the page fits its screen's width (no sideways
    scrolling: a table too wide for the screen is a page nobody wants to use)."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name} is {width}px wide"


def _sign_in(page: Page, base: str, passwords: dict[str, str], role: str, then: str) -> None:
    page.goto(f"{base}/web/login?next={then}")
    page.fill("#username", user_name(role))
    page.fill("#password", passwords[user_name(role)])
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith(then), page.url


def _sign_out(page: Page) -> None:
    page.click("#logout-form button")
    page.wait_for_url("**/web/login")


def _visit_for_demo_manager(page: Page, base: str, engine: Engine,
                            bank: dict[str, Any]) -> str:
    """Submit applications through the API with the page's session (and its CSRF token)
    until one opens a due-diligence visit for the demo customer manager; its task id."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "xiaowei_csrf")
    with transaction(engine) as session:
        manager = session.scalar(select(AppUser.manager_id).where(
            AppUser.name == user_name("customer_manager")))
    for n, template in enumerate(bank["apps"][:40]):
        doc = {**template, "application_id": f"WEB-VISIT-{n}"}
        reply = page.request.post(f"{base}/v1/applications", data=doc,
                                  headers={"X-CSRF-Token": csrf})
        assert reply.status in (200, 201), reply.text()
        with transaction(engine) as session:
            found = session.scalar(select(Task.task_id).where(
                Task.application_id == doc["application_id"], Task.claimed_by == manager,
                Task.kind == "due_diligence_visit"))
        if found:
            return found
    raise AssertionError(f"no visit was opened for {manager} in 40 applications")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_submit_review_approve_in_chromium(served: tuple[str, dict[str, str]],
                                           pipeline_store: Engine,
                                           pipeline_bank: dict[str, Any]) -> None:
    base, passwords = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    template = app_in_branch(pipeline_store, pipeline_bank)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=FLAGS)
        desk = browser.new_page(viewport={"width": 1366, "height": 768})
        desk.goto(f"{base}/web/login")
        expect(desk.locator("h1")).to_contain_text("小微信贷工作台")
        _shot(desk, "01-login")

        # a customer manager enters the application; the applicant wants a person to decide
        _sign_in(desk, base, passwords, "customer_manager", "/web/applications/new")
        desk.fill("#party_id", template["party_id"])
        desk.select_option("#party_type", template["party_type"])
        desk.select_option("#product_intent", "working_capital")
        desk.select_option("#channel", "manager_referral")
        desk.fill("#amount", "300000")
        desk.uncheck("#automated_ok")
        _shot(desk, "02-application-form")
        with desk.expect_navigation():
            desk.click("form.form-grid button[type=submit]")
        assert re.search(r"/web/applications(/WEB-|\?submitted=WEB-)", desk.url), desk.url
        with transaction(pipeline_store) as session:
            task = session.scalars(select(Task).where(
                Task.kind == "manual_review", Task.application_id.like("WEB-%"))).one()
            task_id, application_id = task.task_id, task.application_id
        _sign_out(desk)

        # the approver: dashboard, queue, the case, claim, approve with a note
        _sign_in(desk, base, passwords, "approver", "/web/dashboard")
        approved_before = int(desk.locator("#kpi-approved").inner_text())
        assert int(desk.locator("#kpi-today").inner_text()) >= 1
        _shot(desk, "03-dashboard-before")
        desk.click("nav a[href='/web/reviews']")
        expect(desk.locator(f"a[href='/web/reviews/{task_id}']")).to_be_visible()
        _shot(desk, "04-review-queue")
        desk.click(f"a[href='/web/reviews/{task_id}']")
        expect(desk.locator(".flow .node").first).to_be_visible()
        desk.click("#claim")
        desk.wait_for_url(re.compile(r".*done=claim"))
        desk.fill("#note", "经营流水与纳税记录核实一致，同意 · turnover and tax filings agree")
        _shot(desk, "05-review-workbench")
        desk.click("#approve")
        desk.wait_for_url(re.compile(r".*done=approve"))
        expect(desk.locator(".notice.ok")).to_be_visible()
        with transaction(pipeline_store) as session:
            decision = session.scalars(select(Decision).where(
                Decision.application_id == application_id)).one()
            assert decision.outcome == "approve" and decision.decided_by == "demo.approver"
        desk.goto(f"{base}/web/applications/{application_id}")
        expect(desk.locator(".flow .node").first).to_be_visible()
        _shot(desk, "06-application-flow")
        desk.click(f"a[href='/web/customers/{template['party_id']}']")
        expect(desk.locator("svg.graph")).to_be_visible()
        _shot(desk, "07-customer-360")
        desk.goto(f"{base}/web/dashboard")
        assert int(desk.locator("#kpi-approved").inner_text()) == approved_before + 1
        _shot(desk, "08-dashboard-after")

        # the language switch keeps the page and turns it into English
        desk.click("a[lang=en]")
        desk.wait_for_url("**/web/dashboard")
        expect(desk.locator("h1")).to_have_text("Dashboard")
        assert desk.locator("html").get_attribute("lang") == "en"
        _shot(desk, "09-dashboard-en")
        desk.click("a[lang=zh-CN]")
        expect(desk.locator("h1")).to_have_text("驾驶舱")
        _sign_out(desk)

        _sign_in(desk, base, passwords, "risk_analyst", "/web/strategies")
        _shot(desk, "10-strategies")
        desk.click("nav a[href='/web/models']")
        _shot(desk, "11-models")

        # the customer manager's field pages on a phone
        phone = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True,
                                 has_touch=True, device_scale_factor=2)
        _sign_in(phone, base, passwords, "customer_manager", "/web/tasks")
        visit = _visit_for_demo_manager(phone, base, pipeline_store, pipeline_bank)
        phone.goto(f"{base}/web/field")
        expect(phone.locator(f"a.card[href='/web/field/{visit}']")).to_be_visible()
        _shot(phone, "12-phone-field-list")
        phone.click(f"a.card[href='/web/field/{visit}']")
        phone.click("#check-in")
        phone.wait_for_url(re.compile(r".*done=checked_in"))
        expect(phone.locator(".check-item").first).to_be_visible()
        _shot(phone, "13-phone-visit-checklist")
        # the manager's day (tasks, visits due, renewals) fits the phone too
        phone.goto(f"{base}/web/operations/plan")
        expect(phone.locator("h1")).to_contain_text("今日工作")
        _shot(phone, "14-phone-my-day")
        # the supervisor's staff pages: the team, then one manager with radar and map
        staff = browser.new_page(viewport={"width": 1366, "height": 900})
        _sign_in(staff, base, passwords, "supervisor", "/web/staff")
        expect(staff.locator("h1")).to_contain_text("员工管理")
        expect(staff.locator("svg").first).to_be_visible()
        _shot(staff, "15-staff-team")
        staff.locator("a[href^='/web/staff/managers/']").first.click()
        staff.wait_for_url(re.compile(r".*/web/staff/managers/M\d+"))
        expect(staff.locator("h2").first).to_be_visible()
        _shot(staff, "16-staff-manager")
        browser.close()
    assert len(list(SHOTS.glob("*.png"))) >= 16
