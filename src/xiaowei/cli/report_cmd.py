"""`xiaowei report`: post-loan performance — vintage curves, roll rates, five-class migration
and warning quality — as Rich tables, one JSON document, or an offline HTML page.

Thin by design: open the analytic store read-only, compute month-end loan states into a TEMP
table (``postloan.loan_state``), call one analytic of ``postloan.analytics`` and render its
plain result. The store is ``--store`` or, as for every other command, the settings' analytic
path ($XIAOWEI_ANALYTIC_PATH, else $XIAOWEI_HOME/analytic.duckdb).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import err, fail, out, print_json
from xiaowei.config import get_settings
from xiaowei.postloan.analytics import report_html
from xiaowei.postloan.analytics.migration import dpd_ladder, migration
from xiaowei.postloan.analytics.regulatory import year_before
from xiaowei.postloan.analytics.roll_rates import roll_rates
from xiaowei.postloan.analytics.source import group_columns
from xiaowei.postloan.analytics.vintage import vintage_curves
from xiaowei.postloan.analytics.warning_quality import defaults_from_snapshots, warning_quality
from xiaowei.postloan.loan_state import (
    fetch_arrow,
    loan_state,
    month_ends,
    write_month_end_snapshots,
)
from xiaowei.store.analytic import AnalyticStore

app = typer.Typer(help="贷后分析 — post-loan performance: vintage, roll rates, migration, "
                       "warning quality", no_args_is_help=True)

Store = Annotated[Path | None, typer.Option("--store", help=(
    "分析库 analytic DuckDB file (default: $XIAOWEI_ANALYTIC_PATH, else "
    "$XIAOWEI_HOME/analytic.duckdb)"))]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="YYYY-MM-DD; default: the latest date of the governed data")]
By = Annotated[str | None, typer.Option(
    "--by", help="分组 group by: product, branch, manager, segment (comma-separated)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
Html = Annotated[Path | None, typer.Option("--html", help="also write an offline HTML report")]

SNAPSHOTS = "xw_report_snapshots"
DPD_FLOORS = dpd_ladder((0, 90, 270, 360))
"""The objective DPD floors of DOMAIN.md §1 — the classes the migration command shows until
the five-level classification is wired in (floors only: no debtor contagion, restructuring
or judgement)."""


@contextmanager
def _store(path: Path | None) -> Iterator[duckdb.DuckDBPyConnection]:
    chosen = path or get_settings().analytic_path
    if not chosen.is_file():
        fail(f"no analytic store at {chosen}: load and govern a bank first, or pass --store")
    with AnalyticStore(chosen, read_only=True) as analytic:
        yield analytic.connection


def _date(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{name} must be a date like 2025-12-31, got {text!r}")
        raise  # unreachable: fail() exits


def _as_of(con: duckdb.DuckDBPyConnection, text: str | None) -> dt.date:
    given = _date(text, "--as-of")
    if given is not None:
        return given
    try:
        rows = con.execute("SELECT value FROM gov.meta WHERE key = 'as_of'").fetchall()
    except duckdb.Error:
        rows = []
    if not rows:
        fail("the store has no governed as-of date (gov.meta): run `xiaowei govern` or pass "
             "--as-of")
    return dt.date.fromisoformat(rows[0][0])


def _groups(by: str | None) -> list[str]:
    try:
        return group_columns(by)
    except ValueError as e:
        fail(str(e))
        raise  # unreachable


def _snapshots(con: duckdb.DuckDBPyConnection, first: dt.date | None, last: dt.date) -> str:
    """Month-end states from ``first`` (default: the first loan's month) to ``last``."""
    try:
        if first is None:
            first = con.execute("SELECT min(start_date) FROM gov.loan").fetchall()[0][0]
        if first is None or not month_ends(first, last):
            fail(f"no month-end between the first loan and {last}")
        with err.status(f"计算月末贷款状态 month-end loan states {first} … {last}"):
            write_month_end_snapshots(con, first, last, SNAPSHOTS, temporary=True)
    except LookupError as e:
        fail(str(e))
    return SNAPSHOTS


def _write_html(path: Path | None, title_zh: str, title_en: str, section: str,
                note: str) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html.page(title_zh, title_en, [section], note), encoding="utf-8")
    err.print(f"HTML 报告已写入 report written to {path}")


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}"


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


