"""`xiaowei postloan run`: the nightly post-loan monitoring batch for one day.

``run [--as-of DATE] [--since DATE] [--engine duckdb|spark] [--signal-tags-only] [--no-tasks]
[--json]``:
refreshes the tags as of the day (the whole catalogue into the tag history, or only the tags
the warning signals read), then warnings, strata, inspection plans, collection steps,
five-level classes and ECL stages for every loan with a balance, stored in the analytic
store's ``postloan`` schema, and a task in the transactional store for each newly warned
borrower. A day run again replaces its rows and opens no task twice. Without ``--as-of`` the
day is the loaded data's as-of date; ``--since`` first runs every month-end from that date
(signal tags only), giving the reports (``xiaowei report warnings``) a history to measure.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from xiaowei.cli.charts import bar_table
from xiaowei.cli.days import command_day
from xiaowei.cli.output import fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.modelling import RegistryError
from xiaowei.postloan.behaviour_scorer import load_behaviour_score
from xiaowei.postloan.collection import open_collection_tasks
from xiaowei.postloan.monitoring import backfill, run_monitoring
from xiaowei.postloan.warning_tasks import open_warning_tasks
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine

LEVEL_ZH = {"yellow": "黄色 yellow", "orange": "橙色 orange", "red": "红色 red"}
TRACK_ZH = {"normal": "正常 normal", "watch": "关注名单 watch", "collect": "催收 collect",
            "dispose": "处置 dispose"}


def approved_behaviour_score() -> tuple[Any, str | None]:
    """The approved behaviour score and its reference, or (None, None) when none is approved
    yet — the pack then stratifies on arrears and warnings alone."""
    try:
        score = load_behaviour_score()
    except RegistryError:
        return None, None
    except DBAPIError as exc:
        fail(f"cannot read the model registry ({type(exc.orig).__name__}): run `xiaowei db "
             f"upgrade` first, or pass --no-behaviour")
    return score, score.ref


def run(as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD")] = None,
        engine: Annotated[str, typer.Option(help="duckdb | spark")] = "duckdb",
        signal_tags_only: Annotated[bool, typer.Option(
            "--signal-tags-only", help="refresh only the tags the warning signals read "
                                       "(faster; the tag history is not updated)")] = False,
        since: Annotated[str | None, typer.Option(
            "--since", help="first run the month-ends from this date (YYYY-MM-DD) up to the "
                            "day, signal tags only: a history for the reports")] = None,
        behaviour: Annotated[bool, typer.Option(
            "--behaviour/--no-behaviour", help="score every loan with the approved behaviour "
                                               "score (behaviour_score@approved) when there "
                                               "is one")] = True,
        open_tasks: Annotated[bool, typer.Option(
            "--open-tasks/--no-tasks", help="open a task for each newly warned borrower and "
                                            "each loan entering a collection step, in the "
                                            "transactional store")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")]
        = False) -> None:
    """贷后日批 — the nightly monitoring batch: warnings, strata, inspections, collection,
    five-level class and ECL stage for every loan as of a day."""
    if engine not in ("duckdb", "spark"):
        fail(f"--engine must be duckdb or spark, got {engine!r}")
    settings = get_settings()
    with AnalyticStore(settings.analytic_path, read_only=False) as analytic:
        day = command_day(as_of, analytic)
        first = command_day(since, analytic, "--since") if since is not None else None
        if first is not None and first >= day:
            fail(f"--since {first} must be before the day {day}")
        with progress_bar() as bar:
            if first is not None:
                back = bar.add_task(f"月末回补 month-ends {first} – {day}", total=None)
                backfill(analytic, first, day, engine=engine,
                         progress=lambda _t, done, total: bar.update(back, completed=done,
                                                                      total=total))
            task = bar.add_task(f"贷后监测 monitoring as of {day} on {engine}", total=None)
            score, score_ref = approved_behaviour_score() if behaviour else (None, None)
            result = run_monitoring(
                analytic, day, engine=engine, full_tags=not signal_tags_only, behaviour=score,
                progress=lambda _t, done, total: bar.update(task, completed=done,
                                                             total=total))
        doc = result.to_json()
        doc["behaviour_score"] = score_ref
        if open_tasks:
            engine = make_engine(settings.database_url)
            try:
                opened = open_warning_tasks(engine, analytic.connection, day)
                collecting = open_collection_tasks(engine, analytic.connection, day)
            finally:
                engine.dispose()
            doc["tasks_opened"] = {level: sum(1 for t in opened if t.level == level)
                                   for level in ("yellow", "orange", "red")}
            doc["collection_tasks_opened"] = dict(Counter(t.step for t in collecting))
    if as_json:
        print_json(doc)
        return
    render(doc)


def render(doc: dict[str, Any]) -> None:
    table = Table(show_header=False, title=f"贷后日批 post-loan batch · {doc['as_of']} · "
                                           f"{doc['engine']}")
    table.add_row("在贷笔数 loans with a balance", f"{doc['loans']:,}")
    table.add_row("借款人 borrowers", f"{doc['borrowers']:,}")
    table.add_row("行为评分 behaviour score", doc.get("behaviour_score") or
                  "未启用 none approved (strata from arrears and warnings)")
    table.add_row("新增预警客户 borrowers newly warned", f"{doc['warned_borrowers']:,}")
    table.add_row("余额 balance (万元)", f"{doc['balance_yuan'] / 10_000:,.0f}")
    table.add_row("预期信用损失 ECL (万元)", f"{doc['ecl_yuan'] / 10_000:,.0f}")
    if "tasks_opened" in doc:
        table.add_row("新开预警任务 warning tasks opened",
                      ", ".join(f"{LEVEL_ZH[k]} {v}" for k, v in doc["tasks_opened"].items()))
        table.add_row("新开催收任务 collection tasks opened",
                      ", ".join(f"{k} {v}" for k, v in doc["collection_tasks_opened"].items())
                      or "0")
    table.add_row("用时 seconds", ", ".join(f"{k} {v}" for k, v in doc["seconds"].items()))
    out.print(table)
    out.print(Columns([
        bar_table("新增预警 warnings raised",
                  {LEVEL_ZH[k]: v for k, v in doc["warnings_raised"].items()}, "等级", 24),
        bar_table("处置路径 tracks", {TRACK_ZH.get(k, k): v for k, v in doc["tracks"].items()},
                  "路径", 24),
        bar_table("五级分类 classes", doc["classes"], "分类", 24),
        bar_table("今日到期检查 inspections due", doc["inspections_due"], "方式", 24),
    ]))


__all__ = ["render", "run"]
