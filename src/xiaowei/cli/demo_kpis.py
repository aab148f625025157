"""The demo's last act: the digital process beside the traditional one on the same book.

Why in the demo: the platform's claim is the bank's written targets (300+ approvals a day with
the same approvers, 200 customers per manager, risk no worse). The demo fits the scorecard on
the first half of the application history, registers it with maker–checker approval, replays
the second half through the default pack, and scores both processes with one capacity table
and one outcome oracle (:mod:`xiaowei.origination.process_comparison`).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.columns import Columns
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import out, progress_bar
from xiaowei.origination.app_scorecard import fit_out_of_time, register_and_approve
from xiaowei.origination.capacity import load_capacity
from xiaowei.origination.decide import DefaultDecider
from xiaowei.origination.digital_process import (
    Window,
    load_tags,
    replay,
    summary,
    window_applications,
)
from xiaowei.origination.history import (
    HistoricalApplication,
    PointInTimeTags,
    historical_applications,
)
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.origination.outcome_oracle import OutcomeOracle
from xiaowei.origination.process_comparison import compare
from xiaowei.reports.kpi_file import save_kpis
from xiaowei.store.analytic import AnalyticStore

KPI_ROWS = (
    ("approvals_per_day", "日审批量 approvals a day (同等审批人员 same approvers)", "{:,.1f}"),
    ("auto_decision_share", "自动决策占比 automatic decisions", "{:.1%}"),
    ("customers_per_manager", "人均管户 customers per manager", "{:,.1f}"),
    ("approval_rate", "批准率 approval rate", "{:.1%}"),
    ("bad_rate_12m", "12个月不良率 12-month bad rate", "{:.2%}"),
    ("loss", "损失 loss (万元 10k CNY)", "{:,.0f}"),
)
TARGET_OF = {"approvals_per_day": "approvals_per_day",
             "customers_per_manager": "customers_per_manager",
             "bad_rate_12m": "bad_rate_12m", "loss": "loss_per_yuan_lent"}


def default_cut(applications: Sequence[HistoricalApplication]) -> dt.date:
    """The first day of the month that splits the application months in halves: the model
    learns on the first half, both processes are measured on the second (out of time)."""
    months = sorted({(a.applied_on.year, a.applied_on.month) for a in applications})
    if len(months) < 2:
        raise ValueError("the demo needs applications in at least two months")
    year, month = months[len(months) // 2]
    return dt.date(year, month, 1)


def run_kpis(analytic: AnalyticStore, dataset: Path, work: Path) -> dict[str, Any]:
    """Fit, register, replay and compare; the JSON block ``kpis`` of ``xiaowei demo``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    applications = historical_applications(analytic)
    cache = Path(str(analytic.path)).parent / "pit-tags"
    shutil.rmtree(cache, ignore_errors=True)  # a re-simulated bank: old keys would only take disk
    with PointInTimeTags(analytic, cache=cache) as tags:
        return save_kpis(work.parent, _fit_replay_compare(  # the API's /api/reports/kpis
            analytic, dataset, work, applications, tags, timings, started))


