"""The data-quality report as one HTML page: Chinese first, English glosses, print-friendly.

Why one self-contained file: the page is mailed to source owners, opened on an offline
intranet and printed for the data-governance committee's minutes; it carries its styles and
charts inline and fetches nothing. Every value from the data passes through ``html.escape``.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from xiaowei.data.quality.charts import column_bars, light_dot, percent
from xiaowei.data.quality.model import DIMENSION_ZH, DIMENSIONS, QualityReport, SourceQuality
from xiaowei.data.quality.rules import LIGHT_ZH

_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #212121; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em; }
.en { color: #616161; font-weight: normal; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #bdbdbd; padding: 3px 8px; text-align: right; }
th { background: #f5f5f5; } td.name, th.name { text-align: left; }
svg.bars text { font-size: 12px; } svg .head { font-weight: bold; }
svg .na, svg .note { fill: #757575; font-size: 11px; } svg.dot { vertical-align: -2px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; }
dt { color: #616161; } dd { margin: 0; }
section { border-top: 2px solid #e0e0e0; }
@media print { body { margin: 0; max-width: none; font-size: 11px; }
  section { break-inside: avoid-page; page-break-inside: avoid; } a { color: inherit; } }
"""


def _cell(text: str, cls: str | None = None) -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def _light(light: str | None) -> str:
    name = f"{LIGHT_ZH.get(light or '', '无')} {light or 'none'}"
    return f"{light_dot(light)} {escape(name)}"


def _number(value: int | None) -> str:
    return "—" if value is None else escape(f"{value:,}")


def _day(value: dt.date | None) -> str:
    return "—" if value is None else escape(value.isoformat())


def _summary(report: QualityReport) -> str:
    heads = ["来源 <span class=\"en\">source</span>", "行数 <span class=\"en\">rows</span>",
             *(f'{DIMENSION_ZH[d]} <span class="en">{d}</span>' for d in DIMENSIONS),
             "得分 <span class=\"en\">score</span>", "信号灯 <span class=\"en\">light</span>"]
    rows = ["<tr>" + "".join(f'<th class="name">{h}</th>' if i == 0 else f"<th>{h}</th>"
                             for i, h in enumerate(heads)) + "</tr>"]
    for name, source in report.sources.items():
        dims = source.dimensions
        link = f'<a href="#src-{escape(name)}">{escape(source.title or name)}</a>'
        cells = [_cell(f"{link}<br><code>{escape(name)}</code>", "name"),
                 _cell(_number(source.rows)),
                 *(_cell(escape(percent(dims[d]))) for d in DIMENSIONS),
                 _cell(escape(percent(source.score))), _cell(_light(source.light))]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table class=\"summary\">" + "".join(rows) + "</table>"


def _pairs(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in items) + (
        "</dl>")


def _reasons(source: SourceQuality) -> str:
    top = source.top_reasons()
    if not top:
        return "<p>无无效值 <span class=\"en\">no invalid values</span></p>"
    rows = "".join(f'<tr><td class="name">{escape(c)}</td><td class="name">{escape(r)}</td>'
                   f"<td>{_number(n)}</td></tr>" for c, r, n in top)
    return ('<table><tr><th class="name">字段 <span class="en">column</span></th>'
            '<th class="name">原因 <span class="en">reason</span></th>'
            f'<th>行数 <span class="en">rows</span></th></tr>{rows}</table>')


