"""The post-loan performance report as self-contained HTML: vintage curves, roll rates, the
five-class migration and warning quality, Chinese first and English after.

Why one module of sections: the CLI writes a page per command, a monthly pack puts several on
one page and the web pages will show the same pieces; each section takes the plain result of
an analytic and returns ready HTML built from ``reports/html.py`` and ``reports/svg.py``.
Everything that came from data passes through ``html.escape``; the page fetches nothing.
"""

from __future__ import annotations

from html import escape

import pyarrow as pa

from xiaowei.postloan.analytics.migration import Migration
from xiaowei.postloan.analytics.roll_rates import SETTLED, RollRates
from xiaowei.postloan.analytics.vintage import curve_series
from xiaowei.postloan.analytics.warning_quality import WarningQuality
from xiaowei.reports.html import REPORT_STYLE, heading, number, percent, table
from xiaowei.reports.svg import Series, bar_chart, line_chart

STATE_ZH = {SETTLED: "结清 settled", "M0": "M0 未逾期"}
MAX_LINES = 12


def state_label(state: str) -> str:
    return STATE_ZH.get(state, state)


def page(title_zh: str, title_en: str, sections: list[str], note: str = "") -> str:
    """A whole HTML5 page around ``sections`` (ready HTML)."""
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title_zh)} {escape(title_en)}</title><style>{REPORT_STYLE}</style>"
            f"</head><body><h1>{heading(escape(title_zh), escape(title_en))}</h1>"
            + (f'<p class="note">{escape(note)}</p>' if note else "")
            + "".join(f"<section>{s}</section>" for s in sections) + "</body></html>")


def vintage_section(curves: pa.Table, thresholds: tuple[int, ...] = (30, 90)) -> str:
    """One line chart per threshold (share of loans ever ≥ T dpd by MOB, one line per
    cohort; the latest cohorts when there are many) and the table of points."""
    charts = []
    for t in thresholds:
        if f"ever_{t}_share" not in curves.column_names:
            continue
        series = list(curve_series(curves, t).items())[-MAX_LINES:]
        if series:
            charts.append(line_chart(
                [Series(name, xs, ys) for name, (xs, ys) in series],
                title=f"累计逾期{t}天以上占比 ever {t}+ dpd", x_label="账龄（月） months on book",
                y_label="贷款占比 share of loans", x_format="{:.0f}", y_format="{:.1%}",
                width=520, height=380))
    keys = [c for c in curves.column_names if c in {"product", "branch_id", "manager_id",
                                                     "segment"}] + ["cohort", "mob"]
    heads = [*(escape(k) for k in keys), heading("贷款数", "loans")] + [
        heading(f"≥{t}天 占比", f"ever {t}+") for t in thresholds] + [
        heading(f"≥{t}天 余额占比", f"ever {t}+ by principal") for t in thresholds]
    rows = [[*(escape(str(r[k])) for k in keys), number(r["loans"], "{:,}"),
             *(percent(r[f"ever_{t}_share"]) for t in thresholds),
             *(percent(r[f"ever_{t}_balance_share"]) for t in thresholds)]
            for r in curves.to_pylist() if r["mob"] % 3 == 0]
    return (f"<h2>{heading('账龄分析', 'vintage curves')}</h2>"
            f'<div class="charts">{"".join(charts)}</div>'
            f"<h3>{heading('每季度账龄节点', 'every third month on book')}</h3>"
            + table(heads, rows, names=len(keys)))


def roll_section(rr: RollRates) -> str:
    """The matrix of shares (rows: bucket at a month-end; columns: state a month later) and
    the roll-forward and cure rates, by count and by balance."""
    groups = [c for c in rr.rates.column_names if c in {"product", "branch_id", "manager_id",
                                                        "segment"}]
    shares = {(*(r[g] for g in groups), r["from_state"], r["to_state"]): r
              for r in rr.matrix.to_pylist()}
    parts = [f"<h2>{heading('迁移率（逾期段）', 'roll rates')}</h2>"]
    heads = [*(escape(g) for g in groups), heading("月初", "from")] + [
        escape(state_label(s)) for s in rr.states] + [heading("贷款数", "loans")]
    rows = []
    for r in rr.rates.to_pylist():
        key = tuple(r[g] for g in groups)
        rows.append([*(escape(str(v)) for v in key), escape(state_label(r["from_state"])),
                     *(percent(shares[(*key, r["from_state"], s)]["share"])
                       if (*key, r["from_state"], s) in shares else "—" for s in rr.states),
                     number(r["loans"], "{:,}")])
    parts.append(table(heads, rows, names=len(groups) + 1))
    rate_heads = [*(escape(g) for g in groups), heading("逾期段", "bucket"),
                  heading("恶化率", "roll forward"), heading("恶化率（余额）", "by balance"),
                  heading("回正/结清率", "cure"), heading("回正率（余额）", "by balance"),
                  heading("余额（元）", "balance CNY")]
    rate_rows = [[*(escape(str(r[g])) for g in groups), escape(state_label(r["from_state"])),
                  percent(r["roll_forward"]), percent(r["roll_forward_balance"]),
                  percent(r["cure"]), percent(r["cure_balance"]),
                  number(r["balance_yuan"], "{:,.0f}")] for r in rr.rates.to_pylist()]
    parts.append(table(rate_heads, rate_rows, names=len(groups) + 1))
    if not groups:
        labels = [r["from_state"] for r in rr.rates.to_pylist()]
        values = [r["roll_forward"] for r in rr.rates.to_pylist()]
        parts.append(bar_chart(labels, values, title="月度恶化率 roll-forward rate",
                               y_label="占比 share", value_format="{:.1%}"))
    return "".join(parts)


