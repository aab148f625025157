"""The staff pages on the tiny bank's store with a hand-built staff day: a supervisor sees their
branch's managers and not another branch's (404, as for a manager who does not exist); a
customer manager may not open the pages (403) and never meets the alert about them; every view
leaves an audit entry; the alert task's buttons work with the CSRF token and closing needs a
second person; Chinese first, English by the switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.auth_support import audit_count
from tests.postloan.bank_copy import copy_bank
from tests.staff.test_staff_view import AS_OF, checkins, day_alerts, staff_day
from tests.web.workbench import workbench_app

from xiaowei.entities.task import TaskStatus
from xiaowei.security.users import add_user
from xiaowei.staff.alert_tasks import alert_queue, open_alert_tasks
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import transaction
from xiaowei.store.tables import AppUser, AuditLog, CustomerManager

PASSWORD = "Staff-Desk-2026-longer"
PEOPLE = {"sup1": "supervisor", "sup2": "supervisor", "sup3": "supervisor",
          "cm": "customer_manager", "aud": "auditor"}


def _managers(engine: Engine) -> tuple[str, list[str], str, str]:
    """A branch with two managers who have no user yet, and a manager of another branch."""
    with transaction(engine) as session:
        taken = set(session.scalars(select(AppUser.manager_id)))
        rows = session.execute(select(CustomerManager.manager_id, CustomerManager.branch_id)
                               .order_by(CustomerManager.manager_id)).all()
    free: dict[str, list[str]] = {}
    for manager, branch in rows:
        if manager not in taken:
            free.setdefault(branch, []).append(manager)
    home = next(b for b, ms in sorted(free.items()) if len(ms) >= 2)
    other = next(b for b in sorted(free) if b != home)
    return home, free[home][:2], other, free[other][0]


@pytest.fixture
def desk(pipeline_bank: dict[str, Any], pipeline_store: Engine, tmp_path: Path
         ) -> Iterator[dict[str, Any]]:
    copy = copy_bank(pipeline_bank, tmp_path / "bank")
    app, _ = workbench_app(pipeline_store, {**pipeline_bank, "analytic": copy})
    home, (alerted, quiet), other, far_manager = _managers(pipeline_store)
    with AnalyticStore(copy, read_only=False) as analytic:
        con = analytic.connection
        staff_day(con, [(alerted, home, "甲"), (quiet, home, "乙"), (far_manager, other, "丙")],
                  {alerted: "red", far_manager: "orange"})
        checkins(con, alerted)
        opened = open_alert_tasks(pipeline_store, day_alerts(con), AS_OF)
    assert opened["opened"] == 2
    places = {"sup1": (home, None), "sup2": (home, None), "sup3": (other, None),
              "cm": (home, alerted), "aud": (None, None)}
    clients: dict[str, tuple[TestClient, str]] = {}
    with TestClient(app, base_url="https://testserver"):
        for name, role in PEOPLE.items():
            branch, manager = places[name]
            add_user(pipeline_store, name, role, PASSWORD, branch=branch, manager=manager)
            client = TestClient(app, base_url="https://testserver")
            reply = client.post("/api/auth/session",
                                data={"username": name, "password": PASSWORD})
            assert reply.status_code == 200, reply.text
            clients[name] = (client, reply.json()["csrf_token"])
        yield {"engine": pipeline_store, "clients": clients, "alerted": alerted,
               "quiet": quiet, "far": far_manager, "home": home, "other": other,
               "task": f"SA-{AS_OF}-{alerted}", "far_task": f"SA-{AS_OF}-{far_manager}"}
        for client, _ in clients.values():
            client.close()


def _views(engine: Engine) -> int:
    with engine.connect() as c:
        return len(c.execute(select(AuditLog.seq).where(
            AuditLog.action.startswith("staff.view."))).all())


def _last(engine: Engine) -> AuditLog:
    with Session(engine) as session:
        found = session.scalars(select(AuditLog).order_by(AuditLog.seq.desc())).first()
        assert found is not None
        session.expunge(found)
        return found


def test_a_supervisor_sees_the_branch_and_not_another_and_every_view_is_audited(desk) -> None:
    engine = desk["engine"]
    sup, _ = desk["clients"]["sup1"]
    before = _views(engine)
    board = sup.get("/web/staff")
    assert board.status_code == 200, board.text
    assert desk["alerted"] in board.text and desk["quiet"] in board.text
    assert desk["far"] not in board.text and desk["far_task"] not in board.text
    assert desk["task"] in board.text and "红色预警" in board.text
    assert '<svg class="radar"' in board.text and "支行中位数" in board.text
    assert 'href="/web/staff"' in board.text  # the navigation entry
    assert _views(engine) == before + 1
    entry = _last(engine)
    assert entry.actor == "sup1" and entry.action == "staff.view.team"
    assert set(entry.detail["managers"]) == {desk["alerted"], desk["quiet"]}
    page = sup.get(f"/web/staff/managers/{desk['alerted']}")
    assert page.status_code == 200, page.text
    assert '<svg class="checkin-map"' in page.text and f"FAR-{desk['alerted']}" in page.text
    assert 'class="checkin far"' in page.text and "CK-" in page.text  # evidence ids
    assert "打卡远离客户地址" in page.text and "0.42" in page.text and "0.3" in page.text
    assert _views(engine) == before + 2
    entry = _last(engine)
    assert (entry.action, entry.subject_kind, entry.subject_id) == (
        "staff.view.manager", "manager", desk["alerted"])
    outside = sup.get(f"/web/staff/managers/{desk['far']}")
    missing = sup.get("/web/staff/managers/NOBODY")
    assert outside.status_code == missing.status_code == 404
    assert desk["far"] not in outside.text.replace(f"/web/staff/managers/{desk['far']}", "")
    assert _views(engine) == before + 4  # refused attempts are recorded too
    assert audit_count(engine, "staff.view.refused") == 2
    assert sup.get(f"/web/staff/tasks/{desk['far_task']}").status_code == 404
    shown = sup.get(f"/web/staff/tasks/{desk['task']}", follow_redirects=False)
    assert shown.status_code == 303 and shown.headers["location"].endswith(
        f"/web/staff/managers/{desk['alerted']}#{desk['task']}")
    auditor, _ = desk["clients"]["aud"]
    assert auditor.get(f"/web/staff/managers/{desk['far']}").status_code == 200
    everyone = auditor.get("/web/staff")
    assert desk["far"] in everyone.text and desk["alerted"] in everyone.text


def test_a_customer_manager_may_not_open_the_pages_nor_meet_the_alert(desk) -> None:
    cm, csrf = desk["clients"]["cm"]
    before = _views(desk["engine"])
    assert cm.get("/web/staff").status_code == 403
    assert cm.get(f"/web/staff/managers/{desk['alerted']}").status_code == 403
    assert cm.post(f"/web/staff/tasks/{desk['task']}/acknowledge",
                   data={"csrf_token": csrf}).status_code == 403
    assert alert_queue(desk["engine"]).get(desk["task"]).claimed_by is None
    inbox = cm.get("/web/tasks")
    assert inbox.status_code == 200 and desk["task"] not in inbox.text
    assert 'href="/web/staff"' not in inbox.text
    assert cm.get(f"/web/postloan/tasks/{desk['task']}").status_code == 404
    listed = cm.get("/api/tasks", params={"size": 200})
    assert listed.status_code == 200 and desk["task"] not in listed.text
    assert _views(desk["engine"]) == before  # nothing was shown


def test_the_task_buttons_work_with_csrf_and_closing_needs_a_second_person(desk) -> None:
    engine, task = desk["engine"], desk["task"]
    sup, csrf = desk["clients"]["sup1"]
    second, csrf2 = desk["clients"]["sup2"]
    url = f"/web/staff/tasks/{task}"
    page = sup.get(f"/web/staff/managers/{desk['alerted']}")
    assert f'action="{url}/acknowledge"' in page.text
    forged = sup.post(f"{url}/acknowledge", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and alert_queue(engine).get(task).claimed_by is None
    done = sup.post(f"{url}/acknowledge", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and "done=acknowledge" in done.headers["location"]
    assert f'href="{url}"' in sup.get("/web/tasks").text  # the holder's inbox links the page
    assert sup.post(f"{url}/investigate", data={"csrf_token": csrf},
                    follow_redirects=False).status_code == 303
    empty = sup.post(f"{url}/close", data={"csrf_token": csrf, "note": " ",
                                           "outcome": "confirmed"})
    assert empty.status_code == 200 and "调查结论" in empty.text
    closed = sup.post(f"{url}/close", data={"csrf_token": csrf, "outcome": "explained",
                                            "note": "客户搬迁，地址未更新"},
                      follow_redirects=False)
    assert closed.status_code == 303
    view = alert_queue(engine).get(task)
    assert view.status == TaskStatus.IN_PROGRESS and view.stage == "checker"
    mine = sup.get(f"/web/staff/managers/{desk['alerted']}")
    assert f'action="{url}/confirm"' not in mine.text  # not offered to the maker
    refused = sup.post(f"{url}/confirm", data={"csrf_token": csrf})
    assert refused.status_code == 200 and "复核人不能是经办人" in refused.text
    other, other_csrf = desk["clients"]["sup3"]
    assert other.post(f"{url}/confirm", data={"csrf_token": other_csrf}).status_code == 404
    offered = second.get(f"/web/staff/managers/{desk['alerted']}")
    assert f'action="{url}/confirm"' in offered.text and "客户搬迁" in offered.text
    assert second.post(f"{url}/confirm", data={"csrf_token": csrf2, "note": "同意"},
                       follow_redirects=False).status_code == 303
    final = alert_queue(engine).get(task)
    assert final.status == TaskStatus.DONE and final.result["checked_by"] == "sup2"
    assert [e.action for e in alert_queue(engine).events(task)] == [
        "create", "claim", "start", "submit_check", "check_confirm"]
    far_url = f"/web/staff/tasks/{desk['far_task']}"
    other.post(f"{far_url}/acknowledge", data={"csrf_token": other_csrf})
    bare = other.post(f"{far_url}/escalate", data={"csrf_token": other_csrf, "note": ""})
    assert bare.status_code == 200 and "escalating needs a note" in bare.text
    up = other.post(f"{far_url}/escalate", data={"csrf_token": other_csrf,
                                                  "note": "涉及多名客户，上报审计"},
                    follow_redirects=False)
    assert up.status_code == 303
    assert alert_queue(engine).get(desk["far_task"]).status == TaskStatus.ESCALATED
    auditor, aud_csrf = desk["clients"]["aud"]
    assert auditor.post(f"{far_url}/acknowledge", data={"csrf_token": aud_csrf}
                        ).status_code == 403  # a read-only role never acts
    assert auditor.post(f"{far_url}/confirm", data={"csrf_token": aud_csrf}
                        ).status_code == 403
    assert other.post(f"{far_url}/approve", data={"csrf_token": other_csrf}
                      ).status_code == 404


def test_the_pages_in_chinese_and_in_english(desk) -> None:
    sup, _ = desk["clients"]["sup1"]
    zh = sup.get(f"/web/staff/managers/{desk['alerted']}")
    assert '<html lang="zh-CN">' in zh.text and "能力雷达图" in zh.text and "业务量" in zh.text
    assert ">确认接收</button>" in zh.text and "打卡与客户经营地址" in zh.text
    sup.cookies.set("xw_lang", "en")
    en = sup.get(f"/web/staff/managers/{desk['alerted']}")
    assert '<html lang="en">' in en.text and "Ability radar" in en.text
    assert "business volume" in en.text and ">acknowledge</button>" in en.text
    assert "check-ins and business addresses" in en.text and "能力雷达图" not in en.text
    board = sup.get("/web/staff")
    assert "Staff management" in board.text and "red alert" in board.text
