"""`xiaowei customers`: customer operations (客户运营) — the daily customer batch, one
customer's whole relationship, and portfolio balancing.

``run [--as-of D] [--max-tag-age N] [--json]``: every customer's relationship, maintenance
grade, maintenance strategy and life-cycle stage as of the day (default: the loaded data's
as-of), stored in the analytic store's ``customers`` schema (a day run again replaces its
rows); stale tags (governed data more than N days, default 7, before the day) exit 2.
``show PARTY [--as-of D] [--json]``: a governed party id or a bank party id (``P…`` of the
transactional store); an unknown party, or one that is not a customer, exits 2.
``balance [--as-of D] [--managers store|analytic] [--json]``: maintenance hours per manager
from the latest batch day (at most 7 days before the day) and reassignment suggestions.
With ``--json`` each prints one JSON document on stdout.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from xiaowei.cli.charts import bar_table
from xiaowei.cli.days import command_day
from xiaowei.cli.output import fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.customers.balancing import (
    BALANCE_COLUMNS,
    balance_portfolio,
    customers_from_rows,
    managers_from_analytic,
    managers_from_store,
)
from xiaowei.customers.customer_tables import StaleCustomerDay, customer_days
from xiaowei.customers.grades import Grade
from xiaowei.customers.lifecycle import Stage
from xiaowei.customers.operation_tasks import open_maintenance_tasks
from xiaowei.customers.run import DEFAULT_MAX_TAG_AGE_DAYS, StaleTags, run_customers
from xiaowei.customers.view import CustomerNotFound, customer_view, resolve_party
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine

app = typer.Typer(help="客户运营 — customer operations: relationship, maintenance grades, "
                       "life cycle, portfolio balancing", no_args_is_help=True)
AsOf = Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: the loaded "
                                                          "data's as-of)")]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document")]
RISK_ZH = {"low": "低 low", "medium": "中 medium", "high": "高 high", "critical": "极高 critical"}


@app.command("run")
def run(as_of: AsOf = None,
        max_tag_age: Annotated[int, typer.Option(
            "--max-tag-age", min=0, help="refuse when the governed data is older than this "
                                         "many days before the day")] = DEFAULT_MAX_TAG_AGE_DAYS,
        open_tasks: Annotated[bool, typer.Option(
            "--open-tasks", help="open a maintenance-visit task for each visit that fell due, "
                                 "held by the customer's manager")] = False,
        as_json: Json = False) -> None:
    """客户运营日批 — grade, strategy and life-cycle stage of every customer as of a day."""
    with AnalyticStore(get_settings().analytic_path, read_only=False) as analytic:
        day = command_day(as_of, analytic)
        with progress_bar() as bar:
            tasks = {"steps": bar.add_task(f"客户日批 customers as of {day}", total=6),
                     "customers": bar.add_task("策略包 pack per customer", total=None)}
            try:
                result = run_customers(analytic, day, max_tag_age_days=max_tag_age,
                                       progress=lambda kind, done, total: bar.update(
                                           tasks[kind], completed=done, total=total))
            except StaleTags as exc:
                fail("tags are stale: " + "; ".join(exc.reasons))
        doc = result.to_json()
        if open_tasks:
            engine = make_engine(get_settings().database_url)
            try:
                opened = open_maintenance_tasks(engine, analytic.connection, day)
            finally:
                engine.dispose()
            doc["maintenance_tasks"] = opened.to_json()
    if as_json:
        print_json(doc)
        return
    table = Table(show_header=False, title=f"客户运营日批 customer batch · {doc['as_of']} · "
                                           f"data as of {doc['data_as_of']}")
    table.add_row("客户数 customers", f"{doc['customers']:,}")
    table.add_row("贷款余额 loan balance (万元)", f"{doc['balance_yuan'] / 10_000:,.0f}")
    table.add_row("日均存款 deposits, 6-month avg (万元)", f"{doc['deposits_yuan'] / 10_000:,.0f}")
    table.add_row("今日应走访 visits due", f"{doc['visits_due']:,}")
    if "maintenance_tasks" in doc:
        table.add_row("新开走访任务 visit tasks opened",
                      f"{doc['maintenance_tasks']['opened']:,}")
    table.add_row("阶段变化 stage changes", f"{doc['events']:,}")
    table.add_row("风险来源 risk from", ", ".join(f"{k} {v:,}"
                                                 for k, v in doc["risk_sources"].items()))
    table.add_row("策略包 pack", f"{doc['pack']} {doc['pack_version']}")
    table.add_row("用时 seconds", ", ".join(f"{k} {v}" for k, v in doc["seconds"].items()))
    out.print(table)
    out.print(Columns([
        bar_table("维护等级 grades", {f"{g} {Grade(g).zh}": n
                                     for g, n in doc["grades"].items()}, "等级", 24),
        bar_table("生命周期 stages", {Stage(s).zh + " " + s: n
                                     for s, n in doc["stages"].items()}, "阶段", 24),
        bar_table("风险等级 risk", {RISK_ZH[k]: v for k, v in doc["risk_levels"].items()},
                  "风险", 24),
    ]))
    if doc["transitions"]:
        out.print(bar_table("阶段迁移 stage changes (top 10)",
                            dict(list(doc["transitions"].items())[:10]), "从→到", 30))


@app.command("show")
def show(party: Annotated[str, typer.Argument(help="governed party id, or the bank's "
                                                   "party id (P…)")],
         as_of: AsOf = None, as_json: Json = False) -> None:
    """一户一视图 — one customer's loans, deposits, related parties, grade and stages."""
    settings = get_settings()
    engines: list[Any] = []

    def store() -> Any:
        engines.append(make_engine(settings.database_url))
        return engines[-1]

    try:
        with AnalyticStore(settings.analytic_path, read_only=True) as analytic:
            day = command_day(as_of, analytic)
            try:
                governed = resolve_party(analytic.connection, party, store)
                doc = customer_view(analytic.connection, governed, day)
            except CustomerNotFound as exc:
                fail(str(exc))
    finally:
        for engine in engines:
            engine.dispose()
    doc["asked_for"] = party
    if as_json:
        print_json(doc)
        return
    _render_show(doc)


