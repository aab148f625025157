"""`xiaowei demo`: the main job on the embedded default — simulate, load, summarise, then the
digital process beside the traditional one on the same book (``cli/demo_kpis.py``)."""

from __future__ import annotations

import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.demo_kpis import render_kpis, run_kpis
from xiaowei.cli.demo_operations import render_operations, run_operations
from xiaowei.cli.demo_postloan import render_postloan, run_postloan
from xiaowei.cli.demo_staff import render_staff, run_staff_act
from xiaowei.cli.govern_cmd import render_govern, run_govern
from xiaowei.cli.load_cmd import render_load, run_load
from xiaowei.cli.output import err, out, print_json, progress_bar
from xiaowei.cli.sim_cmd import run_sim
from xiaowei.config import get_settings
from xiaowei.customers.operation_plan import running_digital_plan
from xiaowei.customers.operation_tasks import open_maintenance_tasks
from xiaowei.customers.run import run_customers
from xiaowei.customers.visit_plan import visits_per_year_from_grades
from xiaowei.data.summary import summarise
from xiaowei.data.tags.overview import tag_overview
from xiaowei.data.tags.service import compute_all, data_as_of
from xiaowei.entities.lending import Channel, LoanStatus
from xiaowei.entities.party import PartyType
from xiaowei.security.demo_users import create_demo_users
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine

PARTY_LABELS = {t.value: t.zh for t in PartyType}
STATUS_LABELS = {s.value: s.zh for s in LoanStatus}
CHANNEL_LABELS = {c.value: c.zh for c in Channel}


