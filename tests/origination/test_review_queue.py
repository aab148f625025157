"""The manual review queue on SQLite and PostgreSQL: opening, the review file, overturns that
need a note, maker–checker above the configured threshold, the official decision row, and the
YAML parameters' line-numbered errors."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.workflow_rows import intake_status, seed_application, seed_bank

from xiaowei.engine.workflow import CheckerRefused
from xiaowei.entities.datafiles import DataFileError
from xiaowei.entities.task import TaskStatus
from xiaowei.origination.review_queue import ReviewError, ReviewQueue, load_review_rules
from xiaowei.store.database import transaction
from xiaowei.store.tables import Decision, Task

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 Beijing


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    seed_bank(migrated_engine)
    return migrated_engine


@pytest.fixture
def queue(engine: Engine) -> ReviewQueue:
    return ReviewQueue(engine, clock=lambda: NOW)


def decisions(engine: Engine) -> list[Decision]:
    with transaction(engine) as session:
        return list(session.scalars(select(Decision)))


def test_open_review_builds_the_file(engine: Engine, queue: ReviewQueue) -> None:
    seed_application(engine, "A1", amount="2000000", mode="human")
    task = queue.open("A1", by="system")
    assert task.queue == "manual_review" and task.status == TaskStatus.OPEN
    # human mode, 1–3 million band: 16 working hours from Monday 10:00 Beijing time:
    # 7.5 h on Monday, 8.5 h on Tuesday → Tuesday 17:30 Beijing = 09:30 UTC
    assert task.due_at == dt.datetime(2026, 3, 3, 9, 30, tzinfo=dt.UTC)
    assert queue.open("A1", by="system").task_id == task.task_id  # idempotent
    assert intake_status(engine, "A1") == "in_review"
    file = queue.file(task.task_id)
    assert file["application"]["amount"] == "2000000.00"
    assert file["application"]["party_name"] == "杭州**贸易有限公司"
    assert file["tags"]["tag.tax_sales_12m"] == 2400000
    assert file["trace"][0]["hits"] == ["RT03"]
    assert file["reasons"][0]["zh"] == "评级C2且金额较大"
    assert file["scores"] == {"scorecard": 0.083}
    assert file["proposal"] == {"outcome": "approve", "limit": "400000.00"}
    assert file["decision"]["pack_version"] == "abc123"
    assert [e["action"] for e in file["events"]] == ["create"]


def test_concurrent_openings_make_one_review(engine: Engine) -> None:
    """Two servers open the review of one application at once: one task, both get it."""
    seed_application(engine, "A-RACE-LONG-KEY-00000000001", amount="500000", mode="human")
    barrier = threading.Barrier(4)
    got: list[str] = []

    def open_one() -> None:
        barrier.wait()
        got.append(ReviewQueue(engine, clock=lambda: NOW).open(
            "A-RACE-LONG-KEY-00000000001", by="system").task_id)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and len(set(got)) == 1 and len(got[0]) <= 32
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task).where(
            Task.application_id == "A-RACE-LONG-KEY-00000000001")) == 1


def test_automatic_case_has_nothing_to_review(engine: Engine, queue: ReviewQueue) -> None:
    seed_application(engine, "A2", outcome="approve", mode="automatic")
    with pytest.raises(ReviewError, match="decided automatically"):
        queue.open("A2", by="system")
    with pytest.raises(ReviewError, match="no application 'NOPE'"):
        queue.open("NOPE", by="system")


def test_approve_at_the_proposal_writes_the_official_decision(engine: Engine,
                                                              queue: ReviewQueue) -> None:
    seed_application(engine, "A3")
    task = queue.open("A3", by="system")
    queue.claim(task.task_id, by="li.shen")
    done = queue.approve(task.task_id, by="li.shen")
    assert done.status == TaskStatus.DONE
    [row] = decisions(engine)
    assert (row.outcome, row.decided_by, row.approved_amount, row.strategy_version) == \
        ("approve", "li.shen", Decimal("400000.00"), "abc123")
    assert row.reasons[0]["code"] == "HUMAN_APPROVE" and row.reasons[1]["code"] == "RT03"
    assert intake_status(engine, "A3") == "decided"


def test_overturning_the_engine_needs_a_note(engine: Engine, queue: ReviewQueue) -> None:
    seed_application(engine, "A4")
    task = queue.open("A4", by="system")
    queue.claim(task.task_id, by="li.shen")
    with pytest.raises(ReviewError, match=r"against the engine's proposal \(approve"):
        queue.reject(task.task_id, by="li.shen")
    with pytest.raises(ReviewError, match="needs a note"):
        queue.approve(task.task_id, by="li.shen", amount=Decimal(450000))  # above the limit
    assert decisions(engine) == []
    queue.reject(task.task_id, by="li.shen", note="销售额下滑 sales falling")
    [row] = decisions(engine)
    assert row.outcome == "reject" and row.approved_amount is None
    assert row.reasons[0]["detail"]["note"] == "销售额下滑 sales falling"
    assert row.reasons[0]["detail"]["overturn"] is True


def test_large_approval_needs_a_checker_who_is_not_the_maker(engine: Engine,
                                                             queue: ReviewQueue) -> None:
    seed_application(engine, "A5", amount="5000000", limit="3500000")
    task = queue.open("A5", by="system")
    queue.claim(task.task_id, by="li.shen")
    made = queue.approve(task.task_id, by="li.shen")
    assert made.status == TaskStatus.IN_PROGRESS and made.stage == "checker"
    assert decisions(engine) == []  # not final before the checker
    with pytest.raises(CheckerRefused, match="checker cannot be the maker"):
        queue.check(task.task_id, by="LI.SHEN", confirm=True)
    final = queue.check(task.task_id, by="zhou.yu", confirm=True)
    assert final.status == TaskStatus.DONE
    [row] = decisions(engine)
    assert row.decided_by == "li.shen" and row.reasons[0]["detail"]["checked_by"] == "zhou.yu"
    assert row.approved_amount == Decimal("3500000.00")


def test_checker_refusal_returns_the_case(engine: Engine, queue: ReviewQueue) -> None:
    seed_application(engine, "A6", amount="5000000", limit="3500000")
    task = queue.open("A6", by="system")
    queue.claim(task.task_id, by="li.shen")
    queue.approve(task.task_id, by="li.shen")
    back = queue.check(task.task_id, by="zhou.yu", confirm=False, note="看不到流水 no statements")
    assert back.stage == "returned" and back.claimed_by == "li.shen"
    assert decisions(engine) == []
    queue.approve(task.task_id, by="li.shen", amount=Decimal(3000000))  # at threshold: final
    assert [d.approved_amount for d in decisions(engine)] == [Decimal("3000000.00")]


def test_rules_file_errors_name_the_line(tmp_path: Path) -> None:
    rules = load_review_rules()
    assert rules.maker_checker.checker_above_yuan == Decimal(3000000)
    text = (Path(__file__).parents[2] / "src/xiaowei/origination/review_queue.yaml").read_text()
    bad = tmp_path / "review_queue.yaml"
    bad.write_text(text.replace("checker_above_yuan: 3000000", "checker_above_yuan: -1"))
    with pytest.raises(DataFileError, match=r"review_queue.yaml:\d+: maker_checker"):
        load_review_rules(bad)
    bad.write_text(text.replace("{up_to_yuan: null, hours: 24", "{up_to_yuan: 9, hours: 24"))
    with pytest.raises(DataFileError, match="last band must have up_to_yuan: null"):
        load_review_rules(bad)
