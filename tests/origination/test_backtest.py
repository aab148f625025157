"""Backtest of two pack versions on a governed `tiny` bank with a fitted scorecard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.engine.strategy.pack import PackError
from xiaowei.modelling.workbench import fit
from xiaowei.origination.backtest import BacktestResult, PackUnderTest, run_backtest
from xiaowei.origination.backtest_html import render_html
from xiaowei.origination.decide import DEFAULT_PACK, demo_training_table
from xiaowei.origination.history import PointInTimeTags, historical_applications
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore

# AF19 sends an application to review when the amount exceeds half the declared revenue;
# the variant does so above a fifth: stricter, so cases can only move approve → review.
AF19 = "when: app.amount > app.declared_revenue * 0.5, action: review"
AF19_STRICT = "when: app.amount > app.declared_revenue * 0.2, action: review"
OFF_DIAGONAL = [(a, b) for a in ("approve", "review", "reject")
                for b in ("approve", "review", "reject") if a != b]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("backtest")
    brought = simulate_and_load(root, "tiny", 15)
    text = DEFAULT_PACK.read_text("utf-8")
    assert text.count(AF19) == 1
    variant = root / "variant.yaml"
    variant.write_text(text.replace(AF19, AF19_STRICT), "utf-8")
    with AnalyticStore(brought.analytic_path) as analytic:
        fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
            root / "model")
        tags = PointInTimeTags(analytic)
        env = {"root": root, "analytic": analytic, "tags": tags, "variant": variant,
               "models": lambda: RegistryModelResolver(overrides={"app_score": root / "model"})}
        env["same"] = _run(env, DEFAULT_PACK)
        env["stricter"] = _run(env, variant)
        yield env


def _run(env: dict[str, Any], challenger: Path, **window: dt.date) -> BacktestResult:
    return run_backtest(env["analytic"], PackUnderTest("default", DEFAULT_PACK),
                        PackUnderTest(challenger.name, challenger), models=env["models"],
                        tags=env["tags"], **window)


def test_a_pack_against_itself_swaps_nothing(bank: dict[str, Any]) -> None:
    doc = bank["same"].to_json()
    s = doc["summary"]
    assert s["champion"] == s["challenger"]
    assert s["champion"]["applications"] == len(historical_applications(bank["analytic"]))
    assert s["changed_outcomes"] == 0
    assert all(doc["swap"]["matrix"][a][b] == 0 for a, b in OFF_DIAGONAL)
    assert doc["swap"]["swap_in"]["count"] == doc["swap"]["swap_out"]["count"] == 0
    assert doc["reasons_changed"] == []
    assert all(seg["champion"] == seg["challenger"] for seg in doc["by_segment"].values())


def test_a_stricter_threshold_moves_cases_from_approve_to_review_only(
        bank: dict[str, Any]) -> None:
    doc = bank["stricter"].to_json()
    matrix = doc["swap"]["matrix"]
    assert matrix["approve"]["review"] > 0
    assert all(matrix[a][b] == 0 for a, b in OFF_DIAGONAL if (a, b) != ("approve", "review"))
    s = doc["summary"]
    moved = matrix["approve"]["review"]
    assert s["champion"]["approvals"] - s["challenger"]["approvals"] == moved
    assert s["challenger"]["reviews"] - s["champion"]["reviews"] == moved
    assert doc["swap"]["swap_out"]["count"] == moved
    out = doc["swap"]["swap_out"]
    assert out["known_outcome"] + out["unknown_outcome"] == out["count"]
    assert doc["swap"]["swap_in"]["count"] == 0


def test_the_changed_rule_leads_the_changed_reasons(bank: dict[str, Any]) -> None:
    doc = bank["stricter"].to_json()
    top = doc["reasons_changed"][0]
    assert top["code"] == "AF19" and top["challenger"] > top["champion"]
    assert top["zh"] == "申请金额超过申报收入一半"
    # anti-fraud and admission rules other than AF19 read nothing AF19 changes
    independent = [r["code"] for r in doc["reasons_changed"] if r["code"] != "AF19"
                   and r["code"][:2] in ("AF", "AC", "CR", "BZ")]
    assert independent == []
    rule = next(n for n in doc["node_performance"]
                if n["node"] == "antifraud" and n["rule"] == "AF19")
    assert rule["hits"] == top["challenger"]


def test_bad_rate_rests_only_on_booked_loans_with_known_outcomes(bank: dict[str, Any]) -> None:
    result = bank["stricter"]
    s = result.to_json()["summary"]
    assert s["recorded"]["booked_with_known_outcome"] > 0
    for role in ("champion", "challenger"):
        known = [c for c in result.cases
                 if c.verdict(role).outcome == "approve" and c.bad is not None]
        assert all(c.booked for c in known)
        assert s[role]["approved_with_known_outcome"] == len(known)
        assert s[role]["bads"] == sum(bool(c.bad) for c in known)
    assert not any(c.bad is not None for c in result.cases if not c.booked)


def test_cases_parquet_has_one_row_per_application(bank: dict[str, Any],
                                                   tmp_path: Path) -> None:
    result = bank["stricter"]
    table = pq.read_table(result.write_cases(tmp_path / "cases.parquet"))
    ids = table.column("application_id").to_pylist()
    assert len(ids) == len(set(ids)) == len(historical_applications(bank["analytic"]))
    assert {"segment", "champion_outcome", "challenger_outcome", "champion_mode",
            "challenger_limit", "challenger_grade", "challenger_reasons",
            "challenger_hits"} <= set(table.column_names)
    rows = table.to_pylist()
    moved = [r for r in rows if r["champion_outcome"] != r["challenger_outcome"]]
    assert len(moved) == result.to_json()["summary"]["changed_outcomes"]
    assert all("AF19" in dict(r["challenger_hits"])["antifraud"] for r in moved)


def test_report_is_one_page_with_inline_charts(bank: dict[str, Any]) -> None:
    page = render_html(bank["stricter"].to_json())
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 5
    assert "换入换出矩阵" in page and "swap-in / swap-out matrix" in page
    assert "AF19" in page and "节点表现" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_same_history_same_json(bank: dict[str, Any]) -> None:
    again = _run(bank, bank["variant"])
    assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(
        bank["stricter"].to_json(), sort_keys=True)


def test_window_keeps_only_applications_of_its_days(bank: dict[str, Any]) -> None:
    days = sorted(c.applied_on for c in bank["stricter"].cases)
    since, until = days[len(days) // 4], days[len(days) // 2]
    result = _run(bank, bank["variant"], since=since, until=until)
    assert result.cases and all(since <= c.applied_on <= until for c in result.cases)
    assert len(result.cases) == sum(since <= d <= until for d in days) < len(days)
    window = result.to_json()["window"]
    assert window["since"] == since.isoformat() and window["until"] == until.isoformat()


def test_a_pack_that_does_not_load_names_file_and_line(bank: dict[str, Any],
                                                        tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(DEFAULT_PACK.read_text("utf-8").replace(
        "action: reject, reason: AF01", "action: rejekt, reason: AF01"), "utf-8")
    with pytest.raises(PackError, match=r"broken\.yaml:\d+:.*rejekt"):
        _run(bank, bad)


def test_swap_ins_report_how_many_have_a_known_outcome(bank: dict[str, Any]) -> None:
    reverse = run_backtest(bank["analytic"], PackUnderTest("stricter", bank["variant"]),
                           PackUnderTest("default", DEFAULT_PACK), models=bank["models"],
                           tags=bank["tags"])
    swap = reverse.to_json()["swap"]
    ins = [c for c in reverse.cases
           if c.champion.outcome != "approve" and c.challenger.outcome == "approve"]
    assert swap["swap_in"]["count"] == len(ins) == \
        bank["stricter"].to_json()["swap"]["swap_out"]["count"] > 0
    assert swap["swap_in"]["known_outcome"] == sum(c.bad is not None for c in ins)
    assert swap["swap_in"]["unknown_outcome"] == sum(c.bad is None for c in ins)
    assert swap["swap_in"]["bads"] == sum(bool(c.bad) for c in ins)
