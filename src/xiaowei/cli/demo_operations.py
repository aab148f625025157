"""The demo's customer-operations act: the digital operation beside the product-centric one.

Why in the demo: the bank's customer claim is "fewer good customers lost at maturity, offers
that convert at least twice as well as random targeting, more balance per manager" (issue 8);
the comparison is :mod:`xiaowei.customers.operations_comparison`.

The plan: the real digital plan (grades, propensity, renewal pipeline) is passed in by the
caller. Without one, :func:`stand_in_plan` runs — a deliberately simple **stand-in** built from
observable records only (no truth, no model), so the demo works before the real plan lands:

* retention — at each month-end, every loan that enters its last 90 days with a clean record
  so far (no instalment more than 30 days late) gets one action, by a simple churn proxy (the
  loan's rate: the expert priced a weaker relationship higher): the upper half by rate a
  pre-approved renewal if the rate is not in the riskiest quarter of the rates booked so far
  (the stand-in's credit pre-screen), else a manager visit; the lower half a reminder call;
* offers — at each quarter's start, customers with a loan on book, one offer per product the
  first time a simple need proxy holds: payroll service for ≥ 10 employees (latest application),
  wealth management for ≥ 500 thousand CNY in deposits, invoice credit for invoices issued in
  the last six months ≥ 1.1 × the six before, supply-chain finance for a member of an anchor's
  chain (without such a loan already), cash management for ≥ 10 million CNY declared revenue.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.columns import Columns
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import out, progress_bar
from xiaowei.customers.operations_comparison import (
    OFFER_SCHEMA,
    RETENTION_SCHEMA,
    compare_operations,
    operations_window,
)
from xiaowei.origination.kpis import add_months
from xiaowei.store.analytic import AnalyticStore

Plan = tuple[pa.Table, pa.Table]
PlanMaker = Callable[[AnalyticStore, dt.date, dt.date], Plan]

STAND_IN = "stand-in plan (observable need and churn proxies, demo_operations.stand_in_plan)"
EMPLOYEES_FOR_PAYROLL = 10
DEPOSITS_FOR_WEALTH = 500_000.0
INVOICE_GROWTH = 1.1
REVENUE_FOR_CASH_MANAGEMENT = 10_000_000.0
RISKY_RATE_QUANTILE = 0.75
RENEWAL_WINDOW_DAYS = 90
CLEAN_LATE_DAYS = 30

ROWS = (
    ("good_churn_at_maturity", "优质客户到期流失率 good-customer churn at maturity", "{:.1%}"),
    ("offer_conversion", "营销转化率 offer conversion", "{:.1%}"),
    ("random_conversion", "随机营销转化率 random-targeting conversion", "{:.1%}"),
    ("balance_per_manager", "人均管理余额 balance per manager (万元 10k CNY)", "{:,.0f}"),
)
DETAIL_ROWS = (
    ("customers_per_manager", "人均管户 customers per manager", "{:,.1f}"),
    ("visits_per_customer_year", "每户年走访 visits per customer-year", "{:.2f}"),
    ("hours_per_customer_year", "每户年工时 hours per customer-year", "{:.2f}"),
    ("retained", "挽留客户 customers retained", "{:,}"),
    ("balance_per_manager_operations_only",
     "人均管理余额·仅客户运营 balance per manager, operations alone (万元)", "{:,.0f}"),
)


# --- the stand-in plan ------------------------------------------------------------------------


def _month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out_ends, day = [], dt.date(first.year, first.month, 1)
    while day <= last:
        nxt = add_months(day, 1)
        out_ends.append(min(nxt - dt.timedelta(days=1), last))
        day = nxt
    return out_ends


_MATURING_SQL = """
WITH due AS (
    SELECT l.loan_id, l.party_id, l.maturity_date
    FROM gov.loan l
    WHERE l.maturity_date > $day AND l.maturity_date <= $day + $horizon AND l.start_date <= $day),
late AS (
    SELECT r.loan_id,
           MAX(DATE_DIFF('day', r.due_date, LEAST(COALESCE(r.paid_on, $day), $day))) AS worst
    FROM gov.repayment r JOIN due USING (loan_id) WHERE r.due_date <= $day GROUP BY r.loan_id)
