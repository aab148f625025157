"""Exam results: checked row by row (refused with reasons), read from files, summarised."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from xiaowei.staff.exams import (
    EXAM_SCHEMA,
    bank_exams,
    check_rows,
    exam_summary,
    read_exam_file,
)

D = dt.date
AS_OF = D(2025, 6, 30)
MANAGERS = {"M1", "M2"}


def test_good_rows_are_accepted() -> None:
    load = check_rows([{"manager_id": "M1", "exam": "信贷业务知识年度考试",
                        "taken_on": "2025-03-15", "score": "86"},
                       {"manager_id": "M2", "exam": "合规测试", "taken_on": D(2025, 6, 30),
                        "score": 100}], MANAGERS, AS_OF)
    assert load.refused == []
    assert load.accepted.schema == EXAM_SCHEMA
    assert load.accepted.to_pylist()[0] == {"manager_id": "M1", "exam": "信贷业务知识年度考试",
                                            "taken_on": D(2025, 3, 15), "score": 86.0}


@pytest.mark.parametrize(("row", "zh", "en"), [
    ({"manager_id": "M7"}, "客户经理 M7 不存在", "unknown manager 'M7'"),
    ({"manager_id": ""}, "缺少客户经理编号", "manager_id is missing"),
    ({"score": "101"}, "分数 101 超出 0–100", "score 101 is outside 0–100"),
    ({"score": -1}, "分数 -1 超出 0–100", "score -1 is outside 0–100"),
    ({"score": "八十"}, "分数不是数字", "score is not a number"),
    ({"score": float("nan")}, "分数不是数字", "score is not a number"),
    ({"taken_on": "2025-07-01"}, "晚于数据日期", "after as_of 2025-06-30 (a future date)"),
    ({"taken_on": "2025/03/15"}, "考试日期无效", "taken_on is not a date"),
    ({"exam": " "}, "缺少考试名称", "exam is missing"),
])
def test_each_bad_field_is_refused_with_its_reason(row: dict, zh: str, en: str) -> None:
    base = {"manager_id": "M1", "exam": "合规测试", "taken_on": "2025-03-15", "score": 80}
    load = check_rows([{**base, **row}], MANAGERS, AS_OF)
    assert load.accepted.num_rows == 0
    [refused] = load.refused
    assert refused.line == 1
    assert any(zh in z for z, _ in refused.problems), refused.problems
    assert any(en in e for _, e in refused.problems), refused.problems


def test_every_problem_of_a_row_is_listed() -> None:
    load = check_rows([{"manager_id": "MX", "exam": "", "taken_on": "2030-01-01",
                        "score": 120}], MANAGERS, AS_OF)
    assert len(load.refused[0].problems) == 4
    assert load.refused[0].to_json()["problems"][0]["en"] == "unknown manager 'MX'"


def test_csv_and_jsonl_files(tmp_path: Path) -> None:
    csv_file = tmp_path / "exams.csv"
    csv_file.write_text("manager_id,exam,taken_on,score\nM1,合规测试,2025-03-15,88\n"
                        "M9,合规测试,2025-03-15,70\n", encoding="utf-8")
    load = read_exam_file(csv_file, MANAGERS, AS_OF)
    assert load.accepted.num_rows == 1 and [r.line for r in load.refused] == [2]
    jsonl = tmp_path / "exams.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"manager_id": "M2", "exam": "合规测试", "taken_on": "2025-01-10",
                    "score": 75}, ensure_ascii=False),
        "{not json",
        json.dumps({"manager_id": "M2", "exam": "合规测试", "taken_on": "2025-01-10",
                    "score": 175}, ensure_ascii=False)]), encoding="utf-8")
    load = read_exam_file(jsonl, MANAGERS, AS_OF)
    assert load.accepted["score"].to_pylist() == [75.0]
    assert [r.line for r in load.refused] == [2, 3]
    assert "not valid JSON" in load.refused[0].problems[0][1]
    with pytest.raises(ValueError, match=r"\.csv or \.jsonl"):
        read_exam_file(tmp_path / "exams.xlsx", MANAGERS, AS_OF)


def test_summary_uses_the_last_year_up_to_the_day() -> None:
    exams = pa.Table.from_pylist([
        {"manager_id": "M1", "exam": "a", "taken_on": D(2024, 6, 30), "score": 10.0},  # too old
        {"manager_id": "M1", "exam": "a", "taken_on": D(2024, 7, 1), "score": 70.0},
        {"manager_id": "M1", "exam": "b", "taken_on": D(2025, 3, 15), "score": 80.0},
        {"manager_id": "M1", "exam": "c", "taken_on": D(2025, 3, 15), "score": 90.0},
        {"manager_id": "M1", "exam": "d", "taken_on": D(2025, 7, 1), "score": 0.0},  # future
        {"manager_id": "M2", "exam": "a", "taken_on": D(2023, 1, 1), "score": 99.0},
    ], schema=EXAM_SCHEMA)
    rows = exam_summary(exams, AS_OF).to_pylist()
    assert rows == [{"manager_id": "M1", "exams_taken": 3, "exam_mean": 80.0,
                     "exam_latest": 85.0, "exam_latest_on": D(2025, 3, 15)}]
    with pytest.raises(ValueError, match="window_days"):
        exam_summary(exams, AS_OF, window_days=0)


def test_bank_table_or_nothing() -> None:
    con = duckdb.connect()
    assert bank_exams(con).num_rows == 0
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.bank_manager_exams AS SELECT 'M1' AS manager_id, "
                "'合规测试' AS exam, DATE '2025-01-02' AS taken_on, 77::BIGINT AS score")
    assert bank_exams(con).to_pylist() == [{"manager_id": "M1", "exam": "合规测试",
                                           "taken_on": D(2025, 1, 2), "score": 77.0}]
