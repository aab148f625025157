"""Due-diligence tasks on SQLite and PostgreSQL: the checklist by DD level, complete and
evidenced findings only, and an adverse finding sending the case back to manual review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.workflow_rows import MANAGER, intake_status, seed_application, seed_bank

from xiaowei.engine.workflow import NotClaimant
from xiaowei.entities.datafiles import DataFileError
from xiaowei.entities.task import TaskStatus
from xiaowei.origination.due_diligence import (
    DueDiligence,
    DueDiligenceError,
    Finding,
    load_due_diligence_rules,
)

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 Beijing
RULES = load_due_diligence_rules()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    seed_bank(migrated_engine)
    return migrated_engine


@pytest.fixture
def dd(engine: Engine) -> DueDiligence:
    return DueDiligence(engine, clock=lambda: NOW)


def all_ok(level: str, **changes: str) -> list[Finding]:
    out = []
    for item in RULES.checklist(level):
        outcome, _, note = changes.get(item.id, "ok:seen").partition(":")
        out.append(Finding(item.id, outcome, note or None))
    return out


def test_checklists_by_level() -> None:
    ids = {lvl: [i.id for i in RULES.checklist(lvl)] for lvl in ("none", "light", "standard",
                                                                 "deep")}
    assert ids["none"] == []
    assert "call_video_interview" in ids["light"] and "site_premises" not in ids["light"]
    assert {"site_premises", "site_stock", "site_utility_meters", "site_books_vs_tax",
            "site_legal_rep_met"} <= set(ids["standard"])
    assert set(ids["standard"]) < set(ids["deep"])
    assert {"deep_collateral", "deep_guarantor_visit", "deep_related_parties"} <= set(ids["deep"])
    assert all(i.evidence in ("photo", "document", "note", "none") for i in RULES.items)


def test_no_task_for_level_none(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A1", outcome="approve", mode="automatic", dd_level="none")
    assert dd.open("A1", by="system") is None


def test_open_assigns_the_manager_with_the_level_sla(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A2", outcome="approve", mode="automatic", dd_level="standard")
    task = dd.open("A2", by="system")
    assert task is not None and task.claimed_by == MANAGER
    assert task.links["assignee_id"] == MANAGER and task.status == TaskStatus.ACKNOWLEDGED
    # 5 working days from Monday → end of next Monday (17:30 Beijing = 09:30 UTC)
    assert task.due_at == dt.datetime(2026, 3, 9, 9, 30, tzinfo=dt.UTC)
    assert dd.open("A2", by="system").task_id == task.task_id
    assert intake_status(engine, "A2") == "in_dd"
    sheet = dd.checklist(task.task_id)
    assert sheet["dd_level"] == "standard" and len(sheet["items"]) == 10
    assert sheet["items"][0]["finding"] is None


def test_open_without_a_manager_is_refused(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A3", dd_level="light", manager=None)
    with pytest.raises(DueDiligenceError, match="no customer manager yet"):
        dd.open("A3", by="system")


def test_incomplete_or_unknown_items_are_named(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A4", outcome="approve", mode="automatic", dd_level="light")
    task = dd.open("A4", by="system")
    assert task is not None
    findings = [*all_ok("light")[1:], Finding("site_premises", "ok", "x"),
                Finding("call_video_interview", "ok", None)]
    with pytest.raises(DueDiligenceError) as err:
        dd.record(task.task_id, by=MANAGER, findings=findings)
    text = str(err.value)
    assert "unknown item ids for this light checklist: ['site_premises']" in text
    assert "missing items: ['doc_licence']" in text
    assert "items recorded twice: ['call_video_interview']" in text
    assert "needs evidence (note)" in text
    assert dd.work.get(task.task_id).status == TaskStatus.ACKNOWLEDGED
    with pytest.raises(NotClaimant, match="held by M001"):
        dd.record(task.task_id, by="someone.else", findings=all_ok("light"))


def test_clean_findings_close_the_task(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A5", outcome="approve", mode="automatic", dd_level="light")
    task = dd.open("A5", by="system")
    assert task is not None
    outcome = dd.record(task.task_id, by=MANAGER, findings=all_ok("light"))
    assert outcome.task.status == TaskStatus.DONE and outcome.review is None
    assert intake_status(engine, "A5") == "decided"
    assert dd.checklist(task.task_id)["items"][0]["finding"]["outcome"] == "ok"


def test_adverse_finding_sends_the_case_to_review(engine: Engine, dd: DueDiligence) -> None:
    seed_application(engine, "A6", outcome="approve", mode="automatic", dd_level="standard")
    task = dd.open("A6", by="system")
    assert task is not None
    findings = all_ok("standard", site_premises="adverse:门店已关闭 premises not operating")
    outcome = dd.record(task.task_id, by=MANAGER, findings=findings)
    assert [f.item_id for f in outcome.adverse] == ["site_premises"]
    review = outcome.review
    assert review is not None and review.queue == "manual_review"
    assert intake_status(engine, "A6") == "in_review"
    file = dd.review.file(review.task_id)
    first = file["reasons"][0]
    assert first["code"] == "DD_ADVERSE" and first["zh"].startswith("尽职调查发现不利情况")
    assert first["detail"]["items"][0]["note"] == "门店已关闭 premises not operating"


def test_finding_parse() -> None:
    assert Finding.parse("site_premises=adverse:closed: for good") == \
        Finding("site_premises", "adverse", "closed: for good")
    assert Finding.parse("doc_licence=ok") == Finding("doc_licence", "ok", None)
    with pytest.raises(DueDiligenceError, match="expected ID=ok or ID=adverse"):
        Finding.parse("doc_licence=maybe")


def test_rules_file_errors_name_the_line(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/xiaowei/origination/due_diligence.yaml"
            ).read_text()
    bad = tmp_path / "due_diligence.yaml"
    bad.write_text(text.replace("site_legal_rep_met, deep_supply_chain",
                                "site_legal_rep_met, deep_typo"))
    with pytest.raises(DataFileError, match=r"due_diligence.yaml:\d+: levels.*deep_typo"):
        load_due_diligence_rules(bad)