SELECT due.loan_id, due.party_id, due.maturity_date, b.annual_rate, COALESCE(late.worst, 0)
FROM due LEFT JOIN late USING (loan_id) LEFT JOIN raw.bank_loans b ON b.loan_no = due.loan_id
ORDER BY due.loan_id
"""


def stand_in_retention(analytic: AnalyticStore, first: dt.date, last: dt.date) -> pa.Table:
    """Retention actions of the stand-in plan (module docstring), observable records only."""
    con = analytic.connection
    done: set[str] = set()
    rows: dict[str, list[Any]] = {k: [] for k in RETENTION_SCHEMA.names}
    start = add_months(first, -3)
    for day in _month_ends(start, last):
        # The pre-screen's line: the riskiest quarter of the rates booked so far (none: no
        # pre-approval, the stand-in cannot screen without a book).
        (risky,) = con.execute(
            "SELECT quantile_disc(annual_rate, ?) FROM raw.bank_loans WHERE start_date <= ?",
            [RISKY_RATE_QUANTILE, day]).fetchone() or (None,)
        risky = float("-inf") if risky is None else float(risky)
        found = con.execute(_MATURING_SQL, {"day": day,
                                            "horizon": RENEWAL_WINDOW_DAYS}).fetchall()
        fresh = [r for r in found if r[0] not in done and r[4] <= CLEAN_LATE_DAYS]
        done.update(r[0] for r in found)
        fresh.sort(key=lambda r: (-(r[3] or 0.0), r[0]))  # churn proxy: the rate, high first
        half = (len(fresh) + 1) // 2
        for k, (loan, party, _maturity, rate, _late) in enumerate(fresh):
            if k < half:
                action = "preapproved_renewal" if (rate or 0.0) <= risky else "manager_visit"
            else:
                action = "reminder_call"
            for key, value in zip(RETENTION_SCHEMA.names, (loan, party, action, day),
                                  strict=True):
                rows[key].append(value)
    return pa.table(rows, schema=RETENTION_SCHEMA)


_OFFER_FACTS_SQL = """
WITH book AS (
    SELECT DISTINCT party_id FROM gov.loan WHERE start_date <= $day AND maturity_date >= $day),
emp AS (
    SELECT party_id, arg_max(employees, applied_on) AS employees,
           arg_max(declared_revenue_yuan, applied_on) AS revenue
    FROM gov.application WHERE applied_on <= $day GROUP BY party_id),
dep AS (
    SELECT party_id, SUM(end_balance_yuan) AS deposits FROM (
        SELECT party_id, account_no, end_balance_yuan FROM gov.account_flow
        WHERE CAST(known_at AS DATE) <= $day
        QUALIFY ROW_NUMBER() OVER (PARTITION BY account_no ORDER BY period DESC) = 1)
    GROUP BY party_id),
inv AS (
    SELECT party_id,
           SUM(amount_yuan) FILTER (WHERE issue_date > $day - INTERVAL 6 MONTH) AS recent,
           SUM(amount_yuan) FILTER (WHERE issue_date <= $day - INTERVAL 6 MONTH) AS before
    FROM gov.invoice WHERE known_at <= $day AND issue_date > $day - INTERVAL 12 MONTH
    GROUP BY party_id),
chain AS (
    SELECT party_id, bool_or(supply_chain_role = 'member') AS member
    FROM gov.party_profile WHERE known_at <= $day GROUP BY party_id),
scf AS (
    SELECT DISTINCT party_id FROM gov.loan WHERE product_intent = 'supply_chain_finance'
    AND start_date <= $day AND maturity_date >= $day)
SELECT b.party_id, e.employees, e.revenue, d.deposits, i.recent, i.before,
       COALESCE(c.member, false), s.party_id IS NOT NULL