@app.command()
def vintage(store: Store = None, as_of: AsOf = None, by: By = None,
            cohort: Annotated[str, typer.Option(help="month | quarter")] = "quarter",
            since: Annotated[str | None, typer.Option(
                "--since", help="first origination month YYYY-MM-DD (default: the first loan)")]
            = None,
            max_mob: Annotated[int | None, typer.Option("--max-mob", help="last MOB shown")]
            = None,
            as_json: JsonFlag = False, html: Html = None) -> None:
    """账龄分析 — share of loans ever 30+/90+ dpd by months on book, per cohort."""
    if cohort not in ("month", "quarter"):
        fail(f"--cohort must be month or quarter, got {cohort!r}")
    groups = _groups(by)
    with _store(store) as con:
        day = _as_of(con, as_of)
        name = _snapshots(con, _date(since, "--since"), day)
        curves = vintage_curves(con, name, cohort=cohort, by=groups, max_mob=max_mob)
    note = f"截至 as of {day} · 按{'季' if cohort == 'quarter' else '月'}放款批次 cohorts"
    _write_html(html, "贷后账龄分析", "post-loan vintage curves",
                report_html.vintage_section(curves), note)
    if as_json:
        print_json({"as_of": day, "cohort": cohort, "by": groups, "rows": _rows(curves)})
        return
    keys = [*groups, "cohort"]
    points: dict[tuple, dict[int, dict[str, Any]]] = {}
    for r in _rows(curves):
        points.setdefault(tuple(r[k] for k in keys), {})[r["mob"]] = r
    mobs = [m for m in (3, 6, 9, 12, 18, 24, 36) if any(m in p for p in points.values())]
    table = Table(title="账龄分析 · 累计逾期30天以上贷款占比",
                  caption="vintage: share of loans ever 30+ dpd by months on book (MOB)")
    for k in keys:
        table.add_column(k)
    table.add_column("贷款数 loans", justify="right")
    for m in mobs:
        table.add_column(f"MOB {m}", justify="right")
    table.add_column("满批次账龄 full MOB", justify="right")
    table.add_column("≥30天 ever 30+", justify="right")
    table.add_column("≥90天 ever 90+", justify="right")
    latest: dict[str, float] = {}
    for key, by_mob in points.items():
        size = by_mob[min(by_mob)]["loans"]
        # the oldest age every loan of the cohort has reached: later points rest on fewer
        full = max(m for m, r in by_mob.items() if r["loans"] == size)
        last = by_mob[full]
        table.add_row(*(str(v) for v in key), f"{size:,}",
                      *(_pct(by_mob[m]["ever_30_share"]) if m in by_mob else "" for m in mobs),
                      str(full), _pct(last["ever_30_share"]), _pct(last["ever_90_share"]))
        latest[" · ".join(str(v) for v in key)] = last["ever_30_share"] or 0.0
    out.print(table)
    out.print(bar_table("满批次账龄累计逾期30+占比 · ever 30+ at full MOB", latest,
                        "批次 cohort", 40, "{:.1%}"))


