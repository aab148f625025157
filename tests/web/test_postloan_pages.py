"""The post-loan task page: the manager holding a warning sees its signals in the catalogue's
words, starts the investigation and closes it with findings; the closing waits for a second
person — the manager cannot confirm it, the branch supervisor can; a closing without findings
is refused on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.postloan.bank_copy import copy_bank
from tests.web.workbench import workbench_app

from xiaowei.data.tags.service import data_as_of
from xiaowei.entities.task import TaskStatus
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.postloan.warning_catalogue import load_warning_catalogue
from xiaowei.postloan.warning_tasks import open_warning_tasks, warning_queue
from xiaowei.security.users import add_user
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import transaction
from xiaowei.store.tables import CustomerManager

PASSWORD = "Warning-Desk-2026-long"


def _sign_in(client: TestClient, name: str) -> str:
    reply = client.post("/api/auth/session", data={"username": name, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return reply.json()["csrf_token"]


def test_a_warning_is_worked_and_confirmed_by_a_second_person(
        pipeline_bank: dict[str, Any], pipeline_store: Engine, tmp_path: Path) -> None:
    copy = copy_bank(pipeline_bank, tmp_path / "bank")
    with AnalyticStore(copy, read_only=False) as analytic:
        day = data_as_of(analytic)
        run_monitoring(analytic, day, full_tags=False)
        tasks = open_warning_tasks(pipeline_store, analytic.connection, day)
    app, _ = workbench_app(pipeline_store, {**pipeline_bank, "analytic": copy})
    queue = warning_queue(pipeline_store)
    task = next(t for t in tasks if t.manager_id)
    with transaction(pipeline_store) as session:
        branch = session.get_one(CustomerManager, task.manager_id).branch_id
    # The holding manager and the branch's supervisor sign in as themselves.
    add_user(pipeline_store, "wang.cm", "customer_manager", PASSWORD, branch=branch,
             manager=task.manager_id)
    add_user(pipeline_store, "zhao.sup", "supervisor", PASSWORD, branch=branch)
    url = f"/web/postloan/tasks/{task.task_id}"
    cm = TestClient(app, base_url="https://testserver")
    supervisor = TestClient(app, base_url="https://testserver")
    with cm, supervisor:
        csrf = _sign_in(cm, "wang.cm")
        shown = cm.get(url)
        assert shown.status_code == 200, shown.text
        first = task.signals[0]["signal"]
        assert load_warning_catalogue().signal(first).zh in shown.text
        assert cm.post(f"{url}/start", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
        empty = cm.post(f"{url}/close", data={"csrf_token": csrf, "note": " "})
        assert empty.status_code == 200 and "核查结论" in empty.text
        closed = cm.post(f"{url}/close", data={"csrf_token": csrf, "note": "经营正常，季节性回落"},
                         follow_redirects=False)
        assert closed.status_code == 303
        view = queue.get(task.task_id)
        assert view.status == TaskStatus.IN_PROGRESS and view.result["stage"] == "checker"
        assert cm.post(f"{url}/confirm", data={"csrf_token": csrf}).status_code == 403
        anonymous = supervisor.post(f"{url}/confirm", data={"csrf_token": "forged"},
                                    follow_redirects=False)
        assert anonymous.status_code == 303 and "/web/login" in anonymous.headers["location"]
        s_csrf = _sign_in(supervisor, "zhao.sup")
        dashboard = supervisor.get("/web/dashboard")
        assert dashboard.status_code == 200 and "贷后预警待处置" in dashboard.text
        assert "五级分类（贷后日批）" in dashboard.text  # the batch's classes, charted
        page = supervisor.get(url)
        assert page.status_code == 200 and 'id="confirm"' in page.text
        forged = supervisor.post(f"{url}/confirm", data={"csrf_token": "forged"})
        assert forged.status_code == 403 and queue.get(task.task_id).status != TaskStatus.DONE
        done = supervisor.post(f"{url}/confirm", data={"csrf_token": s_csrf, "note": "同意"},
                               follow_redirects=False)
        assert done.status_code == 303
    final = queue.get(task.task_id)
    assert final.status == TaskStatus.DONE and final.result["checked_by"] == "zhao.sup"
