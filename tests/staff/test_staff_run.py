"""The nightly staff batch and its commands on the tiny bank: stored days replaced on a rerun,
alerts raised once, `xiaowei staff run | show` shapes, every showing audited, bad input refused;
and the detection comparison's figures against the simulator's truth."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.tags.service import data_as_of
from xiaowei.staff.detection_comparison import checkpoints, compare_detection
from xiaowei.staff.run import MANAGER_DAY_COLUMNS, day_alerts, run_staff
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture(scope="module")
def bank(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Any]:
    """A writable copy of the tiny bank (analytic store and transactional store)."""
    root = tmp_path_factory.mktemp("staff-run")
    path = copy_bank(pipeline_bank, root)
    db = Path(pipeline_bank["url"].removeprefix("sqlite:///"))
    shutil.copy(db, root / db.name)
    with AnalyticStore(path) as analytic:
        day = data_as_of(analytic)
    return {"path": path, "url": f"sqlite:///{root / db.name}", "day": day,
            "dataset": Path(pipeline_bank["root"]) / "ds"}


def _count(con: Any, table: str, day: dt.date) -> int:
    return con.execute(f"SELECT count(*) FROM staff.{table} WHERE as_of = ?", [day]).fetchone()[0]


def test_a_day_is_stored_once_and_a_rerun_replaces_it(bank: dict[str, Any]) -> None:
    with AnalyticStore(bank["path"]) as analytic:
        con, day = analytic.connection, bank["day"]
        first = run_staff(con, day)
        managers = con.execute("SELECT count(DISTINCT manager_id) FROM raw.bank_managers"
                               ).fetchone()[0]
        rows = (_count(con, "manager_day", day), _count(con, "signal", day),
                _count(con, "alert", day))
        again = run_staff(con, day)
        assert (_count(con, "manager_day", day), _count(con, "signal", day),
                _count(con, "alert", day)) == rows
        cols = [d[0] for d in con.execute("SELECT * FROM staff.manager_day LIMIT 0").description]
    assert rows[0] == managers == first.managers
    assert tuple(cols) == MANAGER_DAY_COLUMNS
    assert rows[1] == first.signals == again.signals
    assert sum(first.ratings.values()) == managers
    assert set(first.ratings) <= {"A", "B", "C", "D", "E", "unrated"}


def _signals(rows: list[tuple[str, str, str, str]]) -> pa.Table:
    return pa.table({"manager_id": [r[0] for r in rows], "signal": [r[1] for r in rows],
                     "level": [r[2] for r in rows], "category": [r[3] for r in rows],
                     "value": [1.0] * len(rows), "threshold": [0.5] * len(rows),
                     "name_zh": ["信号"] * len(rows), "evidence": ['["A1"]'] * len(rows)})


def test_alerts_take_orange_and_red_and_are_new_only_above_what_was_raised_before() -> None:
    signals = _signals([("M1", "geofence_miss", "yellow", "location"),
                        ("M2", "late_contact_edit", "orange", "operations"),
                        ("M2", "collusion_suspected", "red", "collusion"),
                        ("M3", "bulk_export", "orange", "operations")])
    alerts = day_alerts(signals, {"M2": "B1", "M3": "B2"}, {"M2": 3, "M3": 1})
    by = {a["manager_id"]: a for a in alerts}
    assert set(by) == {"M2", "M3"}  # a yellow signal alone alerts nobody
    assert by["M2"]["level"] == "red" and by["M2"]["categories"] == "collusion,operations"
    assert [s["level"] for s in by["M2"]["signals"]] == ["red", "orange"]  # worst first
    assert by["M2"]["new"] is False  # red within the 90 days before
    assert by["M3"]["new"] is True and by["M3"]["branch_id"] == "B2"
    assert by["M2"]["signals"][0]["evidence"] == ["A1"]


def test_checkpoints_are_the_15th_and_month_ends() -> None:
    assert checkpoints(dt.date(2025, 1, 10), dt.date(2025, 3, 15)) == [
        dt.date(2025, 1, 15), dt.date(2025, 1, 31), dt.date(2025, 2, 15),
        dt.date(2025, 2, 28), dt.date(2025, 3, 15)]
    assert checkpoints(dt.date(2025, 2, 1), dt.date(2025, 1, 1)) == []


def test_detection_figures_are_shares_and_days(bank: dict[str, Any],
                                               tmp_path: Path) -> None:
    path = tmp_path / "a.duckdb"
    shutil.copy(bank["path"], path)
    with AnalyticStore(path) as analytic:
        first = analytic.connection.execute(
            "SELECT min(CAST(applied_at AS DATE)) FROM raw.bank_applications").fetchone()[0]
        doc = compare_detection(analytic.connection, bank["dataset"], first,
                                bank["day"]).to_json()
        with pytest.raises(ValueError, match="empty window"):
            compare_detection(analytic.connection, bank["dataset"], bank["day"], first)
    for key in ("collusion_recall", "collusion_precision", "honest_alert_rate"):
        assert doc[key] is None or 0.0 <= doc[key] <= 1.0
    d = doc["detail"]
    assert d["colluders"] >= 1  # the simulator always has one
    assert d["colluders_judged"] <= d["colluders"]
    assert all(v >= 0 for v in d["digital_found"].values())
    assert all(v >= 0 for v in d["traditional_found"].values())
    assert d["checkpoints"] == len(checkpoints(first, bank["day"]))


@pytest.fixture
def env(bank: dict[str, Any], pipeline_bank: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(bank["path"]))
    monkeypatch.setenv("XIAOWEI_HOME", str(pipeline_bank["home"]))
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", bank["url"])
    monkeypatch.setenv("COLUMNS", "160")
    return bank


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["staff", *args])


def test_staff_run_and_show_json_and_every_showing_is_audited(env: dict[str, Any]) -> None:
    day = env["day"].isoformat()
    res = invoke("run", "--as-of", day, "--no-tasks", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["as_of"] == day and doc["managers"] >= 1 and "tasks" not in doc
    with AnalyticStore(env["path"]) as analytic:
        manager = analytic.connection.execute(
            "SELECT manager_id FROM staff.manager_day ORDER BY manager_id LIMIT 1").fetchone()[0]
    engine = create_engine(env["url"])
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM audit_log WHERE action = 'staff.view'")
                           ).scalar_one()
    shown = invoke("show", manager, "--by", "supervisor-1", "--json")
    assert shown.exit_code == 0, shown.output
    page = json.loads(shown.stdout)
    assert page["manager_id"] == manager and page["as_of"] == day
    assert page["rating"] in {"A", "B", "C", "D", "E", "unrated"}
    assert {"dim_quality", "customers", "target_customers", "signals", "alerts"} <= set(page)
    with engine.connect() as c:
        rows = c.execute(text("SELECT actor, subject_id FROM audit_log WHERE action = "
                              "'staff.view' ORDER BY seq")).fetchall()
    engine.dispose()
    assert len(rows) == before + 1 and tuple(rows[-1]) == ("supervisor-1", manager)
    text_page = invoke("show", manager)
    assert text_page.exit_code == 0 and "能力雷达" in text_page.output


def test_the_batch_caps_tiers_matching_reads(env: dict[str, Any]) -> None:
    """Where the day's advice is below the granted tier the store carries it as a cap; elsewhere
    no cap — and a rerun with the same advice writes the same caps."""
    from xiaowei.staff.run import write_tier_caps

    engine = create_engine(env["url"])
    with engine.begin() as c:
        granted = dict(c.execute(text("SELECT manager_id, risk_tier FROM customer_manager")
                                 ).fetchall())
    some = sorted(granted)[:2]
    days = [{"manager_id": some[0], "recommended_tier": granted[some[0]] - 1 or None},
            {"manager_id": some[1], "recommended_tier": 3}]
    caps = write_tier_caps(engine, days)
    assert write_tier_caps(engine, days) == caps
    with engine.begin() as c:
        stored = dict(c.execute(text("SELECT manager_id, staff_tier_cap FROM customer_manager")
                                ).fetchall())
    engine.dispose()
    expected = granted[some[0]] - 1
    assert stored[some[0]] == (expected or None) and caps.get(some[0]) == (expected or None)
    assert stored[some[1]] is None and some[1] not in caps  # never above the grant


def test_bad_input_is_refused_with_a_reason(env: dict[str, Any]) -> None:
    unknown = invoke("show", "M99999", "--json")
    assert unknown.exit_code != 0 and "unknown manager" in unknown.output
    bad_day = invoke("show", "M00000", "--as-of", "yesterday")
    assert bad_day.exit_code != 0 and "--as-of" in bad_day.output
    backwards = invoke("run", "--as-of", "2025-01-31", "--since", "2025-06-30", "--no-tasks")
    assert backwards.exit_code != 0 and "after" in backwards.output


def test_the_demo_opens_tasks_for_recent_new_alerts_once(bank: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """Replayed history has no store: the demo opens the last 90 days' new alerts as the
    nightly batch would have — once (the day's task ids), none older, none not new."""
    from xiaowei.cli.demo_staff import open_recent_alert_tasks
    from xiaowei.staff.run import ensure_tables

    path = tmp_path / "a.duckdb"
    shutil.copy(bank["path"], path)
    db = tmp_path / "x.db"
    shutil.copy(bank["url"].removeprefix("sqlite:///"), db)
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        manager, branch = c.execute(text("SELECT manager_id, branch_id FROM customer_manager "
                                         "ORDER BY manager_id")).fetchone()
    day = bank["day"]
    signals = json.dumps([{"signal": "bulk_export", "category": "operations", "level": "red",
                           "value": 3.0, "threshold": 1.0, "name_zh": "批量导出",
                           "name_en": "bulk export", "evidence": ["OP1"]}])
    with AnalyticStore(path) as analytic:
        ensure_tables(analytic.connection)
        analytic.connection.execute("DELETE FROM staff.alert")
        for as_of, new in ((day - dt.timedelta(days=10), True), (day - dt.timedelta(days=5),
                                                                  False),
                           (day - dt.timedelta(days=200), True)):
            analytic.connection.execute(
                "INSERT INTO staff.alert VALUES (?, ?, ?, 'red', 'operations', ?, ?)",
                [as_of, manager, branch, signals, new])
        assert open_recent_alert_tasks(analytic, engine, day) == 1
        assert open_recent_alert_tasks(analytic, engine, day) == 0
    with engine.begin() as c:
        ids = [r[0] for r in c.execute(text("SELECT task_id FROM task WHERE queue = "
                                            "'staff_alert'")).fetchall()]
    engine.dispose()
    assert ids == [f"SA-{day - dt.timedelta(days=10)}-{manager}"]


def test_events_posted_by_the_app_reach_the_signals(bank: dict[str, Any],
                                                    tmp_path: Path) -> None:
    """A check-in, a path point and an export posted through the intake are read by the batch
    beside the bank's loaded events (the event views join both)."""
    from xiaowei.staff.event_intake import take_events

    path = tmp_path / "a.duckdb"
    shutil.copy(bank["path"], path)
    db = tmp_path / "x.db"
    shutil.copy(bank["url"].removeprefix("sqlite:///"), db)
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        manager = c.execute(text("SELECT manager_id FROM customer_manager ORDER BY 1")
                            ).fetchone()[0]
    day = bank["day"] - dt.timedelta(days=1)
    taken = take_events(engine, [
        {"event_id": "APP-C1", "kind": "checkin", "manager_id": manager,
         "occurred_at": f"{day}T10:00:00", "device_id": "D1", "lat": 30.25, "lon": 120.16,
         "accuracy_m": 10, "mock_location": True},
        {"event_id": "APP-T1", "kind": "track_point", "manager_id": manager,
         "occurred_at": f"{day}T09:50:00", "device_id": "D1", "lat": 30.24, "lon": 120.15,
         "accuracy_m": 8},
        {"event_id": "APP-O1", "kind": "operation", "manager_id": manager,
         "occurred_at": f"{day}T23:00:00", "action": "export", "object_type": "customer",
         "object_id": "ALL", "row_count": 5000}], received_at=dt.datetime.now(dt.UTC))
    assert len(taken.accepted) == 3
    with AnalyticStore(path) as analytic:
        run_staff(analytic.connection, bank["day"], engine=engine, rate=False)
        con = analytic.connection
        seen = [con.execute(f"SELECT count(*) FROM {view} WHERE event_id = ?",
                            [key]).fetchone()[0]
                for view, key in (("staff_checkin", "APP-C1"), ("staff_track", "APP-T1"),
                                  ("staff_operation", "APP-O1"))]
    engine.dispose()
    assert seen == [1, 1, 1]