def _fit_replay_compare(analytic: AnalyticStore, dataset: Path, work: Path,
                        applications: Sequence[HistoricalApplication], tags: PointInTimeTags,
                        timings: dict[str, float], started: float) -> dict[str, Any]:
    with progress_bar() as bar:
        task = bar.add_task("时点标签 point-in-time tags (申请日 application days)",
                            total=None)
        load_tags(tags, applications,
                  lambda _day, done, total: bar.update(task, completed=done, total=total))
    timings["point_in_time_tags"] = time.perf_counter() - started

    cut = default_cut(applications)
    window = Window(cut, max(a.applied_on for a in applications))
    model_dir = work / "app_score-oot"
    shutil.rmtree(model_dir, ignore_errors=True)
    fitted = fit_out_of_time(analytic, applications, tags, cut, model_dir, allow_synthetic=True)
    ref = register_and_approve(model_dir)
    from xiaowei.modelling.registry import open_registry

    with open_registry() as registry:
        decider = DefaultDecider(tags=tags.reader(), resolver=RegistryModelResolver(registry))
    timings["fit_and_register"] = time.perf_counter() - started - sum(timings.values())

    chosen = window_applications(applications, window)
    with progress_bar() as bar:
        task = bar.add_task("数字化流程回放 replaying the digital process", total=len(chosen))
        cases = replay(analytic, chosen, decider,
                       lambda done, total: bar.update(task, completed=done, total=total))
    timings["replay"] = time.perf_counter() - started - sum(timings.values())

    capacity = load_capacity()
    heads = int(capacity.approvers.headcount.value)
    result = compare(analytic, cases, window, OutcomeOracle(dataset / "truth"), capacity, heads)
    timings["compare"] = time.perf_counter() - started - sum(timings.values())
    return {**result.to_json(),
            "model": {"ref": ref, "cut": fitted["cut"], "trained_on_loans": fitted["rows"],
                      "bads": fitted["bads"], "synthetic_target": fitted["synthetic"],
                      "auc_train": fitted["auc_train"], "features": fitted["features"]},
            "digital_mix": summary(cases),
            "seconds": {k: round(v, 1) for k, v in timings.items()}}


def _cell(key: str, side: dict[str, Any], fmt: str) -> str:
    value = side.get(key)
    if value is None:
        return "—"
    if key == "loss":
        value = value / 10_000
    return fmt.format(value)


def render_kpis(k: dict[str, Any]) -> None:
    """The side-by-side table (zh first), the targets, and bars where a picture helps."""
    digital, traditional, targets = k["digital"], k["traditional"], k["targets"]
    table = Table(title=f"数字化 vs 传统 digital vs traditional · 评估窗口 window "
                        f"{k['window']['since']} – {k['window']['until']} (样本外 out of time)")
    for name, justify in (("指标 KPI", "left"), ("传统 traditional", "right"),
                          ("数字化 digital", "right"), ("目标 target", "left"),
                          ("达成 met", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for key, label, fmt in KPI_ROWS:
        target = targets.get(TARGET_OF.get(key, ""), {})
        goal = target.get("target", "")
        if key == "loss" and target:
            goal = f"每元损失 per yuan lent {goal}"
        met = "" if not target else ("[green]✔[/]" if target["met"] else "[red]✘[/]")
        table.add_row(label, _cell(key, traditional, fmt), _cell(key, digital, fmt), goal, met)
    out.print(table)
    out.print(Columns([
        bar_table("日审批量 approvals a day",
                  {"传统 traditional": traditional["approvals_per_day"] or 0,
                   "数字化 digital": digital["approvals_per_day"] or 0}, "流程", 30, "{:,.0f}"),
        bar_table("人均管户 customers per manager",
                  {"传统 traditional": traditional["customers_per_manager"] or 0,
                   "数字化 digital": digital["customers_per_manager"] or 0}, "流程", 30,
                  "{:,.0f}"),
    ]))
    hours = {f"{side} {part}": v for side, block in (("传统", traditional), ("数字化", digital))
             for part, v in block["detail"]["hours_breakdown"].items() if v > 0}
    out.print(bar_table("每户年工时 manager hours per customer-year", hours, "构成 part", 30,
                        "{:.2f}"))
    cal, model = k["calibration"], k["model"]
    out.print(f"[bold]结果口径 oracle[/]: {k['oracle']}")
    out.print(f"[bold]校准 calibration[/] (传统已观察贷款 traditional loans with 12 months of "
              f"records, n={cal['loans']:,}): 记录 records {cal['records_bad_rate_12m']} vs "
              f"口径 oracle {cal['oracle_bad_rate_12m']} — "
              f"{'一致 agree' if cal['agree'] else '不一致 disagree'} (±{cal['tolerance']})")
    stand_in = " · 替代目标 stand-in target" if model["synthetic_target"] else ""
    out.print(f"[bold]模型 model[/] {model['ref']}: 训练截至 trained before {model['cut']} on "
              f"{model['trained_on_loans']:,} loans ({model['bads']} bad; AUC train "
              f"{model['auc_train']}){stand_in}")


__all__ = ["default_cut", "render_kpis", "run_kpis"]
