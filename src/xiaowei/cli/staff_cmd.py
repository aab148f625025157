"""`xiaowei staff run` and `xiaowei staff show`: the nightly staff batch and one manager's page.

``run [--as-of DATE] [--since DATE] [--no-tasks] [--json]``: behaviour signals, ratings,
workload, business-source figures and alerts for every manager as of the day, stored in the
analytic store's ``staff`` schema (:mod:`xiaowei.staff.run`); a supervisor task for each new
alert. ``--since`` first runs every month-end from that date (signals and alerts only), so the
alerts of the day are judged against the months before (an alert is raised once).

``show MANAGER [--as-of DATE] [--by USER] [--json]``: the stored day for one manager — rating,
radar, workload against the 200 target, business figures, signals and alerts. Staff data is
personal: every showing is written to the audit log with who asked (``--by``, default the
operating-system user).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.days import command_day
from xiaowei.cli.output import current_user, fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.postloan.loan_state import month_ends
from xiaowei.staff.run import SCHEMA, ensure_tables, run_staff
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine

LEVEL_ZH = {"yellow": "黄色 yellow", "orange": "橙色 orange", "red": "红色 red",
            "none": "无 none"}
DIMENSIONS = (("dim_volume", "业务量 volume"), ("dim_quality", "资产质量 quality"),
              ("dim_risk", "风险抵御 risk mix"), ("dim_conduct", "合规操守 conduct"),
              ("dim_professional", "专业能力 professional"), ("dim_workload", "工作负荷 workload"))


def run(as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD")] = None,
        since: Annotated[str | None, typer.Option(
            "--since", help="first run the month-ends from this date (YYYY-MM-DD)")] = None,
        no_tasks: Annotated[bool, typer.Option("--no-tasks", help="open no supervisor tasks"
                                               )] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")
                           ] = False) -> None:
    """员工日批 · the staff batch for one day: signals, ratings, workload, alerts."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with AnalyticStore(settings.analytic_path, read_only=False) as analytic:
            day = command_day(as_of, analytic)
            start = command_day(since, analytic, "--since") if since else None
            if start is not None and start > day:
                fail(f"--since {start} is after --as-of {day}")
            earlier = [d for d in month_ends(start, day) if d < day] if start else []
            with progress_bar() as bar:
                task = bar.add_task("员工日批 staff batch", total=len(earlier) + 1)
                for i, d in enumerate(earlier):
                    run_staff(analytic.connection, d, engine=engine, rate=False)
                    bar.update(task, completed=i + 1)
                result = run_staff(analytic.connection, day, engine=engine,
                                   open_tasks=not no_tasks)
                bar.update(task, completed=len(earlier) + 1)
    except LookupError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    doc = result.to_json()
    if as_json:
        print_json(doc)
        return
    _render_run(doc, result.alerts)


def _render_run(doc: dict[str, Any], alerts: list[dict[str, Any]]) -> None:
    out.print(f"[bold]员工日批 staff batch[/] {doc['as_of']}: {doc['managers']} 名客户经理 "
              f"managers · {doc['signals']} 个信号 signals · {doc['alerts']} 个预警 alerts "
              f"({doc['new_alerts']} 新 new) · {doc['seconds']}")
    out.print(bar_table("评级 ratings", doc["ratings"], "评级", 30))
    if alerts:
        table = Table(title="高危操作预警 alerts")
        for name in ("客户经理 manager", "级别 level", "类别 categories", "信号 signals", "新 new"):
            table.add_column(name)
        for a in alerts:
            table.add_row(a["manager_id"], LEVEL_ZH.get(a["level"], a["level"]),
                          a["categories"], "、".join(s["name_zh"] for s in a["signals"]),
                          "✔" if a["new"] else "")
        out.print(table)
    if "tasks" in doc:
        out.print(f"主管任务 supervisor tasks: {doc['tasks']}")


def _latest_day(con: Any, manager: str, as_of: dt.date | None) -> dt.date | None:
    row = con.execute(f"SELECT max(as_of) FROM {SCHEMA}.manager_day WHERE manager_id = ? "
                      "AND (? IS NULL OR as_of <= ?)", [manager, as_of, as_of]).fetchone()
    return row[0] if row else None


