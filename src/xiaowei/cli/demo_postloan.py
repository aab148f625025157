"""The demo's post-loan act: digital monitoring beside uniform quarterly checks, same book.

Why in the demo: the bank's post-loan claim is "fewer inspection hours, trouble found earlier,
less lost" (issue 7 §6); the replay is :mod:`xiaowei.postloan.process_comparison`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.columns import Columns
from rich.table import Table
from sqlalchemy import Engine

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import out, progress_bar
from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.monitoring import backfill, run_monitoring
from xiaowei.postloan.process_comparison import compare_postloan
from xiaowei.postloan.warning_tasks import open_warning_tasks
from xiaowei.store.analytic import AnalyticStore

ROWS = (
    ("inspection_hours", "贷后检查工时 inspection hours", "{:,.0f}"),
    ("onsite_inspections", "现场检查次数 on-site inspections", "{:,.0f}"),
    ("offsite_inspections", "非现场检查次数 off-site inspections", "{:,.0f}"),
    ("defaults", "违约笔数 defaults (> 90 dpd)", "{:,}"),
    ("warned_30d_share", "提前30天以上预警占比 defaults warned ≥ 30 days ahead", "{:.1%}"),
    ("median_lead_days", "预警提前天数中位数 median lead (days)", "{:,.0f}"),
    ("warned_precision", "预警命中率 warned loans that defaulted", "{:.1%}"),
    ("loss", "损失 loss (万元 10k CNY)", "{:,.0f}"),
)


def run_postloan(analytic: AnalyticStore, engine: Engine | None = None) -> dict[str, Any]:
    """The comparison over the last 24 month-ends; then the nightly batch as the bank would
    run it — a year of month-ends for the reports' history, the data's last day, and (with the
    transactional ``engine``) the warning tasks that day opens for the managers."""
    with progress_bar() as bar:
        task = bar.add_task("贷后监测回放 replaying post-loan monitoring", total=None)
        result = compare_postloan(
            analytic, progress=lambda _s, done, total: bar.update(task, completed=done,
                                                                  total=total))
        day = data_as_of(analytic)
        nightly = bar.add_task("贷后日批 the nightly batch (a year of month-ends, then the "
                               "last day)", total=None)
        backfill(analytic, dt.date(day.year - 1, day.month, 1), day,
                 progress=lambda _s, done, total: bar.update(nightly, completed=done,
                                                              total=total))
        last = run_monitoring(analytic, day, full_tags=False).to_json()
    if engine is not None:
        opened = open_warning_tasks(engine, analytic.connection, day)
        last["tasks_opened"] = {level: sum(1 for t in opened if t.level == level)
                                for level in ("yellow", "orange", "red")}
    return {**result.to_json(), "nightly": last}


def _cell(key: str, side: dict[str, Any], fmt: str) -> str:
    value = side.get(key)
    if value is None:
        return "—"
    return fmt.format(value / 10_000 if key == "loss" else value)


def render_postloan(p: dict[str, Any]) -> None:
    digital, traditional = p["digital"], p["traditional"]
    table = Table(title=f"贷后：数字化监测 vs 按季现场检查 post-loan: digital monitoring vs "
                        f"quarterly checks · {p['window']['first']} – {p['window']['last']} · "
                        f"{p['loans_monitored']:,} 笔贷款 loans")
    for name, justify in (("指标 figure", "left"), ("传统 traditional", "right"),
                          ("数字化 digital", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for key, label, fmt in ROWS:
        table.add_row(label, _cell(key, traditional, fmt), _cell(key, digital, fmt))
    out.print(table)
    out.print(Columns([
        bar_table("贷后检查工时 inspection hours",
                  {"传统 traditional": traditional["inspection_hours"],
                   "数字化 digital": digital["inspection_hours"]}, "流程", 30, "{:,.0f}"),
        bar_table("提前30天预警 warned ≥ 30 days ahead",
                  {"传统 traditional": traditional["warned_30d_share"] * 100,
                   "数字化 digital": digital["warned_30d_share"] * 100}, "流程", 30,
                  "{:.1f}%"),
        bar_table("风险分层 strata (loan-months)", p["strata_loan_months"], "分层", 20),
    ]))
    night = p.get("nightly")
    if night:
        opened = night.get("tasks_opened", {})
        out.print(f"[bold]贷后日批 nightly batch[/] {night['as_of']}: {night['loans']:,} 笔在贷 "
                  f"loans · 新增预警 raised {night['warnings_raised']} · 今日到期检查 "
                  f"inspections due {night['inspections_due']} · 新开预警任务 tasks opened "
                  f"{opened} · 五级分类 {night['classes']}")
        out.print("  → xiaowei report warnings | vintage | rollrate | migration；"
                  "工作台 /web/tasks 查看预警任务")
    out.print("[bold]口径 method[/]: 同一贷款组合、同一产能表、同一早期处置模型 same loans, "
              "capacity table and early-action model; default = > 90 dpd, lead counted to "
              "the first missed payment; month-end replay (the nightly batch runs daily).")


__all__ = ["render_postloan", "run_postloan"]