def _yuan(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.0f}"


def _render_show(doc: dict[str, Any]) -> None:
    p, s, g = doc["profile"], doc["summary"], doc["grade"]
    head = Table(show_header=False, title=f"一户一视图 {escape(str(p['name']))} "
                                          f"({doc['party_id']}) · {doc['as_of']}")
    head.add_row("类型 type", f"{p['party_type']} · 行业 {p['industry_code']}")
    if g["available"]:
        head.add_row("维护等级 grade", f"[bold]{g['grade']}[/] {g['grade_zh']} · 价值 value "
                     f"{g['value_score']:.0f} ({g['value_band_zh']}) · 风险 risk "
                     f"{g['risk_level_zh']} (from {g['risk_source']}) · {g['as_of']}")
        head.add_row("原因 reasons", "; ".join(f"{r['zh']} {r['en']}" for r in g["reasons"]))
        head.add_row("价值构成 points", ", ".join(f"{k} {v}" for k, v in g["points"].items()))
        st = g["strategy"]
        head.add_row("维护策略 strategy",
                     f"每 {st['visit_every_days']} 天走访 · {st['manager_tier_zh']} · "
                     f"{st['service_package_zh']} · 定价空间 {st['pricing_latitude_bp']}bp")
        head.add_row("生命周期 stage", f"{g['stage_zh']} {g['stage']} since {g['stage_since']}"
                     f" (before: {g['previous_stage'] or '—'})")
    else:
        head.add_row("维护等级 grade", f"[yellow]不可用 not available[/]: {escape(g['reason'])}")
    head.add_row("贷款余额 balance", f"{_yuan(s['balance'])} 元 · {s['open_loans']} open loans"
                 f" · dpd {s['dpd']}")
    head.add_row("存款 deposits", f"month-end {_yuan(s['deposit_balance'])} · 6-month avg "
                 f"{_yuan(s['deposit_avg_6m'])} · inflows 12m {_yuan(s['inflow_12m'])}")
    head.add_row("集团 group", f"{s['related_parties']} related · exposure "
                 f"{_yuan(s['group_exposure'])} · deposits {_yuan(s['group_deposits'])}")
    out.print(head)
    listing = (("贷款 loans", doc["loans"], ("loan_id", "product", "outstanding_yuan",
                                            "maturity_date", "dpd", "status")),
               ("账户 accounts", doc["accounts"], ("account", "account_type", "opened_on",
                                                  "month_end_balance")),
               ("申请 applications", doc["applications"], ("application_id", "applied_on",
                                                          "product_intent", "decision")),
               ("关联方 related parties", doc["related"], ("party_id", "name",
                                                         "relation_zh", "balance")),
               ("阶段事件 stage events", doc["stages"]["events"], ("as_of", "from", "to",
                                                                  "grade")))
    for title, rows, keys in listing:
        if not rows:
            continue
        table = Table(title=title)
        for key in keys:
            table.add_column(key)
        for row in rows:
            table.add_row(*(escape(str(row.get(k) if row.get(k) is not None else "—"))
                            for k in keys))
        out.print(table)


