"""`postloan classify`: the JSON shape other tools rely on, the Chinese table, and quarantine
of bad lines (good lines printed, bad ones on stderr with line and field, exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiaowei.cli.postloan_cmd import app

runner = CliRunner()
CLASSES = {"正常", "关注", "次级", "可疑", "损失"}


def _file(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "loans.jsonl"
    text = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
                     for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _run(path: Path, *extra: str) -> object:
    return runner.invoke(app, ["classify", "--input", str(path), "--as-of", "2025-06-30",
                               *extra])


def test_json_shape(tmp_path: Path) -> None:
    path = _file(tmp_path,
                 {"loan_id": "A1", "dpd": 0},
                 {"loan_id": "A2", "dpd": 95, "balance": 1000.5, "signals": ["funds_misused"]},
                 {"loan_id": "A3", "dpd": 10, "restructured": True, "observation_passed": False},
                 {"loan_id": 4, "dpd": 0, "impaired": True, "ecl_ratio": 0.9, "name": "ignored"})
    result = _run(path, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, list) and len(doc) == 4
    for row in doc:
        assert set(row) == {"loan_id", "class", "reasons", "stage"}
        assert row["class"] in CLASSES
        assert isinstance(row["reasons"], list) and row["reasons"]
        assert all({"code", "zh", "en", "floor"} <= set(r) for r in row["reasons"])
    assert [(r["loan_id"], r["class"], r["stage"]) for r in doc] == [
        ("A1", "正常", 1), ("A2", "次级", 3), ("A3", "次级", 3), ("4", "损失", 3)]
    assert [r["code"] for r in doc[1]["reasons"]] == ["OVERDUE_90", "SIGNAL_FUNDS_MISUSED"]
    assert doc[0]["reasons"][0]["code"] == "NO_FLOOR"


def test_debtor_contagion_runs_across_lines(tmp_path: Path) -> None:
    path = _file(tmp_path,
                 {"loan_id": "C1", "dpd": 0, "debtor_id": "D", "segment": "corporate",
                  "balance": "899.90"},
                 {"loan_id": "C2", "dpd": 100, "debtor_id": "D", "segment": "corporate",
                  "balance": "100.10"})
    doc = json.loads(_run(path, "--json").stdout)
    assert [r["class"] for r in doc] == ["次级", "次级"]
    assert doc[0]["stage"] == 3


@pytest.mark.parametrize(("line", "field"), [
    ("not json", "json"),
    ({"dpd": 3}, "loan_id"),
    ({"loan_id": "", "dpd": 3}, "loan_id"),
    ({"loan_id": "B", "dpd": "12"}, "dpd"),
    ({"loan_id": "B", "dpd": 12.5}, "dpd"),
    ({"loan_id": "B", "dpd": -1}, "dpd"),
    ({"loan_id": "B"}, "dpd"),
    ({"loan_id": "B", "dpd": 0, "signals": ["nope"]}, "signals"),
    ({"loan_id": "B", "dpd": 0, "signals": "funds_misused"}, "signals"),
    ({"loan_id": "B", "dpd": 0, "restructured": True, "restructured_on": "2024-02-30"},
     "restructured_on"),
    ({"loan_id": "B", "dpd": 0, "restructured": "yes"}, "restructured"),
    ({"loan_id": "B", "dpd": 0, "balance": "lots"}, "balance"),
    ({"loan_id": "B", "dpd": 0, "warning_level": "purple"}, "warning_level"),
    ({"loan_id": "B", "dpd": 0, "debtor_id": "D", "segment": "corporate"}, "balance"),
    ({"loan_id": "B", "dpd": 95, "override": {"class": "关注", "evidence": "e", "maker": "a",
                                              "checker": "b"}}, "override"),
    ({"loan_id": "B", "dpd": 0, "override": {"class": "可疑", "evidence": "e", "maker": "a",
                                             "checker": "a"}}, "override"),
    ({"loan_id": "A1", "dpd": 0}, "loan_id"),  # duplicate of line 1
])
def test_bad_line_is_quarantined_with_line_and_field(tmp_path: Path, line: object,
                                                     field: str) -> None:
    path = _file(tmp_path, {"loan_id": "A1", "dpd": 0}, line, {"loan_id": "A2", "dpd": 8})
    result = _run(path, "--json")
    assert result.exit_code == 1, result.output
    assert [r["loan_id"] for r in json.loads(result.stdout)] == ["A1", "A2"]
    assert f"第 2 行 line 2: {field}:" in " ".join(result.stderr.split())
    assert "rejected 1 line(s)" in result.stderr


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = _file(tmp_path, {"loan_id": "A1", "dpd": 0}, "", {"loan_id": "A3", "dpd": "x"})
    result = _run(path)
    assert result.exit_code == 1
    assert "第 3 行 line 3: dpd:" in result.stderr


def test_table_is_in_chinese_with_an_english_subtitle(tmp_path: Path) -> None:
    result = _run(_file(tmp_path, {"loan_id": "A1", "dpd": 400}))
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())  # Rich wraps to the terminal's width
    for text in ("五级分类与减值阶段", "借据号", "损失 loss", "第三阶段", "OVERDUE_360",
                 "Five-level classification and ECL stage · as of 2025-06-30"):
        assert text in flat


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "2025-13-01"], "--as-of"),
    (["--input", "/no/such/file.jsonl"], "no such file"),
])
def test_unusable_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    base = {"--input": str(_file(tmp_path, {"loan_id": "A1", "dpd": 0})), "--as-of": "2025-06-30"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = runner.invoke(app, ["classify", *[x for kv in base.items() for x in kv]])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_custom_rules_file_is_used_and_its_errors_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "classification.yaml"
    rules.write_text("version: 1\n", encoding="utf-8")
    result = _run(_file(tmp_path, {"loan_id": "A1", "dpd": 0}), "--rules", str(rules))
    assert result.exit_code == 2
    assert "classification.yaml:1" in result.stderr
