"""`xiaowei review …` and `xiaowei dd …` end to end on SQLite and PostgreSQL: the JSON keys,
maker–checker across two users, DD findings feeding back, and refusals that exit 2."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.workflow_rows import MANAGER, intake_status, seed_application, seed_bank
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.origination.review_queue import ReviewQueue

runner = CliRunner()


@pytest.fixture
def engine(db_url: str, migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", db_url)
    monkeypatch.delenv("XIAOWEI_USER", raising=False)
    seed_bank(migrated_engine)
    return migrated_engine


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "错误 error:" in result.stderr
    return " ".join(result.stderr.split())


def test_review_round_trip_with_a_checker(engine: Engine) -> None:
    seed_application(engine, "A1", amount="5000000", limit="3500000")
    task = _json("review", "open", "A1", "--user", "system")
    tid = task["task_id"]
    assert task["queue"] == "manual_review" and task["status"] == "open"
    listed = _json("review", "list", "--queue", "manual_review")["tasks"]
    assert [t["task_id"] for t in listed] == [tid] and listed[0]["late_seconds"] is None
    file = _json("review", "show", tid)
    assert {"task", "application", "intake", "decision", "proposal", "reasons", "scores",
            "tags", "trace", "events"} <= set(file)
    assert _json("review", "claim", tid, "--user", "li.shen")["claimed_by"] == "li.shen"
    assert "already claimed by li.shen" in _refused("review", "claim", tid, "--user", "zhou")
    assert _json("review", "list", "--mine", "--user", "li.shen")["tasks"][0]["task_id"] == tid
    assert _json("review", "list", "--mine", "--user", "zhou")["tasks"] == []
    made = _json("review", "approve", tid, "--user", "li.shen")
    assert (made["status"], made["stage"]) == ("in_progress", "checker")
    assert "checker cannot be the maker" in _refused("review", "check", tid, "--confirm",
                                                     "--user", "li.shen")
    final = _json("review", "check", tid, "--confirm", "--user", "zhou.yu")
    assert (final["status"], final["result"]["checked_by"]) == ("done", "zhou.yu")
    assert intake_status(engine, "A1") == "decided"
    plain = runner.invoke(app, ["review", "show", tid])
    assert plain.exit_code == 0 and "原因 reasons" in plain.stdout


def test_reject_against_the_proposal_needs_a_note(engine: Engine) -> None:
    seed_application(engine, "A2")
    tid = _json("review", "open", "A2", "--user", "system")["task_id"]
    _json("review", "claim", tid, "--by", "li.shen")
    assert "needs a note" in _refused("review", "reject", tid, "--user", "li.shen")
    done = _json("review", "reject", tid, "--user", "li.shen", "--note", "经营下滑")
    assert done["result"]["outcome"] == "reject" and done["result"]["overturn"] is True
    assert "no task 'NOPE'" in _refused("review", "claim", "NOPE", "--user", "x")
    assert "--confirm or --refuse" in _refused("review", "check", tid, "--user", "x")


def test_overdue_listing_and_sweep(engine: Engine) -> None:
    seed_application(engine, "A3")
    long_ago = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    old = ReviewQueue(engine, clock=lambda: long_ago).open("A3", by="system")
    late = _json("review", "list", "--overdue")["tasks"]
    assert [t["task_id"] for t in late] == [old.task_id] and late[0]["late_seconds"] > 0
    assert [b["task_id"] for b in _json("review", "sweep")["breaches"]] == [old.task_id]
    assert _json("review", "sweep")["breaches"] == []
    table = runner.invoke(app, ["review", "list", "--overdue"])
    assert table.exit_code == 0 and "任务 tasks · 1" in table.stdout


def test_dd_record_adverse_reopens_review(engine: Engine) -> None:
    seed_application(engine, "A4", outcome="approve", mode="automatic", dd_level="light")
    task = _json("dd", "open", "A4", "--user", "system")
    assert task["claimed_by"] == MANAGER
    tid = task["task_id"]
    sheet = _json("dd", "show", tid)["checklist"]
    ids = [i["id"] for i in sheet["items"]]
    assert "missing items: ['call_business_confirmed']" in _refused(
        "dd", "record", tid, "--user", MANAGER,
        *[arg for i in ids[:-1] for arg in ("--item", f"{i}=ok:seen")])
    items = [arg for i in ids for arg in ("--item", f"{i}=ok:seen")]
    items[-1] = "call_business_confirmed=adverse:电话无人接听 nobody answers"
    done = _json("dd", "record", tid, "--user", MANAGER, *items)
    assert done["adverse"][0]["item"] == "call_business_confirmed"
    assert done["review"]["queue"] == "manual_review"
    assert intake_status(engine, "A4") == "in_review"
    shown = runner.invoke(app, ["dd", "show", tid])
    assert shown.exit_code == 0 and "不利" in shown.stdout
    seed_application(engine, "A5", outcome="approve", mode="automatic", dd_level="none")
    assert _json("dd", "open", "A5", "--user", "system") == {"task": None}