def demo(
    size: Annotated[str, typer.Option(help="tiny | small | bank")] = "small",
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    fresh: Annotated[bool | None, typer.Option(
        "--fresh/--keep",
        help="empty the stores first (default: only the embedded SQLite store is emptied; "
             "a PostgreSQL database is never emptied unless --fresh is given)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """演示 — generate a synthetic bank, load it, summarise the book, and compare the digital
    process with the traditional one (KPIs)."""
    started = time.perf_counter()
    settings = get_settings()
    home = settings.ensure_home()
    embedded = settings.database_url.startswith("sqlite")
    if fresh or (fresh is None and embedded):
        _reset_stores(settings.database_url, settings.analytic_path)
    dest = home / "datasets" / f"{size}-{seed}"
    if dest.exists():
        shutil.rmtree(dest)
    bank = run_sim(size, seed, dest, quiet=as_json)
    report = run_load(dest)
    governed = run_govern(dest)
    engine = make_engine(settings.database_url)
    try:
        with AnalyticStore(settings.analytic_path, read_only=False) as analytic:
            as_of = data_as_of(analytic)
            summary = summarise(engine, analytic, as_of)
            with progress_bar() as bar:
                task = bar.add_task("计算标签 computing tags", total=None)
                tag_run, tags = compute_all(
                    analytic, as_of,
                    progress=lambda _t, done, total: bar.update(task, completed=done,
                                                                 total=total))
            kpis = run_kpis(analytic, dest, home / "work")
            postloan = run_postloan(analytic, engine, home / "work")
            graded = run_customers(analytic, as_of)  # grades price the maintenance visits
            operations = run_operations(
                analytic, dest, running_digital_plan,
                visits_per_year=visits_per_year_from_grades(analytic.connection, as_of),
                digital_lending_hours=kpis["digital"]["detail"]["hours_breakdown"])
            operations["customers_batch"] = {k: v for k, v in graded.to_json().items()
                                             if k in ("as_of", "customers", "grades", "stages",
                                                      "visits_due")}
            operations["maintenance_tasks"] = open_maintenance_tasks(
                engine, analytic.connection, as_of).to_json()["opened"]
            staff = run_staff_act(analytic, engine, dest, as_of)
        users = create_demo_users(engine)
    finally:
        engine.dispose()
    summary["governance"] = governed.to_json()
    summary["tags"] = {**tag_run.to_json(), **tag_overview(tags)}
    summary["fingerprint"] = bank.fingerprint  # the dataset's; the tags carry their own
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["load"] = report.to_json()
    summary["kpis"] = kpis
    summary["postloan"] = postloan
    summary["operations"] = operations
    summary["staff"] = {**summary["staff"], **staff}  # the book's staff counts + detection
    # Generated now and shown only in this output: the store keeps argon2 hashes alone.
    summary["demo_users"] = [{"name": name, "password": password}
                             for name, password in users.items()]
    if as_json:
        print_json(summary)
        return
    render_load(report)
    render_govern(governed)
    render_summary(summary)
    render_tags(summary["tags"])
    render_kpis(kpis)
    render_postloan(postloan)
    render_operations(operations)
    render_staff(staff)
    render_users(users)
    err.print(f"数据在 data in {home} · 用时 took {summary['seconds']} s")


def render_users(users: dict[str, str]) -> None:
    """The demo users and their passwords — printed this once; the store keeps only hashes."""
    table = Table(title="演示用户 demo users · 密码仅显示这一次 passwords are shown only once")
    table.add_column("用户 user")
    table.add_column("密码 password")
    for name, password in users.items():
        table.add_row(name, password)
    out.print(table)
    out.print("工作台 workbench: .venv/bin/xiaowei serve → http://127.0.0.1:8000/web/")


def _reset_stores(database_url: str, analytic_path: Path) -> None:
    """Drop the demo's stores so that every demo run shows the same book."""
    from sqlalchemy.engine import make_url

    from xiaowei.store import migrate

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).unlink(missing_ok=True)
    else:
        migrate.downgrade(database_url, "base")
    for suffix in ("", ".wal"):
        Path(f"{analytic_path}{suffix}").unlink(missing_ok=True)


def render_summary(s: dict[str, Any]) -> None:
    apps, loans, staff = s["applications"], s["loans"], s["staff"]
    head = Table(show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column(justify="right")
    rate = apps["approval_rate"]
    rows = [
        ("客户 parties", f"{sum(s['parties'].values()):,}"),
        ("申请 applications", f"{apps['total']:,}"),
        ("批准率 approval rate", f"{rate:.1%}" if rate is not None else "—"),
        ("贷款 loans", f"{loans['total']:,}"),
        ("累计放款 granted (万元)", f"{Decimal(loans['principal_granted']) / 10_000:,.0f}"),
        ("贷款余额 outstanding (万元)",
         f"{Decimal(loans['outstanding_principal']) / 10_000:,.0f}"),
        ("客户经理 managers", f"{staff['managers']:,}"),
        ("人均管户 customers per manager", f"{staff['customers_per_manager']}"),
        ("数据指纹 fingerprint", s["fingerprint"][:16] + "…"),
    ]
    for k, v in rows:
        head.add_row(k, v)
    out.print(Panel(head, title=f"小微 xiaowei · 截至 as of {s['as_of']}", expand=False))
    out.print(Columns([
        bar_table("客户类型 parties by type", {PARTY_LABELS.get(k, k): v
                                               for k, v in s["parties"].items()}, "类型", 24),
        bar_table("申请渠道 applications by channel",
                  {CHANNEL_LABELS.get(k, k): v for k, v in apps["by_channel"].items()},
                  "渠道", 24),
    ]))
    out.print(bar_table("每月申请 applications per month", apps["by_month"], "月份", 50))
    out.print(Columns([
        bar_table("贷款状态 loans by status", {STATUS_LABELS.get(k, k): v
                                               for k, v in loans["by_status"].items()}, "状态",
                  24),
        bar_table("逾期分布 days-past-due buckets", loans["dpd_buckets"], "账龄", 24),
    ]))
    out.print(bar_table("数据源 source rows (analytic store)", s["sources"], "来源", 40))


LIFECYCLE_ZH = {"prospect": "潜在客户", "new": "新客户", "renewal_due": "续贷窗口",
                "mature": "成熟客户", "dormant": "沉睡客户", "churned": "流失客户"}
RISK_CLASS_ZH = {"high": "高风险行业", "medium": "中风险行业", "low": "低风险行业"}


def render_tags(t: dict[str, Any]) -> None:
    out.print(f"[bold]标签 tags[/]: {t['tags']} tags × {t['parties']:,} parties = "
              f"{t['values']:,} values as of {t['as_of']} in {t['seconds']} s "
              f"(fingerprint {t['fingerprint'][:16]}…)")
    out.print(Columns([
        bar_table("生命周期 lifecycle stage", {LIFECYCLE_ZH.get(k, k): v
                                              for k, v in t["lifecycle_stage"].items()},
                  "阶段", 24),
        bar_table("行业风险 industry risk class", {RISK_CLASS_ZH.get(k, k): v for k, v
                                                  in t["industry_risk_class"].items()},
                  "类别", 24),
    ]))
    out.print(bar_table("风险信号 parties with a warning signal", t["signals"], "信号", 40))
