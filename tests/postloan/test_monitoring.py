"""The nightly post-loan batch on the tiny bank: every loan with a balance gets a day row; a day
run again replaces rather than doubles; a lasting signal is not raised again the next day; and
Spark gives the same rows as DuckDB (issue 7: "Spark on tiny in CI proves the same results")."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from tests.postloan.bank_copy import copy_bank
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.loan_state import loan_state
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.store.analytic import AnalyticStore


@pytest.fixture
def store(pipeline_bank: dict[str, Any], tmp_path: Path) -> Path:
    return copy_bank(pipeline_bank, tmp_path / "bank")


def _rows(analytic: AnalyticStore, table: str, day_column: str, day: dt.date) -> list[tuple]:
    return analytic.connection.execute(
        f"SELECT * EXCLUDE ({day_column}) FROM postloan.{table} WHERE {day_column} = ? "
        f"ORDER BY ALL", [day]).fetchall()


def test_every_loan_with_a_balance_gets_a_row_and_a_rerun_replaces(store: Path) -> None:
    with AnalyticStore(store, read_only=False) as analytic:
        day = data_as_of(analytic)
        first = run_monitoring(analytic, day, full_tags=False)
        state = loan_state(analytic.connection, day)
        on_book = sum(1 for s, o in zip(state["status"].to_pylist(),
                                        state["outstanding_yuan"].to_pylist(), strict=True)
                      if s in ("active", "matured_unpaid") and (o or 0) > 0)
        assert first.loans == on_book > 0
        rows = _rows(analytic, "loan_day", "as_of", day)
        warnings = _rows(analytic, "warning", "raised_on", day)
        assert len(rows) == on_book
        again = run_monitoring(analytic, day, full_tags=False)
        assert _rows(analytic, "loan_day", "as_of", day) == rows
        assert _rows(analytic, "warning", "raised_on", day) == warnings
        assert again.to_json() | {"seconds": None} == first.to_json() | {"seconds": None}
        # The day's figures add up: every loan on one track, with one class and one stage.
        assert sum(first.tracks.values()) == sum(first.classes.values()) == first.loans
        assert sum(first.stages.values()) == first.loans
        assert set(first.classes) <= {"正常", "关注", "次级", "可疑", "损失"}
        checks = analytic.connection.execute(
            "SELECT count(*) FILTER (WHERE dpd > 90 AND track <> 'dispose'), "
            "count(*) FILTER (WHERE dpd > 90 AND class = '正常'), "
            "count(*) FILTER (WHERE stage = 3 AND class IN ('正常', '关注')), "
            "count(*) FILTER (WHERE ecl_yuan < 0 OR ecl_yuan > outstanding_yuan) "
            "FROM postloan.loan_day WHERE as_of = ?", [day]).fetchone()
        assert checks == (0, 0, 0, 0)


def test_a_lasting_signal_is_not_raised_again_the_next_day(store: Path) -> None:
    with AnalyticStore(store, read_only=False) as analytic:
        day = data_as_of(analytic)
        before = day - dt.timedelta(days=1)
        first = run_monitoring(analytic, before, full_tags=False)
        second = run_monitoring(analytic, day, full_tags=False)
        assert sum(first.warnings_raised.values()) > 0
        repeated = analytic.connection.execute(
            "SELECT count(*) FROM postloan.warning a JOIN postloan.warning b "
            "ON a.party_id = b.party_id AND a.signal = b.signal AND b.level_rank <= a.level_rank "
            "WHERE a.raised_on = ? AND b.raised_on = ?", [before, day]).fetchone()[0]
        assert repeated == 0
        assert sum(second.warnings_raised.values()) < sum(first.warnings_raised.values())


def test_the_cli_runs_the_day_and_prints_json(store: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_PATH", str(store))
    unmigrated = CliRunner().invoke(app, ["postloan", "run", "--signal-tags-only",
                                          "--no-tasks"])
    assert unmigrated.exit_code == 2 and "xiaowei db upgrade" in unmigrated.output
    res = CliRunner().invoke(app, ["postloan", "run", "--signal-tags-only", "--no-tasks",
                                   "--no-behaviour", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["loans"] > 0 and set(doc["warnings_raised"]) == {"yellow", "orange", "red"}
    assert "tasks_opened" not in doc and doc["behaviour_score"] is None
    with AnalyticStore(store) as analytic:
        day = data_as_of(analytic)
    since = dt.date(day.year, day.month, 1) - dt.timedelta(days=75)
    back = CliRunner().invoke(app, ["postloan", "run", "--signal-tags-only", "--no-tasks",
                                    "--no-behaviour", "--since", since.isoformat(), "--json"])
    assert back.exit_code == 0, back.output
    with AnalyticStore(store) as analytic:
        days = [d for (d,) in analytic.connection.execute(
            "SELECT DISTINCT as_of FROM postloan.loan_day ORDER BY 1").fetchall()]
    assert len(days) == 4 and days[-1] == day  # three month-ends before the day, and the day
    assert all((d + dt.timedelta(days=1)).day == 1 for d in days[:-1])
    late = CliRunner().invoke(app, ["postloan", "run", "--since", day.isoformat()])
    assert late.exit_code == 2 and "must be before" in late.output
    bad = CliRunner().invoke(app, ["postloan", "run", "--engine", "hadoop"])
    assert bad.exit_code == 2 and "duckdb or spark" in bad.output


@pytest.mark.slow
def test_spark_gives_the_same_day_as_duckdb(pipeline_bank: dict[str, Any],
                                            tmp_path: Path) -> None:
    results: dict[str, Any] = {}
    for engine in ("duckdb", "spark"):
        path = copy_bank(pipeline_bank, tmp_path / engine)
        with AnalyticStore(path, read_only=False) as analytic:
            day = data_as_of(analytic)
            run = run_monitoring(analytic, day, engine=engine, full_tags=False)
            results[engine] = (run, _rows(analytic, "loan_day", "as_of", day),
                               _rows(analytic, "warning", "raised_on", day))
    duck, spark = results["duckdb"], results["spark"]
    assert duck[0].tag_fingerprint == spark[0].tag_fingerprint
    assert duck[1] == spark[1] and duck[2] == spark[2]
    assert len(duck[1]) > 0


class _FixedScore:
    """A behaviour score that gives every loan the same PD and records what it was handed:
    tiny has too few bad loans to fit the real one (its own tests cover it on a book)."""

    tags = ("bureau_overdue_now", "hard_inquiries_3m")

    def __init__(self, pd: float) -> None:
        self.pd = pd
        self.seen: set[str] | None = None

    def __call__(self, _analytic: Any, _day: dt.date, state: Any, rows: Any) -> Any:
        import numpy as np

        self.seen = set(rows["tag"].to_pylist())
        return np.full(state.num_rows, self.pd)


def test_the_behaviour_score_reaches_the_pack_with_the_days_tags(store: Path) -> None:
    score = _FixedScore(0.2)
    with AnalyticStore(store, read_only=False) as analytic:
        day = data_as_of(analytic)
        run = run_monitoring(analytic, day, full_tags=False, behaviour=score)
        assert set(score.tags) <= score.seen  # its tags were refreshed with the signals'
        rows = analytic.connection.execute(
            "SELECT min(pd_12m), max(pd_12m), count(*) FILTER (WHERE stratum = 'low') "
            "FROM postloan.loan_day WHERE as_of = ? AND dpd = 0 AND worst_level = 0",
            [day]).fetchone()
    assert rows[0] == rows[1] == pytest.approx(0.2 * (2 - 0.2))  # 6-month PD → 12-month
    assert rows[2] == 0  # a PD of 20% is never the low stratum
    assert run.strata.get("high", 0) > 0
