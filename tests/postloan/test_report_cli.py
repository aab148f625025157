"""`report` commands (xiaowei.cli.report_cmd.app) on the hand-written book in a store file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.postloan.book_support import D, write_book
from typer.testing import CliRunner

from xiaowei.cli.report_cmd import app

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "analytic.duckdb"
    write_book(path).close()
    return path


def _json(args: list[str]) -> dict:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_vintage_json_and_html(store: Path, tmp_path: Path) -> None:
    page = tmp_path / "out" / "vintage.html"
    doc = _json(["vintage", "--store", str(store), "--json", "--html", str(page)])
    assert doc["as_of"] == "2024-08-31" and doc["cohort"] == "quarter"
    q1 = {r["mob"]: r for r in doc["rows"] if r["cohort"] == "2024Q1"}
    assert q1[3]["loans"] == 5 and q1[3]["ever_30_share"] == pytest.approx(0.2)
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "账龄分析" in html and "2024Q1" in html
    assert "http" not in html and "<script" not in html


def test_vintage_rich_by_product(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(store))  # the settings' store
    res = runner.invoke(app, ["vintage", "--by", "product", "--cohort", "month"],
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "账龄分析" in res.stdout and "vintage" in res.stdout and "guaranteed" in res.stdout


def test_rollrate(store: Path, tmp_path: Path) -> None:
    doc = _json(["rollrate", "--store", str(store), "--json"])
    rates = {r["from_state"]: r for r in doc["rates"]}
    assert rates["M1"]["cure"] == 0.75 and rates["M1"]["roll_forward"] == 0.25
    assert doc["states"] == ["M0", "M1", "M2", "M3", "M4+", "settled"]
    page = tmp_path / "roll.html"
    res = runner.invoke(app, ["rollrate", "--store", str(store), "--html", str(page)],
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "迁移矩阵" in res.stdout and "roll" in res.stdout
    assert "恶化率" in page.read_text(encoding="utf-8")


def test_migration(store: Path, tmp_path: Path) -> None:
    doc = _json(["migration", "--store", str(store), "--start", "2024-02-29", "--as-of",
                 "2024-03-31", "--json"])
    rates = {r["class"]: r for r in doc["rates"]}
    # worked by hand in test_analytics_migration
    assert rates["正常"]["migration_rate"] == pytest.approx(4000 / 8500)
    assert doc["basis"] == "dpd_floors"
    page = tmp_path / "migration.html"
    res = runner.invoke(app, ["migration", "--store", str(store), "--start", "2024-02-29",
                              "--as-of", "2024-03-31", "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "五级分类迁徙" in res.stdout and "迁徙率" in page.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["migration", "--store", str(store), "--start", "2024-09-30"])
    assert bad.exit_code == 2 and "before" in bad.output


def test_warnings_need_the_postloan_run(store: Path) -> None:
    res = runner.invoke(app, ["warnings", "--store", str(store)])
    assert res.exit_code == 2
    assert "xiaowei postloan run" in res.output


def test_warnings(store: Path, tmp_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(store)) as con:
        con.execute("CREATE SCHEMA postloan")
        con.execute("CREATE TABLE postloan.warning AS SELECT * FROM (VALUES "
                    "('P3', DATE '2024-04-01', 'red', 'court'), "
                    "('P1', DATE '2024-02-01', 'yellow', 'tax')) t(party_id, raised_on, "
                    "level, signal)")
    doc = _json(["warnings", "--store", str(store), "--horizon", "90", "--json"])
    rows = {r["level"]: r for r in doc["summary"]}
    # P3 defaults on 06-30 (first month-end ≥ 90 dpd), 90 days after its red warning.
    assert (rows["red"]["precision"], rows["red"]["recall"]) == (1.0, 1.0)
    assert rows["red"]["lead_median_days"] == 90.0
    assert (rows["yellow"]["precision"], rows["yellow"]["recall"]) == (0.0, 0.0)
    assert doc["since"] == str(D(2024, 2, 1))
    page = tmp_path / "warnings.html"
    res = runner.invoke(app, ["warnings", "--store", str(store), "--by", "signal",
                              "--horizon", "90", "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "预警质量" in res.stdout and "court" in res.stdout and page.is_file()


def test_clear_errors(store: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["vintage", "--store", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no analytic store" in missing.output
    by = runner.invoke(app, ["vintage", "--store", str(store), "--by", "colour"])
    assert by.exit_code == 2 and "cannot group by" in by.output
    day = runner.invoke(app, ["rollrate", "--store", str(store), "--as-of", "31/08/2024"])
    assert day.exit_code == 2 and "--as-of" in day.output


def test_migration_takes_the_classes_of_the_monitoring_batch(store: Path) -> None:
    import duckdb

    with duckdb.connect(str(store)) as con:
        con.execute("CREATE SCHEMA postloan")
        con.execute("CREATE TABLE postloan.loan_day (as_of DATE, loan_id VARCHAR, class "
                    "VARCHAR)")
        # The batch's judgement, not the dpd: L4 次级 on 02-29 and paid down to 4000 on 03-31.
        con.execute("INSERT INTO postloan.loan_day VALUES "
                    "('2024-02-29', 'L1', '正常'), ('2024-02-29', 'L2', '正常'), "
                    "('2024-02-29', 'L3', '正常'), ('2024-02-29', 'L4', '次级'), "
                    "('2024-02-29', 'L6', '关注'), ('2024-03-31', 'L1', '正常'), "
                    "('2024-03-31', 'L2', '关注'), ('2024-03-31', 'L3', '关注'), "
                    "('2024-03-31', 'L4', '可疑'), ('2024-03-31', 'L6', '正常')")
    doc = _json(["migration", "--store", str(store), "--start", "2024-02-29", "--as-of",
                 "2024-03-31", "--json"])
    assert doc["basis"] == "postloan.loan_day"
    rates = {r["class"]: r for r in doc["rates"]}
    # 次级: L4, 5000 → 4000 可疑: 4000 / (5000 − 1000) = 1.
    assert rates["次级"]["migration_rate"] == 1.0
    # 正常 now L1, L2, L3: 4000 moved down / (5000 − 500).
    assert rates["正常"]["migration_rate"] == pytest.approx(4000 / 4500)
    # A day the batch did not classify falls back to the dpd floors.
    floors = _json(["migration", "--store", str(store), "--start", "2024-01-31", "--as-of",
                    "2024-03-31", "--json"])
    assert floors["basis"] == "dpd_floors"


def test_recovery_and_regulatory_reports(pipeline_bank: dict, tmp_path) -> None:
    """Recovery shares lie in [0, 1] per bucket; the regulatory view's inclusive book is part
    of the whole book and its verdicts are booleans."""
    import json as _json

    from tests.postloan.bank_copy import copy_bank
    from typer.testing import CliRunner as _Runner

    from xiaowei.cli.main import app as main_app

    store = copy_bank(pipeline_bank, tmp_path / "bank")
    res = _Runner().invoke(main_app, ["report", "recovery", "--store", str(store), "--json"])
    assert res.exit_code == 0, res.output
    doc = _json.loads(res.stdout)
    assert doc["buckets"] and all(0 <= (b["collected_share"] or 0) <= 1 for b in doc["buckets"])
    assert _Runner().invoke(main_app, ["report", "recovery", "--store", str(store),
                                       "--months", "0"]).exit_code == 2
    reg = _Runner().invoke(main_app, ["report", "regulatory", "--store", str(store), "--json"])
    assert reg.exit_code == 0, reg.output
    r = _json.loads(reg.stdout)
    now = r["current"]
    assert now["inclusive"]["balance_yuan"] <= now["overall"]["balance_yuan"]
    assert now["inclusive"]["borrowers"] <= now["overall"]["borrowers"]
    assert r["borrowers_ok"] in (True, False)