def migration_section(m: Migration) -> str:
    """The class-to-class matrix (loans and start balance) and the migration rates."""
    groups = [c for c in m.rates.column_names if c in {"product", "branch_id", "manager_id",
                                                       "segment"}]
    cells = {(*(r[g] for g in groups), r["from_class"], r["to_class"]): r
             for r in m.matrix.to_pylist()}
    targets = [*m.classes, SETTLED]
    heads = [*(escape(g) for g in groups), heading("期初", "start")] + [
        escape(state_label(c)) for c in targets]
    rows = []
    for r in m.rates.to_pylist():
        key = tuple(r[g] for g in groups)
        rows.append([*(escape(str(v)) for v in key), escape(r["class"]),
                     *(number(cells[(*key, r["class"], c)]["loans"], "{:,}")
                       if (*key, r["class"], c) in cells else "0" for c in targets)])
    rate_heads = [*(escape(g) for g in groups), heading("期初分类", "class"),
                  heading("期初余额（元）", "balance CNY"), heading("期间减少", "reductions"),
                  heading("向下迁徙余额", "moved down"), heading("迁徙率", "migration rate"),
                  heading("迁徙率（户数）", "by count")]
    rate_rows = [[*(escape(str(r[g])) for g in groups), escape(r["class"]),
                  number(r["balance_yuan"], "{:,.0f}"), number(r["reduction_yuan"], "{:,.0f}"),
                  number(r["moved_down_balance_yuan"], "{:,.0f}"), percent(r["migration_rate"]),
                  percent(r["count_rate"])] for r in m.rates.to_pylist()]
    period = f"{m.start} → {m.end}"
    return (f"<h2>{heading('五级分类迁徙', 'five-class migration')} {escape(period)}</h2>"
            f"<h3>{heading('迁徙矩阵（笔数）', 'matrix, loans')}</h3>"
            + table(heads, rows, names=len(groups) + 1)
            + f"<h3>{heading('迁徙率', 'migration rates')}</h3>"
            + table(rate_heads, rate_rows, names=len(groups) + 1)
            + '<p class="note">迁徙率 = 期初该类贷款中向下迁徙的期末余额 ÷'
              "（期初余额 − 期间减少金额）。"
              '<span class="en">Migration rate = period-end balance of the class\'s loans '
              "that moved down ÷ (start balance − reductions in the period).</span></p>")


def warnings_section(wq: WarningQuality) -> str:
    """Precision, recall and lead times per level, with a chart of the two rates."""
    rows = wq.summary.to_pylist()
    heads = [escape(wq.by), heading("预警客户", "warned"), heading("精确率", "precision"),
             heading("违约", "defaults"), heading("召回率", "recall"),
             heading("提前天数中位数", "median lead days"),
             heading(f"提前≥{wq.lead_target_days}天占比", f"share ≥ {wq.lead_target_days} d")]
    body = [[escape(str(r[wq.by])), number(r["warned_parties"], "{:,}"),
             percent(r["precision"]), number(r["defaults"], "{:,}"), percent(r["recall"]),
             number(r["lead_median_days"], "{:.0f}"), percent(r["lead_share_target"])]
            for r in rows]
    labels = [str(r[wq.by]) for r in rows]
    chart = bar_chart(labels, [r["recall"] for r in rows], title="召回率 recall",
                      y_label="占比 share", value_format="{:.0%}") if rows else ""
    window = (f"预警自 warnings from {wq.since} · 截至 as of {wq.as_of} · "
              f"观察期 horizon {wq.horizon_days} 天 days")
    return (f"<h2>{heading('预警质量', 'warning quality')}</h2><p>{escape(window)}</p>"
            + table(heads, body) + f'<div class="charts">{chart}</div>')