@app.command("balance")
def balance(as_of: AsOf = None,
            managers: Annotated[str, typer.Option(
                help="where the managers come from: store (the transactional store's "
                     "customer_manager) or analytic (raw.bank_managers)")] = "store",
            as_json: Json = False) -> None:
    """管户均衡 — maintenance hours per manager and reassignment suggestions."""
    if managers not in ("store", "analytic"):
        fail(f"--managers must be store or analytic, got {managers!r}")
    settings = get_settings()
    with AnalyticStore(settings.analytic_path, read_only=True) as analytic:
        day = command_day(as_of, analytic)
        try:
            rows = customer_days(analytic.connection, day, columns=BALANCE_COLUMNS)
        except StaleCustomerDay as exc:
            fail("; ".join(exc.reasons))
        batch_day = rows["as_of"][0].as_py() if rows.num_rows else day
        staff = managers_from_analytic(analytic.connection) if managers == "analytic" else None
    if staff is None:
        engine = make_engine(settings.database_url)
        try:
            staff = managers_from_store(engine)
        except SQLAlchemyError as exc:
            fail(f"cannot read the customer managers ({type(exc).__name__}): run `xiaowei db "
                 f"upgrade` and load the bank, or pass --managers analytic")
        finally:
            engine.dispose()
    if not staff:
        fail("no customer managers found: load the bank's managers first")
    report = balance_portfolio(customers_from_rows(rows.to_pylist()), staff)
    doc = {"as_of": day.isoformat(), "batch_day": str(batch_day), **report.to_json()}
    if as_json:
        print_json(doc)
        return
    _render_balance(doc)


def _render_balance(doc: dict[str, Any]) -> None:
    head = Table(show_header=False, title=f"管户均衡 portfolio balancing · batch day "
                                          f"{doc['batch_day']}")
    head.add_row("客户经理 managers", f"{doc['managers']} (hours needed ≈ "
                 f"{doc['managers_needed']} managers)")
    head.add_row("人均管户 customers per manager", str(doc["customers_per_manager"]))
    head.add_row("人均维护工时 hours per manager", f"{doc['hours_per_manager']} of "
                 f"{doc['capacity_hours_per_manager']} a year")
    head.add_row("超负荷 overloaded", f"{doc['overloaded_before']} → {doc['overloaded_after']}")
    head.add_row("建议调整 suggested moves", ", ".join(
        f"{k} {v}" for k, v in doc["moves_by_reason"].items()) or "0")
    head.add_row("未解决 unresolved", ", ".join(f"{k} {v}"
                                                for k, v in doc["unresolved"].items()))
    head.add_row("无客户经理 unassigned", f"{doc['unassigned']['customers']:,} customers, "
                 f"{doc['unassigned']['hours']:,} hours")
    out.print(head)
    out.print(bar_table("维护工时 maintenance hours by manager (before)",
                        {f"{m['manager_id']} {m['branch_id']} T{m['risk_tier']}": m["hours"]
                         for m in doc["by_manager"]}, "经理", 40, fmt="{:,.0f}"))
    if doc["suggestions"]:
        table = Table(title="调整建议 suggestions (first 20)")
        for key in ("party_id", "grade", "from", "to", "branch_id", "reason"):
            table.add_column(key)
        for move in doc["suggestions"][:20]:
            table.add_row(*(str(move[k]) for k in ("party_id", "grade", "from", "to",
                                                   "branch_id", "reason")))
        out.print(table)


__all__ = ["app"]
