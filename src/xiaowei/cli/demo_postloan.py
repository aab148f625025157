"""The demo's post-loan act: digital monitoring beside uniform quarterly checks, same book.

Why in the demo: the bank's post-loan claim is "fewer inspection hours, trouble found earlier,
less lost" (issue 7 §6); the replay is :mod:`xiaowei.postloan.process_comparison`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from rich.columns import Columns
from rich.table import Table
from sqlalchemy import Engine

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import out, progress_bar
from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.behaviour_score import fit_out_of_time, register_and_approve
from xiaowei.postloan.behaviour_scorer import load_behaviour_score
from xiaowei.postloan.collection import open_collection_tasks
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


def fit_behaviour(analytic: AnalyticStore, work: Path) -> tuple[Any, dict[str, Any]]:
    """Fit the behaviour score out of time and register it with maker–checker approval, as
    the bank's modellers would before the nightly batch uses it; a book with too few loans
    gone bad (``tiny``) is refused, and the batch then runs without a score."""
    target = work / "behaviour_score"
    if target.exists():
        shutil.rmtree(target)
    try:
        with progress_bar() as bar:
            task = bar.add_task("贷后行为评分 fitting the behaviour score", total=None)
            fitted = fit_out_of_time(
                analytic, target, progress=lambda _s, done, total: bar.update(
                    task, completed=done, total=total))
    except ValueError as refused:
        return None, {"ref": None, "refused": str(refused)}
    ref = register_and_approve(target)
    keys = ("auc_train", "ks_train", "auc_oot", "ks_oot", "psi_oot")
    return load_behaviour_score(), {"ref": ref, **{k: fitted.get(k) for k in keys}}


def run_postloan(analytic: AnalyticStore, engine: Engine | None = None,
                 work: Path | None = None) -> dict[str, Any]:
    """The comparison over the last 24 month-ends; then the nightly batch as the bank would
    run it — a year of month-ends for the reports' history, the data's last day, and (with the
    transactional ``engine``) the warning tasks that day opens for the managers."""
    with progress_bar() as bar:
        task = bar.add_task("贷后监测回放 replaying post-loan monitoring", total=None)
        result = compare_postloan(
            analytic, progress=lambda _s, done, total: bar.update(task, completed=done,
                                                                  total=total))
        day = data_as_of(analytic)
    score, behaviour = fit_behaviour(analytic, work) if work is not None else (None, {})
    with progress_bar() as bar:
        nightly = bar.add_task("贷后日批 the nightly batch (a year of month-ends, then the "
                               "last day)", total=None)
        backfill(analytic, dt.date(day.year - 1, day.month, 1), day,
                 progress=lambda _s, done, total: bar.update(nightly, completed=done,
                                                              total=total))
        last = run_monitoring(analytic, day, full_tags=False, behaviour=score).to_json()
    last["behaviour_score"] = behaviour
    if engine is not None:
        opened = open_warning_tasks(engine, analytic.connection, day)
        last["tasks_opened"] = {level: sum(1 for t in opened if t.level == level)
                                for level in ("yellow", "orange", "red")}
        last["collection_tasks_opened"] = len(open_collection_tasks(
            engine, analytic.connection, day))
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
                  f"{opened} · 新开催收任务 collection tasks "
                  f"{night.get('collection_tasks_opened', 0)} · 五级分类 {night['classes']}")
        score = night.get("behaviour_score") or {}
        if score.get("ref"):
            out.print(f"[bold]行为评分 behaviour score[/] {score['ref']}: AUC train "
                      f"{score['auc_train']:.3f} · out of time {score['auc_oot']:.3f} · KS "
                      f"{score['ks_oot']:.3f} (样本外 out of time)")
        elif score.get("refused"):
            out.print(f"[bold]行为评分 behaviour score[/]: 未拟合 not fitted — "
                      f"{score['refused']}")
        out.print("  → xiaowei report warnings | vintage | rollrate | migration；"
                  "工作台 /web/tasks 查看预警任务")
    out.print("[bold]口径 method[/]: 同一贷款组合、同一产能表、同一早期处置模型 same loans, "
              "capacity table and early-action model; default = > 90 dpd, lead counted to "
              "the first missed payment; month-end replay (the nightly batch runs daily).")


__all__ = ["render_postloan", "run_postloan"]
