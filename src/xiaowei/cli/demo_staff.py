"""The demo's staff act: finding colluding managers, against results-only management.

Why in the demo: the bank's staff claim is "colluding managers found within three months of
their first colluding application, honest managers left alone" (issue 9); the comparison is
:mod:`xiaowei.staff.detection_comparison`. Then the last day's full staff batch (ratings,
workload, alerts) with the supervisors' tasks, so the pages have a day to show.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from rich.table import Table
from sqlalchemy import Engine

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import out, progress_bar
from xiaowei.staff.detection_comparison import compare_detection
from xiaowei.staff.run import run_staff
from xiaowei.store.analytic import AnalyticStore

RECENT_DAYS = 90
"""The demo opens supervisor tasks for the new alerts of this many days before its last day."""
KEYS = ("collusion_recall", "collusion_precision", "honest_alert_rate", "median_detection_days",
        "traditional_median_detection_days")


def _first_application(analytic: AnalyticStore) -> dt.date:
    (day,) = analytic.connection.execute(
        "SELECT min(CAST(applied_at AS DATE)) FROM raw.bank_applications").fetchone()
    return day


def run_staff_act(analytic: AnalyticStore, engine: Engine, dataset_dir: Path | str,
                  as_of: dt.date) -> dict[str, Any]:
    """The JSON block ``staff`` of ``xiaowei demo`` (the five figures, detail, the last day)."""
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("员工管理 staff: detection over the window", total=None)
        result = compare_detection(
            analytic.connection, dataset_dir, _first_application(analytic), as_of,
            progress=lambda _s, done, total: bar.update(task, completed=done, total=total))
        day = bar.add_task("员工日批 the last day's staff batch", total=None)
        batch = run_staff(analytic.connection, as_of, engine=engine, open_tasks=True)
        recent = open_recent_alert_tasks(analytic, engine, as_of)
        bar.update(day, completed=1, total=1)
    return {**result.to_json(), "batch": batch.to_json(), "recent_alert_tasks": recent,
            "seconds": round(time.perf_counter() - started, 1)}


def open_recent_alert_tasks(analytic: AnalyticStore, engine: Engine, as_of: dt.date,
                            days: int = RECENT_DAYS) -> int:
    """Tasks for the new alerts of the last ``days`` days of the replayed history, as the
    nightly batch would have opened them on their days (the replay runs without the store);
    each day's ids are the batch's own, so nothing opens twice. Returns tasks opened."""
    from xiaowei.staff.alert_tasks import open_alert_tasks

    cur = analytic.connection.execute(
        "SELECT * FROM staff.alert WHERE new AND as_of >= ? AND as_of <= ? ORDER BY as_of, "
        "manager_id", [as_of - dt.timedelta(days=days), as_of])
    names = [d[0] for d in cur.description]
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for row in cur.fetchall():
        alert = dict(zip(names, row, strict=True))
        by_day.setdefault(alert["as_of"], []).append(alert)
    return sum(open_alert_tasks(engine, alerts, day)["opened"]
               for day, alerts in sorted(by_day.items()))


def _days(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def _share(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def render_staff(doc: dict[str, Any]) -> None:
    """Side-by-side figures (zh first), the targets, bars, the last day's batch."""
    d = doc["detail"]
    table = Table(title=f"员工管理：过程管控 vs 只看结果 staff management: process vs "
                        f"results only · {d['window']['first']} – {d['window']['last']} · "
                        f"{d['managers']} 名 managers, {d['colluders']} 名合谋 colluding "
                        f"(ground truth)")
    for name, justify in (("指标 figure", "left"), ("只看结果 results only", "right"),
                          ("过程管控 digital", "right"), ("目标 target", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    recall = doc["collusion_recall"]
    table.add_row("合谋发现率（3个月内）collusion recall within 3 months", "—", _share(recall),
                  "≥ 80%" + (" ✔" if recall is not None and recall >= 0.8 else " ✘"))
    table.add_row("预警准确率 collusion precision", "—", _share(doc["collusion_precision"]), "")
    rate = doc["honest_alert_rate"]
    table.add_row("诚信客户经理被预警比例 honest managers alerted", "0%", _share(rate),
                  "≤ 5%" + (" ✔" if rate is not None and rate <= 0.05 else " ✘"))
    table.add_row("发现用时中位数（天）median days to detection",
                  _days(doc["traditional_median_detection_days"]),
                  _days(doc["median_detection_days"]), "≤ 92")
    out.print(table)
    out.print(bar_table("发现用时 days to detection (median)",
                        {"只看结果 results only": doc["traditional_median_detection_days"] or 0,
                         "过程管控 digital": doc["median_detection_days"] or 0},
                        "流程", 30, "{:.0f}"))
    b = doc["batch"]
    out.print(f"[bold]员工日批 staff batch[/] {b['as_of']}: {b['managers']} 名客户经理 · 评级 "
              f"ratings {b['ratings']} · 预警 alerts {b['alerts_by_level']} · 主管任务 tasks "
              f"{(b.get('tasks') or {}).get('opened', 0) + doc.get('recent_alert_tasks', 0)} "
              f"(近 {RECENT_DAYS} 天新预警 new alerts of the last {RECENT_DAYS} days) → /web/staff")
    out.print(f"[bold]口径 method[/]: {d['method']}")


__all__ = ["KEYS", "render_staff", "run_staff_act"]
