"""The workflow engine: service levels (pure), and the work queue on SQLite and PostgreSQL —
claims under a race, maker–checker, the SLA sweep, refused transitions and the audit trail."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from xiaowei.engine.workflow import (
    AlreadyClaimed,
    CheckerRefused,
    NewTask,
    NotClaimant,
    QueueRules,
    ServiceLevel,
    TaskNotFound,
    TransitionRefused,
    WorkflowError,
    WorkingCalendar,
    WorkQueue,
    check_move,
    format_late,
    needs_checker,
)
from xiaowei.entities.task import TaskStatus
from xiaowei.store.database import transaction
from xiaowei.store.tables import Decision, TaskEvent

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # a Monday, 17:30 in Beijing


# -- service levels (pure) -----------------------------------------------------------------

def test_working_hours_skip_the_night_and_the_weekend() -> None:
    cal = WorkingCalendar()
    friday_4pm = dt.datetime(2026, 3, 6, 16, 0, tzinfo=CST)
    due = ServiceLevel(hours=4, calendar=cal).due(friday_4pm)
    # 1.5 h on Friday, then 2.5 h from Monday 09:00 → Monday 11:30 Beijing time
    assert due == dt.datetime(2026, 3, 9, 11, 30, tzinfo=CST)
    assert due.tzinfo == dt.UTC


def test_plain_hours_run_on_the_clock() -> None:
    friday_4pm = dt.datetime(2026, 3, 6, 16, 0, tzinfo=CST)
    assert ServiceLevel(hours=4).due(friday_4pm) == dt.datetime(2026, 3, 6, 20, 0, tzinfo=CST)


def test_holidays_and_working_days() -> None:
    cal = WorkingCalendar(holidays=frozenset({dt.date(2026, 3, 9)}),
                          extra_workdays=frozenset({dt.date(2026, 3, 7)}))
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=CST)
    # Saturday is worked in lieu, Monday is a holiday: 2 working days → end of Tuesday
    assert ServiceLevel(days=2, calendar=cal).due(friday) == \
        dt.datetime(2026, 3, 10, 17, 30, tzinfo=CST)
    before_opening = dt.datetime(2026, 3, 6, 7, 0, tzinfo=CST)
    assert ServiceLevel(hours=1, calendar=cal).due(before_opening) == \
        dt.datetime(2026, 3, 6, 10, 0, tzinfo=CST)


@pytest.mark.parametrize("kwargs, word", [({}, "exactly one"), ({"hours": 1, "days": 1},
                                          "exactly one"), ({"hours": -1}, "positive")])
def test_service_level_refuses_bad_settings(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        ServiceLevel(**kwargs)


def test_naive_start_and_bad_calendar_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ServiceLevel(hours=1).due(dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="day_end"):
        WorkingCalendar(day_start=dt.time(18), day_end=dt.time(9))
    with pytest.raises(ValueError, match="weekdays"):
        WorkingCalendar(weekdays=frozenset({0}))


def test_transition_table_is_the_shared_one() -> None:
    assert check_move("T1", "open", "acknowledged") == TaskStatus.ACKNOWLEDGED
    with pytest.raises(TransitionRefused, match="from 'done' to 'in_progress'") as err:
        check_move("T1", "done", "in_progress")
    assert "none: it is final" in str(err.value)
    assert needs_checker(Decimal("3000000.01"), Decimal(3_000_000))
    assert not needs_checker(Decimal(3_000_000), Decimal(3_000_000))
    assert not needs_checker(Decimal(9), None)
    assert format_late(dt.timedelta(days=2, hours=3)) == "2天3小时 2d 3h"


# -- the queue in the store ----------------------------------------------------------------

class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def wq(engine: Engine, clock: Clock) -> WorkQueue:
    rules = [QueueRules("approvals", ServiceLevel(hours=2), checker_above=Decimal(1000)),
             QueueRules("visits", ServiceLevel(days=1, calendar=WorkingCalendar()))]
    return WorkQueue(engine, rules, clock=clock)


def new(wq: WorkQueue, queue: str = "approvals", **kw: object) -> str:
    return wq.create(NewTask(kind="manual_review", queue=queue, **kw), "system").task_id


def test_create_uses_the_queue_service_level_and_is_idempotent(wq: WorkQueue) -> None:
    task = wq.create(NewTask(kind="manual_review", queue="approvals", task_id="TQ1"), "sys")
    assert task.status == TaskStatus.OPEN and task.due_at == T0 + dt.timedelta(hours=2)
    again = wq.create(NewTask(kind="manual_review", queue="approvals", task_id="TQ1"), "sys")
    assert again.task_id == "TQ1" and len(wq.events("TQ1")) == 1
    visit = wq.get(new(wq, "visits"))
    # Monday 17:30 Beijing (closing time) + 1 working day → Tuesday 17:30 Beijing
    assert visit.due_at == dt.datetime(2026, 3, 3, 17, 30, tzinfo=CST)


def test_claim_release_and_second_claimer_is_told_who_holds_it(wq: WorkQueue) -> None:
    tid = new(wq)
    held = wq.claim(tid, "wang.li")
    assert held.status == TaskStatus.ACKNOWLEDGED and held.claimed_by == "wang.li"
    assert wq.claim(tid, "WANG.LI").revision == held.revision  # own claim again: no change
    with pytest.raises(AlreadyClaimed, match=r"already claimed by wang\.li at 2026-03-02 09:30"):
        wq.claim(tid, "zhao.min")
    with pytest.raises(NotClaimant, match=r"held by wang\.li"):
        wq.release(tid, "zhao.min")
    wq.release(tid, "wang.li", note="lunch")
    assert wq.claim(tid, "zhao.min").claimed_by == "zhao.min"
    actions = [(e.action, e.from_status, e.to_status, e.actor) for e in wq.events(tid)]
    assert actions == [("create", None, "open", "system"),
                       ("claim", "open", "acknowledged", "wang.li"),
                       ("release", "acknowledged", "acknowledged", "wang.li"),
                       ("claim", "acknowledged", "acknowledged", "zhao.min")]


def test_claim_race_has_exactly_one_winner(wq: WorkQueue) -> None:
    tid = new(wq)
    users = [f"user{i}" for i in range(8)]
    winners: list[str] = []
    losers: list[str] = []
    barrier = threading.Barrier(len(users))

    def claim(user: str) -> None:
        barrier.wait()
        try:
            wq.claim(tid, user)
            winners.append(user)
        except AlreadyClaimed as exc:
            losers.append(str(exc))

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(losers) == len(users) - 1
    assert all(f"already claimed by {winners[0]}" in msg for msg in losers)
    claims = [e for e in wq.events(tid) if e.action == "claim"]
    assert [e.actor for e in claims] == winners
    assert wq.get(tid).revision == 1


def test_complete_below_threshold_is_final_and_runs_the_hook(wq: WorkQueue) -> None:
    tid = new(wq)
    wq.claim(tid, "wang.li")
    seen = []
    done = wq.complete(tid, "wang.li", {"outcome": "approve"}, amount=Decimal(1000),
                       on_final=lambda session, view: seen.append(view.status))
    assert done.status == TaskStatus.DONE and done.stage == "final"
    assert done.result["amount"] == "1000" and done.closed_at == T0
    assert seen == [TaskStatus.DONE]
    assert [e.action for e in wq.events(tid)][-2:] == ["start", "complete"]


def test_maker_checker_needs_a_different_person(wq: WorkQueue, engine: Engine) -> None:
    tid = new(wq)
    wq.claim(tid, "wang.li")
    made = wq.complete(tid, "wang.li", {"outcome": "approve"}, amount=Decimal("1000.01"))
    assert made.status == TaskStatus.IN_PROGRESS and made.stage == "checker"
    with pytest.raises(CheckerRefused, match=r"checker cannot be the maker: Wang\.Li"):
        wq.confirm(tid, "Wang.Li")
    with pytest.raises(AlreadyClaimed, match="awaiting a checker"):
        wq.claim(tid, "zhao.min")
    returned = wq.refuse(tid, "zhao.min", note="income not verified")
    assert returned.stage == "returned" and returned.claimed_by == "wang.li"
    wq.complete(tid, "wang.li", {"outcome": "approve"}, amount=Decimal(5000))

    def hook(session, view) -> None:  # the hook writes inside the confirming transaction
        raise RuntimeError("domain record failed")

    with pytest.raises(RuntimeError):
        wq.confirm(tid, "zhao.min", on_final=hook)
    assert wq.get(tid).stage == "checker"  # rolled back with the hook
    final = wq.confirm(tid, "zhao.min", note="ok")
    assert final.status == TaskStatus.DONE and final.result["checked_by"] == "zhao.min"
    assert final.result["maker"] == "wang.li"
    with pytest.raises(CheckerRefused, match="not awaiting a checker"):
        wq.confirm(tid, "qian.hu")
    actions = [e.action for e in wq.events(tid)]
    assert actions[-4:] == ["submit_check", "check_refuse", "submit_check", "check_confirm"]


def test_illegal_transitions_are_refused_naming_both_states(wq: WorkQueue) -> None:
    tid = new(wq)
    wq.cancel(tid, "supervisor", note="duplicate")
    with pytest.raises(TransitionRefused, match="from 'cancelled' to 'acknowledged'"):
        wq.claim(tid, "wang.li")
    with pytest.raises(TransitionRefused, match="from 'cancelled' to 'escalated'"):
        wq.escalate(tid, "wang.li", note="help")
    with pytest.raises(NotClaimant, match="not claimed"):
        wq.complete(new(wq), "wang.li", {})
    with pytest.raises(TaskNotFound, match="no task 'NOPE'"):
        wq.claim("NOPE", "wang.li")


def test_escalated_task_is_claimed_again(wq: WorkQueue) -> None:
    tid = new(wq)
    wq.claim(tid, "wang.li")
    up = wq.escalate(tid, "wang.li", note="above my authority", to="chief")
    assert up.status == TaskStatus.ESCALATED and up.claimed_by is None
    assert wq.claim(tid, "chief").status == TaskStatus.ACKNOWLEDGED
    assert wq.events(tid)[-2].detail == {"to": "chief"}


def test_sla_sweep_records_a_breach_once(wq: WorkQueue, clock: Clock, engine: Engine) -> None:
    late_id, on_time = new(wq), new(wq, "visits")
    closed = new(wq)
    wq.cancel(closed, "sup", note="x")
    clock.now = T0 + dt.timedelta(hours=5)
    overdue = wq.overdue()
    assert [(v.task_id, late) for v, late in overdue] == [(late_id, dt.timedelta(hours=3))]
    first = wq.sweep_overdue()
    assert [v.task_id for v, _ in first] == [late_id]
    assert wq.sweep_overdue() == []  # idempotent
    with transaction(engine) as session:
        breaches = session.scalars(select(TaskEvent).where(TaskEvent.action == "sla_breach")
                                   ).all()
        assert [(b.task_id, b.detail["late_seconds"]) for b in breaches] == [(late_id, 10800)]
        assert session.scalar(select(Decision)) is None
    assert on_time not in {v.task_id for v, _ in wq.overdue()}


def test_concurrent_sweeps_record_one_breach(wq: WorkQueue, clock: Clock,
                                             engine: Engine) -> None:
    ids = [new(wq) for _ in range(3)]
    clock.now = T0 + dt.timedelta(days=1)
    threads = [threading.Thread(target=wq.sweep_overdue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with transaction(engine) as session:
        rows = session.scalars(select(TaskEvent.task_id).where(
            TaskEvent.action == "sla_breach")).all()
    assert sorted(rows) == sorted(ids)


def test_listing_by_queue_and_holder(wq: WorkQueue) -> None:
    a, b = new(wq), new(wq, "visits")
    wq.claim(b, "wang.li")
    assert [t.task_id for t in wq.tasks(queue="approvals")] == [a]
    assert [t.task_id for t in wq.tasks(claimed_by="Wang.Li")] == [b]
    assert wq.tasks(queue="nobody") == []


def test_logging_work_is_audited_for_the_holder_only(wq: WorkQueue) -> None:
    tid = new(wq)
    with pytest.raises(WorkflowError):
        wq.log(tid, "wang.li", "contact", note="nobody holds it yet")
    wq.claim(tid, "wang.li")
    with pytest.raises(WorkflowError):
        wq.log(tid, "zhao.min", "contact", note="not the holder")
    with pytest.raises(WorkflowError, match="a word"):
        wq.log(tid, "wang.li", "drop table", note="not an action name")
    logged = wq.log(tid, "wang.li", "contact", note="called", detail={"channel": "phone",
                                                                     "amount": Decimal("5.50")})
    assert logged.status == TaskStatus.IN_PROGRESS  # work has begun
    again = wq.log(tid, "wang.li", "contact", note="called again")
    assert again.status == TaskStatus.IN_PROGRESS and again.revision == logged.revision + 1
    events = wq.events(tid)
    assert [e.action for e in events[-2:]] == ["contact", "contact"]
    assert events[-2].detail == {"channel": "phone", "amount": "5.50"}
