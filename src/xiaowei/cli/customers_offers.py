"""`xiaowei customers offers|renewals|train`: value mining and retention from the terminal.

Thin by design (the group registers these functions):

* ``offers [PARTY] [--as-of DATE] [--top N] [--open-tasks] [--json]`` — one customer's ranked
  offers and refused products with reasons, or (without PARTY) the whole book: offers per
  product, refusal reasons, the best offers; ``--open-tasks`` puts every customer's best offer
  on its manager's task list;
* ``renewals [--as-of DATE] [--open-tasks] [--json]`` — loans maturing within 90 days:
  pre-screen, route (无还本续贷 or standard), retention action and offer;
* ``train [--by USER] [--approve-by USER] [--json]`` — fits ``offer_propensity`` and
  ``churn_at_maturity`` out of time and registers them (approved when a second person is
  named); too few outcomes is a clear error naming the counts.

Models and scorecards are the approved ones in the registry when there are; without them the
offers rank by value, churn risk is the book's recent rate and the pre-screen reads the
origination pack's admission rules only — each output says which. Without ``--as-of`` the day
is the loaded data's as-of date. ``--json`` prints one JSON object.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.days import command_day
from xiaowei.cli.output import current_user, err, fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.store.analytic import AnalyticStore

AsOf = Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: the data's "
                                                            "as-of date)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object")]
OpenTasks = Annotated[bool, typer.Option(
    "--open-tasks", help="put the offers / actions on the managers' task lists")]
Top = Annotated[int, typer.Option("--top", min=1, help="best offers to list")]
ACTION_ZH = {"preapproved_renewal": "预授信续贷 pre-approved renewal",
             "manager_visit": "上门拜访 manager visit", "reminder_call": "提醒电话 reminder call",
             "none": "无 none"}
ROUTE_ZH = {"no_repay": "无还本续贷 no-repay renewal", "standard": "常规续贷 standard",
            "decline": "不续贷 decline"}


@contextmanager
def _store() -> Iterator[AnalyticStore]:
    path = get_settings().analytic_path
    if not path.is_file():
        fail(f"no analytic store at {path}: load and govern a bank first")
    with AnalyticStore(path, read_only=True) as analytic:
        yield analytic


def _engine() -> Any:
    """The transactional store, migrated, or None when it cannot be reached."""
    from xiaowei.store import migrate
    from xiaowei.store.database import make_engine

    url = get_settings().database_url
    try:
        migrate.upgrade(url)
        return make_engine(url)
    except Exception as exc:  # no store: offers still decide, nothing is held or opened
        err.print(f"[yellow]交易库不可用 transactional store unavailable[/]: {escape(str(exc))}")
        return None


def offers(party: Annotated[str | None, typer.Argument(help="客户 governed party id")] = None,
           as_of: AsOf = None, top: Top = 15, open_tasks: OpenTasks = False,
           as_json: JsonFlag = False) -> None:
    """客户价值挖掘 — next-best products: eligibility, value, propensity, reasons."""
    from xiaowei.customers.offers import OfferRefused, evaluate_offers
    from xiaowei.customers.operation_tasks import accepted_products, open_offer_tasks
    from xiaowei.customers.propensity import load_offer_propensity

    engine = _engine() if open_tasks else None
    with _store() as analytic:
        day = command_day(as_of, analytic)
        propensity = load_offer_propensity()
        accepted = _accepted(engine, day, accepted_products)
        try:
            with progress_bar() as bar:
                task = bar.add_task("价值挖掘 deciding offers", total=None)
                book = evaluate_offers(analytic, day, parties=[party] if party else None,
                                       propensity=propensity, accepted=accepted,
                                       progress=lambda d, n: bar.update(task, completed=d,
                                                                        total=n))
        except OfferRefused as exc:
            fail(str(exc))
            raise
        opened = None
        if open_tasks and engine is not None:
            opened = open_offer_tasks(engine, analytic.connection, book).to_json()
    if party is not None:
        view = book.party(party)
        if as_json:
            print_json({**view, "propensity_model": book.propensity, "tasks": opened})
            return
        _render_party(view, book.propensity)
        return
    doc = {**book.summary(), "best": _best(book, top), "tasks": opened}
    if as_json:
        print_json(doc)
        return
    _render_book(doc)


def _accepted(engine: Any, day: dt.date, read: Any) -> dict[str, set[str]]:
    """Products customers accepted on earlier offers (held now); {} without a store."""
    from xiaowei.store.database import make_engine

    try:
        engine = engine or make_engine(get_settings().database_url)
        return read(engine, before=day)
    except Exception:  # no store, or not migrated: nobody has accepted anything recorded
        return {}


def _best(book: Any, top: int) -> list[dict[str, Any]]:
    rows = [r for r in book.offers.to_pylist() if r["rank"] == 1]
    rows.sort(key=lambda r: (-r["score"], r["party_id"]))
    return [{k: r[k] for k in ("party_id", "product", "value_yuan", "limit_yuan",
                               "propensity", "score")} | {"reasons": r["reasons"]}
            for r in rows[:top]]


def _render_party(view: dict[str, Any], model: str | None) -> None:
    table = Table(title=f"客户 {escape(view['party_id'])} 推荐产品 next-best products · "
                        f"{view['as_of']} · 倾向模型 propensity: {escape(model or 'none')}")
    for column in ("#", "产品 product", "年价值 value/yr", "预授信 line", "倾向 propensity",
                   "理由 reasons"):
        table.add_column(column, justify="right" if column in ("#",) else "left")
    for o in view["offers"]:
        table.add_row(str(o["rank"]), f"{o['zh']} {o['en']}", f"{o['value_yuan']:,.0f}",
                      "—" if o["limit_yuan"] is None else f"{o['limit_yuan']:,.0f}",
                      "—" if o["propensity"] is None else f"{o['propensity']:.3f}",
                      escape("; ".join(f"{r['zh']}" for r in o["reasons"])))
    out.print(table)
    if view["offers"]:
        out.print(bar_table("年价值 value a year (元)",
                            {o["en"]: o["value_yuan"] for o in view["offers"]}, "产品",
                            30, "{:,.0f}"))
    refused = Table(title="不推荐 not offered")
    refused.add_column("产品 product")
    refused.add_column("原因 reasons")
    for r in view["refused"]:
        refused.add_row(r["product"], escape("; ".join(f"{x['code']} {x['zh']} ({x['en']})"
                                                       for x in r["reasons"])))
    for r in view["not_available"]:
        refused.add_row(r["product"], escape(f"{r['zh']} ({r['en']})"))
    out.print(refused)


def _render_book(doc: dict[str, Any]) -> None:
    out.print(f"[bold]价值挖掘 value mining[/] {doc['as_of']} · {doc['customers']:,} 客户 "
              f"customers · {doc['customers_with_offers']:,} 有推荐 with an offer · "
              f"{doc['refused_by_risk_gate']:,} 风险拦截 refused by the risk gate · "
              f"倾向模型 propensity: {escape(doc['propensity'] or 'none (ranked by value)')}")
    reasons = dict(list(doc["refusal_reasons"].items())[:12])
    out.print(Columns([bar_table("可推荐客户 eligible customers by product", doc["offers"],
                                 "产品 product", 30),
                       bar_table("不推荐原因 refusal reasons (top 12)", reasons, "原因 reason",
                                 30)]))
    table = Table(title="最佳推荐 best offers (eligibility × propensity × value)")
    for column in ("客户 party", "产品 product", "年价值 value/yr", "预授信 line",
                   "倾向 propensity", "得分 score"):
        table.add_column(column, justify="left" if "party" in column or "product" in column
                         else "right")
    for r in doc["best"]:
        table.add_row(r["party_id"], r["product"], f"{r['value_yuan']:,.0f}",
                      "—" if r["limit_yuan"] is None else f"{r['limit_yuan']:,.0f}",
                      "—" if r["propensity"] is None else f"{r['propensity']:.3f}",
                      f"{r['score']:,.1f}")
    out.print(table)
    if doc.get("tasks"):
        out.print(f"任务 tasks opened: {doc['tasks']['opened']} · not in the store: "
                  f"{len(doc['tasks']['skipped_not_in_store'])}")


def _prescreen_resolver() -> Any:
    """The registry resolver when ``app_score@approved`` resolves, else None."""
    from xiaowei.modelling.registry import open_registry
    from xiaowei.origination.model_resolver import RegistryModelResolver

    try:
        with open_registry() as registry:
            registry.resolve("app_score@approved")
            resolver = RegistryModelResolver(registry)
            resolver.resolve("app_score@approved")
            return resolver
    except Exception:  # none approved (or no store): the admission rules only
        return None


def renewals(as_of: AsOf = None, open_tasks: OpenTasks = False, as_json: JsonFlag = False
             ) -> None:
    """续贷 — loans maturing within 90 days: pre-screen, 无还本续贷, retention action."""
    from xiaowei.customers.operation_tasks import open_renewal_tasks
    from xiaowei.customers.renewal import Prescreen, renewal_pipeline
    from xiaowei.customers.retention import load_churn_model

    resolver = _prescreen_resolver()
    prescreen = Prescreen(resolver)
    churn = load_churn_model()
    with _store() as analytic:
        day = command_day(as_of, analytic)
        run = renewal_pipeline(analytic, day, churn=churn, prescreen=prescreen)
        opened = None
        if open_tasks:
            engine = _engine()
            if engine is not None:
                opened = open_renewal_tasks(engine, analytic.connection, run).to_json()
    summary = run.summary()
    rows = run.table.to_pylist()
    if as_json:
        print_json({**summary, "tasks": opened, "loans": [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()}
            for r in rows]})
        return
    out.print(f"[bold]续贷 renewals[/] {summary['as_of']} · {summary['maturing_loans']:,} 笔 "
              f"loans maturing within {summary['window_days']} days · 预审 pre-screen "
              f"{escape(summary['prescreen_mode'])} · 流失风险 churn: {escape(summary['churn'])}")
    out.print(Columns([
        bar_table("预审 pre-screen", summary["prescreen"], "结果 outcome", 25),
        bar_table("续贷方式 route", {ROUTE_ZH.get(k, k): v for k, v in summary["route"].items()},
                  "方式", 25),
        bar_table("留存动作 action", {ACTION_ZH.get(k, k): v
                                      for k, v in summary["action"].items()}, "动作", 25)]))
    table = Table(title="到期贷款 maturing loans (最早到期在前 soonest first, first 30)")
    for column in ("贷款 loan", "到期 maturity", "余额 balance", "预审 pre-screen",
                   "方式 route", "流失 churn", "动作 action", "续贷额 offer"):
        table.add_column(column, justify="right" if column.startswith(("余额", "流失", "续贷额"))
                         else "left")
    for r in sorted(rows, key=lambda r: (r["maturity_date"], r["loan_id"]))[:30]:
        table.add_row(r["loan_id"], r["maturity_date"].isoformat(),
                      f"{r['outstanding_yuan']:,.0f}", r["prescreen"], r["route"],
                      "—" if r["churn_risk"] is None else f"{r['churn_risk']:.2f}",
                      r["action"], f"{r['offer_yuan']:,.0f}")
    out.print(table)
    if opened:
        out.print(f"任务 tasks opened: {opened['opened']}")


def train(by: Annotated[str | None, typer.Option("--by", help="modeller who registers")] = None,
          approve_by: Annotated[str | None, typer.Option(
              "--approve-by", help="second person who approves (maker–checker)")] = None,
          as_json: JsonFlag = False) -> None:
    """客户模型训练 — fit offer_propensity and churn_at_maturity out of time, register."""
    from xiaowei.customers import propensity, retention
    from xiaowei.customers.oot_fit import register_and_approve

    settings = get_settings()
    maker = current_user(by)
    results: dict[str, Any] = {}
    with _store() as analytic:
        for module in (propensity, retention):
            name = module.MODEL_NAME
            target = settings.ensure_home() / "work" / name
            shutil.rmtree(target, ignore_errors=True)
            with progress_bar() as bar:
                task = bar.add_task(f"{name} 月末标签 month-end tag runs", total=None)
                try:
                    summary = module.fit_out_of_time(
                        analytic, target,
                        progress=lambda _s, d, n, t=task: bar.update(t, completed=d, total=n))
                except (ValueError, LookupError) as exc:
                    results[name] = {"error": str(exc)}
                    continue
            ref = status = None
            if approve_by:
                from xiaowei.store import migrate

                migrate.upgrade(settings.database_url)
                ref, status = register_and_approve(target, name, maker=maker,
                                                   checker=approve_by.strip(),
                                                   note=f"out-of-time {name}"), "approved"
            else:
                ref, status = _register_draft(target, name, maker)
            results[name] = {**summary, "ref": ref, "status": status}
    if as_json:
        print_json(results)
    else:
        _render_train(results)
    if any("error" in r for r in results.values()):
        raise typer.Exit(2)


def _register_draft(directory: Any, name: str, maker: str) -> tuple[str, str]:
    from xiaowei.modelling.registry import open_registry
    from xiaowei.store import migrate

    migrate.upgrade(get_settings().database_url)
    with open_registry() as registry:
        record = registry.register(directory, name, maker, note=f"out-of-time {name}").record
        return record.ref, str(record.status)


def _render_train(results: dict[str, Any]) -> None:
    table = Table(title="客户模型 customer models · 跨时间验证 out of time")
    for column in ("模型 model", "行 rows (train/OOT)", "事件 events", "AUC train", "AUC OOT",
                   "KS OOT", "登记 ref"):
        table.add_column(column, justify="left" if column.startswith(("模型", "登记"))
                         else "right")
    for name, r in results.items():
        if "error" in r:
            table.add_row(name, "—", "—", "—", "—", "—", f"[red]{escape(r['error'])}[/]")
            continue
        table.add_row(name, f"{r['train']['rows']:,} / {r['oot']['rows']:,}",
                      f"{r['train']['events']:,} / {r['oot']['events']:,}",
                      f"{r['auc_train']:.3f}", f"{r['auc_oot']:.3f}", f"{r['ks_oot']:.3f}",
                      f"{escape(str(r['ref']))} ({r['status']})")
    out.print(table)
    counts = {n: r["auc_oot"] for n, r in results.items() if "auc_oot" in r}
    if counts:
        out.print(bar_table("跨时间 AUC out of time", counts, "模型 model", 30, "{:.3f}"))
    used = Counter(f for r in results.values() for f in r.get("features", ()))
    if used:
        out.print(f"特征 features: {escape(', '.join(sorted(used)))}")


__all__ = ["offers", "renewals", "train"]