def _section(name: str, source: SourceQuality) -> str:
    dims = source.dimensions
    f = source.freshness
    q = source.quarantine
    worst = source.worst_required
    quarantine = (f"{_number(q.quarantined)} / {_number(q.rows_in)}" if q.recorded
                  else "装载未记录 <span class=\"en\">not recorded by the load</span>")
    q_reasons = "; ".join(f"{escape(r)} ({n:,})" for r, n in
                          sorted(q.reasons.items(), key=lambda kv: -kv[1])[:3]) or "—"
    key = ", ".join(source.unique_key)
    facts = [
        ("得分 <span class=\"en\">score</span>",
         f"{escape(percent(source.score))} {_light(source.light)}"),
        *((f'{DIMENSION_ZH[d]} <span class="en">{d}</span>', escape(percent(dims[d])))
          for d in DIMENSIONS),
        ("必填单元格完整 <span class=\"en\">required cells complete</span>",
         escape(percent(source.required_cells))),
        ("最弱必填字段 <span class=\"en\">weakest required column</span>",
         escape(worst.name) if worst else "—"),
        ("唯一键 <span class=\"en\">unique key</span>", escape(key) if key else "—"),
        ("重复键 <span class=\"en\">duplicate keys</span>", _number(source.duplicate_keys)),
        ("重复行 <span class=\"en\">duplicate rows</span>", _number(source.duplicate_rows)),
        ("截至报告日最新业务日期 <span class=\"en\">latest business date by as-of</span>",
         _day(f.latest_business_date)),
        ("截至报告日最新获知日 <span class=\"en\">latest known by as-of</span>",
         _day(f.latest_known_at)),
        ("距报告日天数 <span class=\"en\">days before as-of</span>",
         _number(f.age_days) + (" 停更 <span class=\"en\">stale</span>" if f.stale else "")),
        ("迟到占比 <span class=\"en\">late share</span>",
         f"{escape(percent(f.late_share))} ({_number(f.late_rows)} / {_number(f.dated_rows)})"),
        ("报告日后获知 <span class=\"en\">known after as-of</span>",
         _number(f.known_after_as_of)),
        ("装载隔离 <span class=\"en\">quarantined at load</span>", quarantine),
        ("隔离原因 <span class=\"en\">quarantine reasons</span>", q_reasons),
        ("治理表 <span class=\"en\">governed table</span>",
         escape(source.governed_table) if source.governed_table else "—"),
        ("未关联到客户 <span class=\"en\">rows not linked to a party</span>",
         _number(source.unlinked)),
    ]
    return (f'<section id="src-{escape(name)}"><h2>{escape(source.title or name)} '
            f'<span class="en">{escape(name)} · v{source.contract_version} · '
            f"{_number(source.rows)} 行 rows</span> {light_dot(source.light, 18)}</h2>"
            f"{_pairs(facts)}"
            "<h3>各字段 <span class=\"en\">per column</span> "
            "<span class=\"en\">(* 必填 required)</span></h3>"
            f"{column_bars(name, source.columns)}"
            "<h3>主要原因 <span class=\"en\">top reasons</span></h3>"
            f"{_reasons(source)}</section>")


def render_html(report: QualityReport) -> str:
    """The whole report as one HTML document (UTF-8 text, nothing external)."""
    t = report.thresholds
    lights = report.lights()
    counts = " · ".join(f"{LIGHT_ZH[k]} {k}: {v}" for k, v in lights.items())
    legend = (f"绿 green ≥ {t.green:.0%}，黄 amber ≥ {t.amber:.0%}，红 red 低于 below；"
              f"迟到 late = 期末后超过 {t.late_after_days} 天获知 known more than "
              f"{t.late_after_days} days after the period；停更 stale = 超过 "
              f"{t.stale_after_days} 天无新数据 nothing new for {t.stale_after_days} days")
    sections = "".join(_section(name, s) for name, s in report.sources.items())
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>数据质量报告 Data-quality report {escape(report.as_of.isoformat())}</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>数据质量报告 <span class=\"en\">Data-quality report</span></h1>"
        f"<p>报告日 <span class=\"en\">as of</span> {escape(report.as_of.isoformat())} · "
        f"{len(report.sources)} 个来源 <span class=\"en\">sources</span> · "
        f"{_number(sum(s.rows for s in report.sources.values()))} 行 "
        "<span class=\"en\">rows</span></p>"
        f"<p>总体 <span class=\"en\">overall</span> {escape(percent(report.score))} "
        f"{_light(report.light)} · {escape(counts)}</p>"
        f"<p class=\"en\">{escape(legend)}</p>"
        "<h2>来源汇总 <span class=\"en\">sources at a glance</span></h2>"
        f"{_summary(report)}{sections}</body></html>\n")