FROM book b LEFT JOIN emp e USING (party_id) LEFT JOIN dep d USING (party_id)
LEFT JOIN inv i USING (party_id) LEFT JOIN chain c USING (party_id)
LEFT JOIN scf s USING (party_id)
ORDER BY b.party_id
"""


def stand_in_offers(analytic: AnalyticStore, first: dt.date, last: dt.date) -> pa.Table:
    """Offers of the stand-in plan (module docstring), observable records only."""
    con = analytic.connection
    offered: set[tuple[str, str]] = set()
    rows: dict[str, list[Any]] = {k: [] for k in OFFER_SCHEMA.names}
    day = first
    while day <= last:
        for party, emp, revenue, deposits, recent, before, member, has_scf in con.execute(
                _OFFER_FACTS_SQL, {"day": day}).fetchall():
            wants = {
                "payroll_service": emp is not None and emp >= EMPLOYEES_FOR_PAYROLL,
                "wealth_management": deposits is not None
                and float(deposits) >= DEPOSITS_FOR_WEALTH,
                "invoice_credit": bool(recent and before)
                and float(recent) >= INVOICE_GROWTH * float(before),
                "supply_chain_finance": bool(member) and not has_scf,
                "cash_management": revenue is not None
                and float(revenue) >= REVENUE_FOR_CASH_MANAGEMENT,
            }
            for product, yes in wants.items():
                if yes and (party, product) not in offered:
                    offered.add((party, product))
                    rows["party_id"].append(party)
                    rows["product"].append(product)
                    rows["offered_on"].append(day)
        day = add_months(day, 3)
    return pa.table(rows, schema=OFFER_SCHEMA)


def stand_in_plan(analytic: AnalyticStore, first: dt.date, last: dt.date) -> Plan:
    """The stand-in digital plan: ``(offers, retention)`` for the window ``first`` – ``last``."""
    return stand_in_offers(analytic, first, last), stand_in_retention(analytic, first, last)


# --- run and render ---------------------------------------------------------------------------


def run_operations(analytic: AnalyticStore, dataset_dir: Path | str,
                   plan: Plan | PlanMaker | None = None, *, months: int = 12,
                   visits_per_year: Callable[[str], float] | None = None,
                   digital_lending_hours: dict[str, float] | None = None) -> dict[str, Any]:
    """The JSON block ``operations`` of ``xiaowei demo``: both operations over the last
    ``months`` months. ``plan``: ``(offers, retention)``, or a function ``(analytic, first,
    last) -> (offers, retention)`` such as the digital plan; None: :func:`stand_in_plan`.
    ``digital_lending_hours``: the digital lending process's hours per customer-year (the
    origination KPIs' breakdown) — given, balance per manager is the whole operation's."""
    started = time.perf_counter()
    first, last = operations_window(analytic, months)
    maker: PlanMaker | None = None
    if plan is None:
        maker, name = stand_in_plan, STAND_IN
    elif callable(plan):
        maker, name = plan, getattr(plan, "__qualname__", "digital plan")
    else:
        name = "digital plan (given)"
    with progress_bar() as bar:
        task = bar.add_task("客户运营对比 customer operations: plan and comparison", total=6)
        if maker is not None:
            plan = maker(analytic, first, last)
        bar.update(task, completed=1)
        offers, retention = plan  # type: ignore[misc]
        result = compare_operations(
            analytic, dataset_dir, offers, retention, window=(first, last),
            visits_per_year=visits_per_year, digital_lending_hours=digital_lending_hours,
            progress=lambda _s, done, total: bar.update(task, completed=1 + done,
                                                        total=1 + total))
    return {**result.to_json(), "plan": name,
            "seconds": round(time.perf_counter() - started, 1)}


def _cell(key: str, side: dict[str, Any], fmt: str) -> str:
    value = side.get(key)
    if value is None:
        value = side.get("detail", {}).get(key)
    if value is None:
        return "—"
    return fmt.format(value / 10_000 if key.startswith("balance_per_manager") else value)


def render_operations(doc: dict[str, Any]) -> None:
    """Side-by-side table (zh first), the targets, bars, the method line."""
    digital, traditional, targets = doc["digital"], doc["traditional"], doc["targets"]
    window = doc["window"]
    table = Table(title=f"客户运营：数字化 vs 产品条线 customer operations: digital vs "
                        f"product-centric · {window['first']} – {window['last']} · "
                        f"{doc['book']['customers_at_end']:,} 户 customers")
    for name, justify in (("指标 figure", "left"), ("传统 traditional", "right"),
                          ("数字化 digital", "right"), ("目标 target", "left"),
                          ("达成 met", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for key, label, fmt in ROWS + DETAIL_ROWS:
        target = targets.get(key) if key != "random_conversion" else None
        goal = target["what"] if target else ""
        met = "" if not target else ("[green]✔[/]" if target["met"] else "[red]✘[/]")
        table.add_row(label, _cell(key, traditional, fmt), _cell(key, digital, fmt), goal, met)
    out.print(table)
    t_d, d_d = traditional["detail"], digital["detail"]
    out.print(Columns([
        bar_table("到期流失率 churn at maturity (%)",
                  {"传统 traditional": (traditional["good_churn_at_maturity"] or 0) * 100,
                   "数字化 digital": (digital["good_churn_at_maturity"] or 0) * 100},
                  "流程", 30, "{:.1f}"),
        bar_table("转化率 conversion (%)",
                  {"随机 random": (digital["random_conversion"] or 0) * 100,
                   "数字化 digital": (digital["offer_conversion"] or 0) * 100},
                  "营销", 30, "{:.1f}"),
        bar_table("人均管理余额 balance per manager (百万 M CNY)",
                  {"传统 traditional": (traditional["balance_per_manager"] or 0) / 1e6,
                   "数字化 digital": (digital["balance_per_manager"] or 0) / 1e6},
                  "流程", 30, "{:,.1f}"),
    ]))
    out.print(bar_table("挽留 retained by action",
                        {a: n for a, n in d_d.get("retained_by_action", {}).items()},
                        "动作 action", 30))
    offers = d_d["offers"]
    out.print(f"[bold]计划 plan[/]: {doc['plan']} · 营销 {offers['offers_made']:,} offers, "
              f"{offers['conversions']:,} 转化 conversions (随机 random "
              f"{t_d['offers']['conversions']:,}) · 挽留动作 retention actions "
              f"{sum(d_d['retention_actions'].values()):,} · 到期优质客户 good customers matured "
              f"{d_d['good_matured']:,} (传统流失 churned {t_d['good_churned']:,}, 其中续贷被拒 "
              f"of them renewal rejected {t_d['good_churned_by_rejected_renewal']:,})")
    batch = doc.get("customers_batch")
    if batch:
        out.print(f"[bold]客户日批 customer batch[/] {batch['as_of']}: {batch['customers']:,} 户 "
                  f"customers · 维护等级 grades {batch['grades']} · 今日应走访 visits due "
                  f"{batch['visits_due']:,} · 新开走访任务 visit tasks opened "
                  f"{doc.get('maintenance_tasks', 0):,} → /web/operations, /web/operations/plan")
    out.print(f"[bold]口径 method[/]: {doc['method']}")


__all__ = ["STAND_IN", "render_operations", "run_operations", "stand_in_offers",
           "stand_in_plan", "stand_in_retention"]
