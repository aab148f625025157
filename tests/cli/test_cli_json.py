"""The CLI's `--json` output is one JSON document that other tools can rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.security.passwords import verify_password
from xiaowei.store.database import make_engine
from xiaowei.store.tables import AppUser

runner = CliRunner()


def _xiaowei(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XIAOWEI_HOME": str(home)}
    env.pop("XIAOWEI_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "xiaowei", *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def test_sim_json_twice_same_fingerprint_other_seed_other(tmp_path: Path) -> None:
    """The issue's own check, through the real command line."""
    runs = [_xiaowei("sim", "--size", "tiny", "--seed", seed, "--out", str(tmp_path / f"d{i}"),
                     "--json", home=tmp_path) for i, seed in enumerate(("7", "7", "8"))]
    docs = []
    for r in runs:
        assert r.returncode == 0, r.stderr
        docs.append(json.loads(r.stdout))  # stdout is exactly one JSON document
    assert docs[0]["fingerprint"] == docs[1]["fingerprint"] != docs[2]["fingerprint"]
    assert all(c in "0123456789abcdef" for c in docs[0]["fingerprint"])
    assert docs[0]["tables"]["bank.applications"] > 0
    assert all(isinstance(v, int) for v in docs[0]["tables"].values())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAOWEI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XIAOWEI_DATABASE_URL", raising=False)
    monkeypatch.delenv("XIAOWEI_ANALYTIC_PATH", raising=False)
    return tmp_path / "home"


def test_db_upgrade_and_current_json(home: Path) -> None:
    up = runner.invoke(app, ["db", "upgrade", "--json"])
    assert up.exit_code == 0, up.output
    doc = json.loads(up.stdout)
    assert doc["revision"]
    cur = json.loads(runner.invoke(app, ["db", "current", "--json"]).stdout)
    assert cur["revision"] == cur["head"] == doc["revision"]
    down = json.loads(runner.invoke(app, ["db", "downgrade", "--json"]).stdout)
    assert down["revision"] is None


def test_load_json_reports_counts(home: Path, tmp_path: Path) -> None:
    sim = runner.invoke(app, ["sim", "--size", "tiny", "--out", str(tmp_path / "ds"), "--json"])
    assert sim.exit_code == 0, sim.output
    res = runner.invoke(app, ["load", str(tmp_path / "ds"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    apps = doc["transactional"]["applications"]
    assert apps["rows_in"] == apps["accepted"] + apps["quarantined"]
    again = json.loads(runner.invoke(app, ["load", str(tmp_path / "ds"), "--json"]).stdout)
    assert again["already_loaded"] is True


def test_load_of_a_broken_folder_says_what_is_wrong(home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["load", str(tmp_path / "empty")])
    assert res.exit_code == 2
    assert "manifest.json: is missing" in res.stderr


def test_sim_rejects_unknown_size(home: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["sim", "--size", "huge", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "--size must be one of tiny, small, bank" in res.stderr


def test_demo_json_summary(tiny_demo: dict) -> None:
    doc = tiny_demo["doc"]
    assert doc["applications"]["total"] > 100
    assert 0.4 < doc["applications"]["approval_rate"] < 0.95
    assert sum(doc["loans"]["dpd_buckets"].values()) == (
        doc["loans"]["by_status"].get("active", 0) + doc["loans"]["by_status"].get("overdue", 0))
    assert doc["sources"]["tax_filings"] > 1000
    assert len(doc["fingerprint"]) == 64
    users = {u["name"]: u["password"] for u in doc["demo_users"]}
    assert {"demo.approver", "demo.customer-manager", "demo.auditor"} <= set(users)
    assert all(len(p) >= 16 for p in users.values())
    engine = make_engine(tiny_demo["database_url"])
    try:  # the printed password is the one stored (as an argon2 hash, never in clear)
        with engine.connect() as c:
            stored = c.execute(select(AppUser.password_hash)
                               .where(AppUser.name == "demo.approver")).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith("$argon2") and users["demo.approver"] not in stored
    assert verify_password(stored, users["demo.approver"])


def test_demo_prints_a_readable_summary(home: Path) -> None:
    res = runner.invoke(app, ["demo", "--size", "tiny"])
    assert res.exit_code == 0, res.output
    for words in ("批准率 approval rate", "人均管户", "逾期分布", "数据源", "演示用户",
                  "员工管理"):
        assert words in res.stdout


def test_demo_money_is_exact(tiny_demo: dict) -> None:
    """Sums of money come back to the fen, never with float residue (SQLite keeps floats)."""
    doc = tiny_demo["doc"]
    for key in ("principal_granted", "outstanding_principal"):
        whole, _, cents = doc["loans"][key].partition(".")
        assert whole.isdigit() and len(cents) == 2, doc["loans"][key]


def test_demo_reports_the_datasets_fingerprint(home: Path, tmp_path: Path,
                                               tiny_demo: dict) -> None:
    """The summary's fingerprint is the simulated dataset's (the one `xiaowei sim` prints)."""
    sim = json.loads(runner.invoke(app, ["sim", "--size", "tiny", "--seed", "7", "--out",
                                         str(tmp_path / "ref"), "--json"]).stdout)
    doc = tiny_demo["doc"]
    assert doc["fingerprint"] == sim["fingerprint"]
    assert doc["tags"]["fingerprint"] != sim["fingerprint"]


def test_demo_json_has_the_staff_detection_figures(tiny_demo: dict) -> None:
    """`staff` keeps the book's staff counts and gains the five detection figures (issue 9)."""
    staff = tiny_demo["doc"]["staff"]
    assert {"managers", "branches", "collusion_recall", "collusion_precision",
            "honest_alert_rate", "median_detection_days",
            "traditional_median_detection_days"} <= set(staff)
    for key in ("collusion_recall", "collusion_precision", "honest_alert_rate"):
        assert staff[key] is None or 0.0 <= staff[key] <= 1.0
    assert staff["detail"]["managers"] == staff["managers"]  # the truth's managers: the book's
    assert staff["detail"]["colluders_judged"] <= staff["detail"]["colluders"]
    assert staff["batch"]["managers"] == staff["managers"]
    assert sum(staff["batch"]["ratings"].values()) == staff["managers"]
