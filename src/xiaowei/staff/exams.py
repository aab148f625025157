"""Exam and test results of customer managers (考试测评): read, checked, summarised.

Why a gate before the rating: an exam score feeds the 专业能力 dimension of the rating and the
promotion rule (考核与晋升), so a typo — a score of 820, a manager who does not exist, a sitting
dated next month — would move a person's career. Results come from the bank's own table
(``raw.bank_manager_exams``, the simulator writes one) or from a file HR uploads (CSV or JSON
Lines with ``manager_id, exam, taken_on, score``); every row of a file is checked and a bad
row is refused with its reasons in Chinese and English, never silently dropped or clipped.

The summary the rating reads (:func:`exam_summary`) uses only sittings taken on or before
``as_of`` and within ``window_days`` before it: the mean score of the window, the latest
score and how many sittings it rests on.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

EXAM_SCHEMA = pa.schema([("manager_id", pa.string()), ("exam", pa.string()),
                         ("taken_on", pa.date32()), ("score", pa.float64())])
SUMMARY_WINDOW_DAYS = 365


@dataclass(frozen=True)
class RefusedRow:
    """One refused row: its 1-based line (data rows, after a CSV header), what it said, why."""

    line: int
    row: Mapping[str, Any]
    problems: tuple[tuple[str, str], ...]  # (zh, en)

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "row": dict(self.row),
                "problems": [{"zh": zh, "en": en} for zh, en in self.problems]}


@dataclass(frozen=True)
class ExamLoad:
    """What a file gave: the accepted sittings (:data:`EXAM_SCHEMA`) and the refused rows."""

    accepted: pa.Table
    refused: list[RefusedRow] = field(default_factory=list)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_rows(rows: Iterable[Mapping[str, Any]], managers: Iterable[str],
               as_of: dt.date) -> ExamLoad:
    """Accept rows whose manager is known, exam named, date a real day on or before
    ``as_of`` and score a number in 0–100; refuse the others with every reason."""
    known = set(managers)
    accepted: list[dict[str, Any]] = []
    refused: list[RefusedRow] = []
    for line, row in enumerate(rows, start=1):
        problems: list[tuple[str, str]] = []
        manager = str(row.get("manager_id") or "").strip()
        if not manager:
            problems.append(("缺少客户经理编号", "manager_id is missing"))
        elif manager not in known:
            problems.append((f"客户经理 {manager} 不存在", f"unknown manager {manager!r}"))
        exam = str(row.get("exam") or "").strip()
        if not exam:
            problems.append(("缺少考试名称", "exam is missing"))
        day = _date(row.get("taken_on"))
        if day is None:
            problems.append((f"考试日期无效：{row.get('taken_on')!r}",
                             f"taken_on is not a date (YYYY-MM-DD): {row.get('taken_on')!r}"))
        elif day > as_of:
            problems.append((f"考试日期 {day} 晚于数据日期 {as_of}",
                             f"taken_on {day} is after as_of {as_of} (a future date)"))
        score = _score(row.get("score"))
        if score is None:
            problems.append((f"分数不是数字：{row.get('score')!r}",
                             f"score is not a number: {row.get('score')!r}"))
        elif not 0 <= score <= 100:
            problems.append((f"分数 {score:g} 超出 0–100", f"score {score:g} is outside 0–100"))
        if problems:
            refused.append(RefusedRow(line, dict(row), tuple(problems)))
        else:
            accepted.append({"manager_id": manager, "exam": exam, "taken_on": day,
                             "score": score})
    return ExamLoad(pa.Table.from_pylist(accepted, schema=EXAM_SCHEMA), refused)


def read_exam_file(path: Path | str, managers: Iterable[str], as_of: dt.date) -> ExamLoad:
    """Read and check a ``.csv`` (header row) or ``.jsonl`` file of exam results; a JSON line
    that does not parse is refused like any other bad row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return check_rows(list(csv.DictReader(handle)), managers, as_of)
    if suffix not in (".jsonl", ".ndjson"):
        raise ValueError(f"exam results must be a .csv or .jsonl file, got {path.name!r}")
    rows: list[Mapping[str, Any]] = []
    broken: list[RefusedRow] = []
    lines = [t for t in path.read_text("utf-8").splitlines() if t.strip()]
    for i, text in enumerate(lines, start=1):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            broken.append(RefusedRow(i, {"text": text}, ((f"不是有效的 JSON：{exc.msg}",
                                                         f"not valid JSON: {exc.msg}"),)))
            rows.append({})
            continue
        rows.append(value if isinstance(value, dict) else {"value": value})
    load = check_rows(rows, managers, as_of)
    bad_lines = {b.line for b in broken}
    refused = sorted([*broken, *(r for r in load.refused if r.line not in bad_lines)],
                     key=lambda r: r.line)
    return ExamLoad(load.accepted, refused)


def bank_exams(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The bank's recorded sittings (``raw.bank_manager_exams``); empty when it has none."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                        "AND table_name = 'bank_manager_exams'").fetchall()[0][0]
    if not found:
        return EXAM_SCHEMA.empty_table()
    rows = con.execute("SELECT manager_id, exam, taken_on, score::DOUBLE "
                       "FROM raw.bank_manager_exams ORDER BY manager_id, taken_on, exam"
                       ).fetchall()
    return pa.Table.from_pylist([dict(zip(EXAM_SCHEMA.names, r, strict=True)) for r in rows],
                                schema=EXAM_SCHEMA)


SUMMARY_SCHEMA = pa.schema([("manager_id", pa.string()), ("exams_taken", pa.int64()),
                            ("exam_mean", pa.float64()), ("exam_latest", pa.float64()),
                            ("exam_latest_on", pa.date32())])


def exam_summary(exams: pa.Table, as_of: dt.date, *,
                 window_days: int = SUMMARY_WINDOW_DAYS) -> pa.Table:
    """Per manager with a sitting in ``(as_of − window_days, as_of]``: how many, the mean
    and the latest score (the mean of that day's sittings when several)."""
    if window_days < 1:
        raise ValueError(f"window_days must be ≥ 1, got {window_days}")
    start = as_of - dt.timedelta(days=window_days)
    by_manager: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for r in exams.select(["manager_id", "taken_on", "score"]).to_pylist():
        if r["taken_on"] is not None and start < r["taken_on"] <= as_of:
            by_manager[r["manager_id"]].append((r["taken_on"], float(r["score"])))
    out = []
    for manager, sittings in sorted(by_manager.items()):
        last = max(d for d, _ in sittings)
        latest = [s for d, s in sittings if d == last]
        out.append({"manager_id": manager, "exams_taken": len(sittings),
                    "exam_mean": sum(s for _, s in sittings) / len(sittings),
                    "exam_latest": sum(latest) / len(latest), "exam_latest_on": last})
    return pa.Table.from_pylist(out, schema=SUMMARY_SCHEMA)


__all__ = ["EXAM_SCHEMA", "SUMMARY_SCHEMA", "ExamLoad", "RefusedRow", "bank_exams",
           "check_rows", "exam_summary", "read_exam_file"]
