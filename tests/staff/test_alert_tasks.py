"""Staff alerts become supervisor tasks: one per manager and day with the level's deadline;
opening the day again opens nothing new; the manager the alert is about never holds it, never
sees it in a task list and cannot act on it; acknowledge → investigate → close needs a second
person, and an alert can be escalated (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, func, select
from tests.staff.test_staff_view import AS_OF, day_alerts, staff_day

from xiaowei.engine.workflow import CheckerRefused, NotClaimant, WorkflowError
from xiaowei.entities.datafiles import DataFileError
from xiaowei.entities.task import TaskKind, TaskStatus
from xiaowei.security.principal import STAFF_PAGES_ONLY, Principal, visible_tasks
from xiaowei.security.roles import default_roles
from xiaowei.staff import alert_tasks as alerts
from xiaowei.store.database import transaction
from xiaowei.store.tables import Branch, CustomerManager, Task, TaskEvent

UTC = dt.UTC


@pytest.fixture
def day(migrated_engine: Engine) -> Iterator[tuple[Engine, list[dict]]]:
    """Two branches with two managers each; the batch's alerts for M1 (red, B1), M3 (orange,
    B2) and M4 (yellow, B2) on a Friday."""
    with transaction(migrated_engine) as session:
        for b in ("B1", "B2"):
            session.add(Branch(branch_id=b, name=f"支行{b}", region_code="330100"))
        session.flush()
        for m, b in (("M1", "B1"), ("M2", "B1"), ("M3", "B2"), ("M4", "B2")):
            session.add(CustomerManager(manager_id=m, name=f"经理{m}", branch_id=b,
                                        risk_tier=2, hired_on=dt.date(2020, 1, 1),
                                        phone="13812345678"))
    con = duckdb.connect()
    staff_day(con, [("M1", "B1", "王"), ("M2", "B1", "李"), ("M3", "B2", "赵"),
                    ("M4", "B2", "钱")], {"M1": "red", "M3": "orange", "M4": "yellow"})
    rows = day_alerts(con)
    con.close()
    yield migrated_engine, rows


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return c.scalar(select(func.count()).select_from(Task).where(
            Task.queue == alerts.ALERT_QUEUE)) or 0


def _who(role: str, branch: str | None = None, manager: str | None = None) -> Principal:
    return Principal(f"u.{role}.{manager or branch}", f"u.{role}", role, branch, manager,
                     default_roles().role(role).permissions)


def test_one_task_per_alert_due_by_the_levels_deadline_and_opened_once(day) -> None:
    engine, rows = day
    first = alerts.open_alert_tasks(engine, rows, AS_OF)
    assert first["opened"] == 3 and first["existing"] == 0
    assert first["by_level"] == {"red": 1, "orange": 1, "yellow": 1}
    assert json.loads(json.dumps(first)) == first  # the batch stores it as JSON
    queue = alerts.alert_queue(engine)
    red = queue.get("SA-2025-03-28-M1")
    assert red.kind == str(TaskKind.STAFF_ALERT) and red.status == TaskStatus.OPEN
    assert red.claimed_by is None and red.links["assignee_id"] is None
    assert red.payload["manager_id"] == "M1" and red.payload["branch_id"] == "B1"
    assert red.payload["level"] == "red" and red.payload["as_of"] == "2025-03-28"
    assert red.payload["categories"] == ["location"]
    assert red.payload["signals"][0]["signal"] == "geofence_miss"
    assert red.payload["signals"][0]["evidence"][:2] == ["CK-M1-0", "CK-M1-1"]
    # Raised at 08:30 Beijing on Saturday: red on the clock (24 h); orange 3 and yellow 10
    # working days, each ending at 17:30 Beijing (09:30 UTC).
    assert red.due_at == dt.datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert queue.get("SA-2025-03-28-M3").due_at == dt.datetime(2025, 4, 2, 9, 30, tzinfo=UTC)
    assert queue.get("SA-2025-03-28-M4").due_at == dt.datetime(2025, 4, 11, 9, 30, tzinfo=UTC)
    assert [e.action for e in queue.events(red.task_id)] == ["create"]
    assert queue.events(red.task_id)[0].actor == alerts.SYSTEM
    again = alerts.open_alert_tasks(engine, rows, AS_OF)
    assert again["opened"] == 0 and again["existing"] == 3 and _count(engine) == 3
    late = queue.overdue(dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC), queue=alerts.ALERT_QUEUE)
    assert [v.task_id for v, _ in late] == ["SA-2025-03-28-M1"]


def test_a_malformed_day_opens_nothing(day) -> None:
    engine, rows = day
    for bad, message in (({**rows[0], "level": "none"}, "level must be one of"),
                         ({**rows[0], "as_of": AS_OF - dt.timedelta(days=1)}, "not of"),
                         ({**rows[0], "manager_id": " "}, "manager_id is missing"),
                         ({**rows[0], "manager_id": "M" * 40}, "longer than 32")):
        with pytest.raises(ValueError, match=message):
            alerts.open_alert_tasks(engine, [rows[1], bad], AS_OF)
    assert _count(engine) == 0
    assert alerts.open_alert_tasks(engine, [], AS_OF)["opened"] == 0


def test_the_manager_never_holds_or_sees_the_task_nor_acts_on_it(day) -> None:
    engine, rows = day
    alerts.open_alert_tasks(engine, rows, AS_OF)
    with transaction(engine) as session:  # ordinary work assigned to M1, for contrast
        session.add(Task(task_id="PL-1", kind="inspection", queue="postloan_warning",
                         status="open", assignee_id="M1", created_at=dt.datetime.now(UTC),
                         payload={}, revision=0))
    assert STAFF_PAGES_ONLY == (alerts.ALERT_QUEUE,)
    for who in (_who("customer_manager", "B1", "M1"), _who("supervisor", "B1"),
                _who("auditor"), _who("admin"), _who("approver", "B1")):
        with transaction(engine) as session:
            seen = set(session.scalars(select(Task.task_id).where(visible_tasks(who))))
        assert not {t for t in seen if t.startswith("SA-")}, who.role
        if who.role in ("customer_manager", "auditor", "admin"):
            assert "PL-1" in seen, who.role  # the filter leaves other work alone
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task).where(
            Task.queue == alerts.ALERT_QUEUE, Task.assignee_id.is_not(None))) == 0
    task = "SA-2025-03-28-M1"
    with pytest.raises(alerts.SubjectRefused, match="M1"):
        alerts.acknowledge(engine, task, "wang.cm", manager_id="M1")
    with pytest.raises(alerts.SubjectRefused):
        alerts.acknowledge(engine, task, "m1")  # the manager id as a user name, any case
    alerts.acknowledge(engine, task, "zhao.sup")
    alerts.investigate(engine, task, "zhao.sup")
    alerts.close(engine, task, "zhao.sup", "核实为误报", "explained")
    with pytest.raises(alerts.SubjectRefused):
        alerts.confirm(engine, task, "wang.cm", manager_id="M1")
    assert alerts.alert_task(engine, task).status == TaskStatus.IN_PROGRESS
    with pytest.raises(alerts.TaskNotFound):
        alerts.alert_task(engine, "PL-1")  # not a staff alert


def test_closing_needs_a_second_person(day) -> None:
    engine, rows = day
    alerts.open_alert_tasks(engine, rows, AS_OF)
    task = "SA-2025-03-28-M3"
    with pytest.raises(NotClaimant):
        alerts.investigate(engine, task, "qian.sup")  # acknowledge first
    assert alerts.acknowledge(engine, task, "qian.sup").status == TaskStatus.ACKNOWLEDGED
    assert alerts.investigate(engine, task, "qian.sup").status == TaskStatus.IN_PROGRESS
    with pytest.raises(WorkflowError, match="调查结论"):
        alerts.close(engine, task, "qian.sup", "  ", "confirmed")
    with pytest.raises(WorkflowError, match="outcome must be one of"):
        alerts.close(engine, task, "qian.sup", "属实", "guilty")
    made = alerts.close(engine, task, "qian.sup", "两次打卡距客户地址2公里以上，属实",
                        "confirmed")
    assert made.status == TaskStatus.IN_PROGRESS and made.stage == "checker"
    with pytest.raises(CheckerRefused, match="checker cannot be the maker"):
        alerts.confirm(engine, task, "Qian.Sup")
    back = alerts.return_closing(engine, task, "sun.audit", note="补充轨迹证据")
    assert back.stage == "returned" and back.claimed_by == "qian.sup"
    alerts.close(engine, task, "qian.sup", "补充了轨迹：属实", "confirmed")
    done = alerts.confirm(engine, task, "sun.audit", note="同意")
    assert done.status == TaskStatus.DONE and done.result["checked_by"] == "sun.audit"
    assert done.result["outcome"] == "confirmed" and done.result["maker"] == "qian.sup"
    with transaction(engine) as session:
        steps = list(session.scalars(select(TaskEvent.action).where(
            TaskEvent.task_id == task).order_by(TaskEvent.event_id)))
    assert steps == ["create", "claim", "start", "submit_check", "check_refuse",
                     "submit_check", "check_confirm"]
    assert alerts.alert_tasks(engine, manager_ids=["M3"]) == []
    assert [t.task_id for t in alerts.alert_tasks(engine, manager_ids=["M3"],
                                                  open_only=False)] == [task]


def test_an_alert_can_be_escalated_and_taken_up(day) -> None:
    engine, rows = day
    alerts.open_alert_tasks(engine, rows, AS_OF)
    task = "SA-2025-03-28-M4"
    alerts.acknowledge(engine, task, "qian.sup")
    with pytest.raises(WorkflowError, match="note"):
        alerts.escalate(engine, task, "qian.sup", note=" ")
    with pytest.raises(NotClaimant):
        alerts.escalate(engine, task, "li.sup", note="不归我")
    up = alerts.escalate(engine, task, "qian.sup", note="涉及支行负责人，上报", to="audit")
    assert up.status == TaskStatus.ESCALATED and up.claimed_by is None
    taken = alerts.acknowledge(engine, task, "sun.audit")
    assert taken.status == TaskStatus.ACKNOWLEDGED and taken.claimed_by == "sun.audit"
    trail = alerts.alert_queue(engine).events(task)
    assert trail[-2].action == "escalate" and trail[-2].detail == {"to": "audit"}
    assert {t.task_id for t in alerts.alert_tasks(engine)} == {
        "SA-2025-03-28-M1", "SA-2025-03-28-M3", task}


def test_the_rules_file_is_checked_with_line_numbers(tmp_path: Path) -> None:
    rules = alerts.load_alert_rules()
    assert rules.levels["red"].respond_within.hours == 24
    assert rules.levels["orange"].respond_within.working_days == 3
    assert set(rules.steps) == set(alerts.STEPS) and "confirmed" in rules.outcomes
    text = (Path(alerts.__file__).parent / "alerts.yaml").read_text("utf-8")
    broken = tmp_path / "alerts.yaml"
    broken.write_text(text.replace("respond_within: {hours: 24}",
                                   "respond_within: {hours: 24, working_days: 1}"), "utf-8")
    with pytest.raises(DataFileError, match=r"alerts.yaml:\d+: levels.red.respond_within"):
        alerts.load_alert_rules(broken)
    broken.write_text(text.replace("  escalate: {zh: 上报升级, en: escalate}\n", ""), "utf-8")
    with pytest.raises(DataFileError, match="missing \\['escalate'\\]"):
        alerts.load_alert_rules(broken)