def manager_document(con: Any, manager: str, as_of: dt.date | None) -> dict[str, Any]:
    """The stored staff day of one manager: the latest stored day on or before ``as_of``."""
    ensure_tables(con)
    day = _latest_day(con, manager, as_of)
    if day is None:
        known = con.execute("SELECT count(*) FROM raw.bank_managers WHERE manager_id = ?",
                            [manager]).fetchone()[0]
        if not known:
            raise LookupError(f"没有此客户经理 unknown manager: {manager}")
        raise LookupError(f"{manager}: 尚无员工日批结果 no staff batch stored"
                          + (f" on or before {as_of}" if as_of else "")
                          + " — run `xiaowei staff run` first")
    cur = con.execute(f"SELECT * FROM {SCHEMA}.manager_day WHERE manager_id = ? AND as_of = ?",
                      [manager, day])
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchone(), strict=True))
    signals = con.execute(
        f"SELECT signal, category, level, value, threshold, n_events, evidence, name_zh, "
        f"name_en FROM {SCHEMA}.signal WHERE manager_id = ? AND as_of = ? "
        f"ORDER BY CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END, signal",
        [manager, day]).fetchall()
    alerts = con.execute(
        f"SELECT as_of, level, categories, new FROM {SCHEMA}.alert WHERE manager_id = ? "
        f"AND as_of <= ? ORDER BY as_of DESC LIMIT 12", [manager, day]).fetchall()
    keys = ("signal", "category", "level", "value", "threshold", "n_events", "evidence",
            "name_zh", "name_en")
    return {
        "manager_id": manager, "as_of": day.isoformat(),
        **{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()
           if k not in ("as_of", "manager_id")},
        "signals": [{**dict(zip(keys, s, strict=True)),
                     "evidence": json.loads(s[6] or "[]")} for s in signals],
        "alerts": [{"as_of": a[0].isoformat(), "level": a[1], "categories": a[2],
                    "new": bool(a[3])} for a in alerts]}


def show(manager: Annotated[str, typer.Argument(help="客户经理编号 manager id, e.g. M00001")],
         as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD")] = None,
         by: Annotated[str | None, typer.Option("--by", help="who is looking (audited)")
                       ] = None,
         as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")
                            ] = False) -> None:
    """查看客户经理 · one manager's stored staff day (every showing is audited)."""
    from xiaowei.security import audit
    from xiaowei.store.database import transaction

    settings = get_settings()
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date like 2025-12-31, got {as_of!r}")
    with AnalyticStore(settings.analytic_path, read_only=False) as analytic:
        try:
            doc = manager_document(analytic.connection, manager, day)
        except LookupError as exc:
            fail(str(exc))
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            audit.record(session, current_user(by), "staff.view", ("manager", manager),
                         {"as_of": doc["as_of"], "via": "cli"})
    finally:
        engine.dispose()
    if as_json:
        print_json(doc)
        return
    _render_manager(doc)


def _pct(x: Any) -> str:
    return "—" if x is None else f"{float(x):.1%}"


def _render_manager(doc: dict[str, Any]) -> None:
    out.print(f"[bold]{doc['manager_id']}[/] · {doc['branch_id']} · {doc['as_of']} · 评级 "
              f"rating [bold]{doc['rating']}[/] {doc['rating_zh'] or ''} ({doc['score']}) · "
              f"主因 driver {doc['driver_zh'] or '—'} · 建议 {doc['assessment_zh'] or '—'} · "
              f"预警 alert {LEVEL_ZH.get(doc['alert_level'], doc['alert_level'])}")
    out.print(bar_table("能力雷达 radar (0–100)",
                        {label: doc[key] or 0 for key, label in DIMENSIONS}, "维度", 30,
                        "{:.0f}"))
    out.print(f"管户 customers {doc['customers']} / 目标 target {doc['target_customers']} · "
              f"工时 hours {doc['hours']:.0f} / {doc['capacity_hours']:.0f} · PAR30 "
              f"{_pct(doc['par30'])} · PAR90 {_pct(doc['par90'])} · 首期违约 FPD "
              f"{_pct(doc['fpd_rate'])} · 续贷率 renewal {_pct(doc['renewal_rate'])} · "
              f"风险层级 tier {doc['recorded_tier']} → 建议 {doc['recommended_tier']}"
              if doc["hours"] is not None else "工作量未计算 workload not computed")
    if doc["signals"]:
        table = Table(title="行为信号 behaviour signals")
        for name in ("信号 signal", "类别", "级别 level", "值 value", "阈值 threshold", "证据"):
            table.add_column(name)
        for s in doc["signals"]:
            table.add_row(f"{s['name_zh']} {s['name_en']}", s["category"],
                          LEVEL_ZH.get(s["level"], s["level"]), f"{s['value']:.3g}",
                          f"{s['threshold']:.3g}", ", ".join(map(str, s["evidence"][:3])))
        out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``show`` to the ``xiaowei staff`` group."""
    app.command("run")(run)
    app.command("show")(show)


__all__ = ["manager_document", "register", "run", "show"]