@app.command()
def rollrate(store: Store = None, as_of: AsOf = None, by: By = None,
             months: Annotated[int, typer.Option(help="month-to-month transitions counted")]
             = 12,
             as_json: JsonFlag = False, html: Html = None) -> None:
    """逾期段迁移率 — bucket-to-bucket roll rates, roll-forward and cure, month to month."""
    if months < 1:
        fail(f"--months must be at least 1, got {months}")
    groups = _groups(by)
    with _store(store) as con:
        day = _as_of(con, as_of)
        ends = month_ends(dt.date(day.year - (months // 12) - 1, 1, 1), day)[-(months + 1):]
        if len(ends) < 2:
            fail(f"no two month-ends on or before {day}")
        name = _snapshots(con, ends[0], day)
        rr = roll_rates(con, name, first=ends[1], last=ends[-1], by=groups)
    note = f"{ends[0]} … {ends[-1]} · {len(ends) - 1} 个月 months"
    _write_html(html, "逾期段迁移率", "roll rates", report_html.roll_section(rr), note)
    if as_json:
        print_json({"as_of": day, "first": ends[1], "last": ends[-1], "by": groups,
                    "states": list(rr.states), "matrix": _rows(rr.matrix),
                    "rates": _rows(rr.rates), "transitions": _rows(rr.transitions)})
        return
    shares = {(*(r[g] for g in groups), r["from_state"], r["to_state"]): r["share"]
              for r in _rows(rr.matrix)}
    table = Table(title="逾期段迁移矩阵（笔数占比）",
                  caption=f"roll-rate matrix, share of loans · {note}")
    for g in groups:
        table.add_column(g)
    table.add_column("月末 from")
    for s in rr.states:
        table.add_column(report_html.state_label(s), justify="right")
    table.add_column("恶化 roll fwd", justify="right")
    table.add_column("回正 cure", justify="right")
    table.add_column("笔数 loans", justify="right")
    for r in _rows(rr.rates):
        key = tuple(r[g] for g in groups)
        table.add_row(*(str(v) for v in key), r["from_state"],
                      *(_pct(shares.get((*key, r["from_state"], s))) for s in rr.states),
                      _pct(r["roll_forward"]), _pct(r["cure"]), f"{r['loans']:,}")
    out.print(table)
    if not groups:
        out.print(bar_table("月度恶化率 · roll-forward rate by bucket",
                            {r["from_state"]: r["roll_forward"] for r in _rows(rr.rates)
                             if r["roll_forward"] is not None}, "逾期段", 40, "{:.1%}"))


@app.command("migration")
def migration_command(store: Store = None, as_of: AsOf = None, by: By = None,
                      start: Annotated[str | None, typer.Option(
                          "--start", help="期初 period start (default: a year before --as-of)")]
                      = None,
                      as_json: JsonFlag = False, html: Html = None) -> None:
    """五级分类迁徙 — class-to-class matrix and the regulator's migration rate per class."""
    groups = _groups(by)
    with _store(store) as con:
        end = _as_of(con, as_of)
        begin = _date(start, "--start") or year_before(end)
        if begin >= end:
            fail(f"--start {begin} must be before --as-of {end}")
        try:
            with err.status(f"计算贷款状态 loan states on {begin} and {end}"):
                states = loan_state(con, begin), loan_state(con, end)
            classed = [_with_classes(con, state, day)
                       for state, day in zip(states, (begin, end), strict=True)]
            if classed[0] is not None and classed[1] is not None:
                basis = "postloan.loan_day"
                m = migration(classed[0], classed[1], class_column="five_class", by=groups)
            else:
                basis = "dpd_floors"
                m = migration(*states, classify_dpd=DPD_FLOORS, by=groups)
        except (LookupError, ValueError) as e:
            fail(str(e))
    note = (f"{begin} → {end} · 分类取自贷后批处理 classes from the monitoring batch "
            "(postloan.loan_day)" if basis == "postloan.loan_day" else
            f"{begin} → {end} · 分类按逾期天数下限（未含债务人传染、重组与人工认定）"
            " · classes are DPD floors only (run `xiaowei postloan run` on both days for "
            "the five-level classification)")
    _write_html(html, "五级分类迁徙", "five-class migration", report_html.migration_section(m),
                note)
    if as_json:
        print_json({"start": begin, "end": end, "by": groups, "classes": list(m.classes),
                    "basis": basis, "matrix": _rows(m.matrix), "rates": _rows(m.rates)})
        return
    cells = {(*(r[g] for g in groups), r["from_class"], r["to_class"]): r["loans"]
             for r in _rows(m.matrix)}
    targets = [*m.classes, "settled"]
    table = Table(title=f"五级分类迁徙 {begin} → {end}",
                  caption="five-class migration: loans by class at start and end; migration "
                          "rate = moved-down end balance ÷ (start balance − reductions)")
    for g in groups:
        table.add_column(g)
    table.add_column("期初 start")
    for c in targets:
        table.add_column(report_html.state_label(c), justify="right")
    table.add_column("迁徙率 rate", justify="right")
    table.add_column("期初余额 balance", justify="right")
    for r in _rows(m.rates):
        key = tuple(r[g] for g in groups)
        table.add_row(*(str(v) for v in key), r["class"],
                      *(f"{cells.get((*key, r['class'], c), 0):,}" for c in targets),
                      _pct(r["migration_rate"]), f"{r['balance_yuan']:,.0f}")
    out.print(table)
    err.print(note)


def _with_classes(con: duckdb.DuckDBPyConnection, state: pa.Table, day: dt.date
                  ) -> pa.Table | None:
    """``state`` with the monitoring batch's five-level class of ``day`` (column
    ``five_class``, from ``postloan.loan_day``), or None unless every loan on book has one."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'postloan' "
                         "AND table_name = 'loan_day'").fetchall()[0][0]
    if not exists:
        return None
    classes = fetch_arrow(con, "SELECT loan_id, class AS five_class FROM postloan.loan_day "
                               "WHERE as_of = $day", {"day": day})
    joined = state.join(classes, "loan_id", join_type="left outer")
    on_book = joined.filter(pc.greater(joined["outstanding_yuan"], 0))
    if on_book.num_rows == 0 or on_book["five_class"].null_count:
        return None
    return joined


@app.command("warnings")
def warnings_command(store: Store = None, as_of: AsOf = None,
                     by: Annotated[str, typer.Option(
                         "--by", help="level | signal")] = "level",
                     horizon: Annotated[int, typer.Option(
                         help="days within which a warning must precede the default")] = 180,
                     since: Annotated[str | None, typer.Option(
                         "--since", help="first warning day counted (default: the first)")]
                     = None,
                     default_dpd: Annotated[int, typer.Option(
                         "--default-dpd", help="days past due that make a default")] = 90,
                     as_json: JsonFlag = False, html: Html = None) -> None:
    """预警质量 — precision, recall and lead time of warnings against actual defaults."""
    if by not in ("level", "signal"):
        fail(f"--by must be level or signal, got {by!r}")
    if horizon < 1:
        fail(f"--horizon must be at least 1 day, got {horizon}")
    with _store(store) as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = "
                             "'postloan' AND table_name = 'warning'").fetchall()[0][0]
        if not exists:
            fail("no warnings in the analytic store (table postloan.warning): run "
                 "`xiaowei postloan run` first")
        day = _as_of(con, as_of)
        warnings = con.sql(f"SELECT party_id, raised_on, level, {by} FROM postloan.warning"
                           if by != "level" else
                           "SELECT party_id, raised_on, level FROM postloan.warning"
                           ).to_arrow_table()
        defaults = defaults_from_snapshots(con, _snapshots(con, None, day), dpd=default_dpd)
    wq = warning_quality(warnings, defaults, as_of=day, horizon_days=horizon,
                         since=_date(since, "--since"), by=by)
    _write_html(html, "预警质量", "warning quality", report_html.warnings_section(wq),
                f"违约 = 首个逾期{default_dpd}天以上的月末 · default: first month-end ≥ "
                f"{default_dpd} dpd")
    if as_json:
        print_json({"as_of": day, "since": wq.since, "horizon_days": horizon, "by": by,
                    "default_dpd": default_dpd, "summary": _rows(wq.summary),
                    "leads": _rows(wq.leads)})
        return
    table = Table(title=f"预警质量 · 观察期{horizon}天",
                  caption=f"warning quality: precision, recall, lead time · warnings from "
                          f"{wq.since} · as of {day} · default = first month-end ≥ "
                          f"{default_dpd} dpd")
    for col in (f"{'级别 level' if by == 'level' else '信号 signal'}", "预警客户 warned",
                "精确率 precision", "违约 defaults", "召回率 recall", "提前中位 lead (d)",
                "提前≥30天 ≥30 d"):
        table.add_column(col, justify="left" if col.startswith(("级别", "信号")) else "right")
    for r in _rows(wq.summary):
        lead = r["lead_median_days"]
        table.add_row(str(r[by]), f"{r['warned_parties']:,}", _pct(r["precision"]),
                      f"{r['defaults']:,}", _pct(r["recall"]),
                      "—" if lead is None else f"{lead:.0f}", _pct(r["lead_share_target"]))
    out.print(table)
    out.print(bar_table("召回率 · recall by " + by,
                        {str(r[by]): r["recall"] or 0.0 for r in _rows(wq.summary)},
                        by, 40, "{:.1%}"))
