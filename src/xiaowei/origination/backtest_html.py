"""The backtest report as one HTML page: Chinese first, English after, charts inline.

Why one self-contained file: the page goes to the credit committee on an offline intranet,
is printed in grey for the minutes and archived with the pack versions it compares; it carries
its styles and SVG charts (``reports/svg.py``) inside and fetches nothing. Everything that
came from data — labels, segment names, reason texts — passes through ``html.escape``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

# Short local names for the shared report pieces (reports/html.py), as the sections use them.
from xiaowei.reports.html import REPORT_STYLE as _STYLE
from xiaowei.reports.html import heading as _h
from xiaowei.reports.html import number as _num
from xiaowei.reports.html import percent as _pct
from xiaowei.reports.html import table as _table
from xiaowei.reports.svg import bar_chart, histogram

ROLE_ZH = {"champion": "现行版本 champion", "challenger": "挑战版本 challenger",
           "recorded": "传统流程实绩 recorded"}
OUTCOME_ZH = {"approve": "通过 approve", "review": "转人工 review", "reject": "拒绝 reject"}


def _versions(doc: dict[str, Any]) -> str:
    rows = [[escape(ROLE_ZH[role]), escape(v["label"]), escape(v["name"]),
             escape(v["pack_version"])] for role, v in doc["versions"].items()]
    w = doc["window"]
    window = (f"{_h('申请日期', 'applied')} {escape(w['since'] or '—')} … "
              f"{escape(w['until'] or '—')} · {_h('实际范围', 'found')} "
              f"{escape(w['first_application'] or '—')} … {escape(w['last_application'] or '—')}")
    return (_table([_h("角色", "role"), _h("指定为", "given as"), _h("策略包", "pack"),
                    _h("内容版本", "content version")], rows, names=3) + f"<p>{window}</p>"
            + '<p class="note">两个版本使用同一引擎代码、同一批历史申请与同一时点标签（申请当日'
              "银行已知的数据，之后的信息不会泄漏）。坏账率与损失仅基于传统流程已放款且满12个月"
              "可观察的贷款：银行拒绝的申请没有表现结果。<br><span class=\"en\">Both versions "
              "run the same engine code on the same applications with the same point-in-time "
              "tags (what the bank knew on each application's day; nothing learnt later "
              "leaks in). Bad rates and losses rest only on loans the traditional "
              "process booked whose 12 months are observable: the bank has no outcome for "
              "applications it rejected.</span></p>")


_HEADLINE = [
    ("applications", "申请数", "applications", "{:,}"), ("approval_rate", "通过率", "approval",
                                                         None),
    ("automatic_rate", "自动决策率", "automatic", None), ("review_rate", "转人工率", "review",
                                                         None),
    ("reject_rate", "拒绝率", "reject", None), ("average_limit", "平均额度（元）",
                                               "average limit (CNY)", "{:,}"),
    ("approved_with_known_outcome", "通过且表现已知的贷款", "approved loans with known outcome",
     "{:,}"),
    ("bads", "其中坏账", "of which bad", "{:,}"), ("bad_rate_12m", "12个月坏账率",
                                                  "12-month bad rate", None),
    ("loss", "损失（元）", "loss (CNY)", "{:,}"),
]


def _cell(value: Any, spec: str | None) -> str:
    return _pct(value) if spec is None else _num(value, spec)


def _change(a: Any, b: Any, spec: str | None) -> str:
    if a is None or b is None:
        return "—"
    if spec is None:
        return escape(f"{(b - a) * 100:+.2f} pp")
    return escape(f"{b - a:+,}")


def _headline(summary: dict[str, Any]) -> str:
    ch, cl = summary["champion"], summary["challenger"]
    rows = [[_h(zh, en), _cell(ch[key], spec), _cell(cl[key], spec),
             _change(ch[key], cl[key], spec)] for key, zh, en, spec in _HEADLINE]
    rec = summary["recorded"]
    note = (f"传统流程实绩 <span class=\"en\">recorded</span>: {_num(rec['applications'], '{:,}')} "
            f"申请 applications · 通过率 approval {_pct(rec['approval_rate'])} · 放款 booked "
            f"{_num(rec['booked'], '{:,}')} · 表现已知 known "
            f"{_num(rec['booked_with_known_outcome'], '{:,}')}"
            f" · 坏账率 bad rate {_pct(rec['bad_rate_12m'])} · 损失 loss "
            f"{_num(rec['loss'], '{:,}')} · 结果改变 changed outcomes "
            f"{_num(summary['changed_outcomes'], '{:,}')}")
    chart = histogram(
        ["通过 approve", "自动 automatic", "转人工 review", "拒绝 reject"],
        [(ROLE_ZH[role], [summary[role][k] for k in ("approval_rate", "automatic_rate",
                                                       "review_rate", "reject_rate")])
         for role in ("champion", "challenger")],
        title="决策结构 Decision mix", y_label="占申请 share of applications",
        value_format="{:.1%}")
    risk = histogram(
        ["12个月坏账率 bad rate"],
        [(ROLE_ZH[r], [summary[r]["bad_rate_12m"]]) for r in ("champion", "challenger")],
        title="坏账率（表现已知贷款） Bad rate (known loans)", y_label="坏账率 bad rate",
        value_format="{:.2%}", width=360)
    loss = histogram(
        ["损失 loss"], [(ROLE_ZH[r], [summary[r]["loss"]]) for r in ("champion", "challenger")],
        title="损失（元） Loss (CNY)", y_label="元 CNY", value_format="{:,.0f}", width=360)
    return (f"<section><h2>{_h('总览', 'headline')}</h2>"
            + _table([_h("指标", "measure"), escape(ROLE_ZH["champion"]),
                      escape(ROLE_ZH["challenger"]), _h("变化", "change")], rows)
            + f'<p class="note">{note}</p><div class="charts">{chart}</div>'
            + f"<h3>{_h('坏账率与损失', 'bad rate and loss')}</h3>"
            + f'<div class="charts">{risk}{loss}</div></section>')


def _segments(by_segment: dict[str, Any]) -> str:
    names = list(by_segment)
    if not names:
        return ""
    chart = histogram(names, [(ROLE_ZH[r], [by_segment[s][r]["approval_rate"] for s in names])
                              for r in ("champion", "challenger")],
                      title="各客群通过率 Approval rate by segment", y_label="通过率 approval",
                      value_format="{:.0%}", width=760)
    auto = histogram(names, [(ROLE_ZH[r], [by_segment[s][r]["automatic_rate"] for s in names])
                             for r in ("champion", "challenger")],
                     title="各客群自动决策率 Automatic rate by segment",
                     y_label="自动决策率 automatic", value_format="{:.0%}", width=760)
    rows = []
    for s in names:
        for r in ("champion", "challenger"):
            f = by_segment[s][r]
            rows.append([escape(s), escape(ROLE_ZH[r]), _num(f["applications"], "{:,}"),
                         _pct(f["approval_rate"]), _pct(f["automatic_rate"]),
                         _pct(f["review_rate"]), _pct(f["reject_rate"]),
                         _num(f["average_limit"], "{:,}"),
                         _num(f["approved_with_known_outcome"], "{:,}"),
                         _pct(f["bad_rate_12m"]), _num(f["loss"], "{:,}")])
    heads = [_h("客群", "segment"), _h("版本", "version"), _h("申请", "apps"),
             _h("通过率", "approval"), _h("自动", "automatic"), _h("转人工", "review"),
             _h("拒绝", "reject"), _h("平均额度", "avg limit"), _h("表现已知", "known"),
             _h("坏账率", "bad rate"), _h("损失", "loss")]
    return (f"<section><h2>{_h('分客群', 'by segment')}</h2>"
            f'<div class="charts">{chart}{auto}</div>' + _table(heads, rows, names=2)
            + "</section>")


def _swap(swap: dict[str, Any]) -> str:
    outcomes = swap["outcomes"]
    top = max((swap["matrix"][a][b] for a in outcomes for b in outcomes), default=0) or 1
    head = ("<tr><th class=\"name\">现行 champion ↓ · 挑战 challenger →</th>"
            + "".join(f"<th>{escape(OUTCOME_ZH[b])}</th>" for b in outcomes) + "</tr>")
    body = []
    for a in outcomes:
        cells = []
        for b in outcomes:
            n = swap["matrix"][a][b]
            share = n / top
            colour = "#ffffff" if share > 0.55 else "#212121"
            border = "3px solid #d55e00" if a != b and n else "1px solid #bdbdbd"
            cells.append(
                f'<td class="heat" style="background:rgba(0,114,178,{share:.3f});'
                f'color:{colour};border:{border}"><b>{n:,}</b><br><small>已知 known '
                f"{swap['known_outcome'][a][b]:,} · 坏 bad {swap['bads'][a][b]:,}</small></td>")
        body.append(f'<tr><th class="name">{escape(OUTCOME_ZH[a])}</th>{"".join(cells)}</tr>')
    rows = [[_h(zh, en), _num(g["count"], "{:,}"), _num(g["known_outcome"], "{:,}"),
             _num(g["unknown_outcome"], "{:,}"), _num(g["bads"], "{:,}"),
             _pct(g["bad_rate_12m"])]
            for zh, en, g in (("换入", "swap-in (not approved → approved)", swap["swap_in"]),
                              ("换出", "swap-out (approved → not approved)", swap["swap_out"]))]
    return (f"<section><h2>{_h('换入换出矩阵', 'swap-in / swap-out matrix')}</h2>"
            f"<table>{head}{''.join(body)}</table>"
            '<p class="note">颜色深浅＝案件数；橙色边框＝结果改变。换入案件多为银行当时拒绝的申请，'
            '其表现未知，只统计已放款部分。<span class="en">Shade = number of cases; orange '
            "border = changed outcome. Swap-ins are mostly applications the bank rejected, "
            "whose outcome is unknown; only booked ones count towards the bad rate.</span></p>"
            + _table([_h("类别", "group"), _h("案件", "cases"), _h("表现已知", "known"),
                      _h("表现未知", "unknown"), _h("坏账", "bad"), _h("坏账率", "bad rate")],
                     rows) + "</section>")


def _reasons(reasons: list[dict[str, Any]]) -> str:
    if not reasons:
        return (f"<section><h2>{_h('变化最大的原因码', 'reasons that changed most')}</h2>"
                "<p>无变化 <span class=\"en\">no reason code changed</span></p></section>")
    chart = bar_chart([r["code"] for r in reasons], [r["change"] for r in reasons],
                      title="原因码命中变化 Change in applications per reason",
                      y_label="挑战 − 现行 challenger − champion", value_format="{:+,.0f}",
                      width=760)
    rows = [[escape(r["code"]), f"{escape(r['zh'])} <span class=\"en\">{escape(r['en'])}</span>",
             _num(r["champion"], "{:,}"), _num(r["challenger"], "{:,}"),
             _num(r["change"], "{:+,}")] for r in reasons]
    return (f"<section><h2>{_h('变化最大的原因码', 'reasons that changed most')}</h2>"
            f'<div class="charts">{chart}</div>'
            + _table([_h("代码", "code"), _h("原因", "reason"), escape(ROLE_ZH["champion"]),
                      escape(ROLE_ZH["challenger"]), _h("变化", "change")], rows, names=2)
            + "</section>")


def _nodes(stats: list[dict[str, Any]]) -> str:
    shown = [s for s in stats if s["hits"] > 0]
    rows = [[escape(s["node"]), escape(s["rule"] or "（节点 node）"), _num(s["ran"], "{:,}"),
             _num(s["hits"], "{:,}"), _pct(s["hit_rate"]), _num(s["accepted_known_hits"], "{:,}"),
             _pct(s["bad_rate_hits"]), _num(s["accepted_known_non_hits"], "{:,}"),
             _pct(s["bad_rate_non_hits"])] for s in shown]
    heads = [_h("节点", "node"), _h("规则", "rule"), _h("运行", "ran"), _h("命中", "hits"),
             _h("命中率", "hit rate"), _h("命中且通过·已知", "hit, approved, known"),
             _h("命中坏账率", "bad rate of hits"), _h("未命中且通过·已知",
                                                    "not hit, approved, known"),
             _h("未命中坏账率", "bad rate of non-hits")]
    return (f"<section><h2>{_h('节点表现（挑战版本）', 'node performance (challenger)')}</h2>"
            '<p class="note">坏账率只计挑战版本通过、且传统流程已放款并满12个月的贷款。'
            '<span class="en">Bad rates count loans the challenger approves that the '
            "traditional process booked and whose 12 months are observable.</span></p>"
            + _table(heads, rows, names=2) + "</section>")


def render_html(doc: dict[str, Any]) -> str:
    """The whole backtest report (``BacktestResult.to_json``) as one page."""
    v = doc["versions"]
    title = f"{v['challenger']['label']} vs {v['champion']['label']}"
    invalid = doc.get("invalid_applications") or []
    skipped = (f'<p class="note">{len(invalid):,} 笔历史申请字段不全未回放 <span class="en">'
               f"historical applications skipped for invalid fields</span></p>" if invalid
               else "")
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>策略回测报告 Strategy backtest · {escape(title)}</title>"
            f"<style>{_STYLE} td.heat {{ text-align: center; min-width: 9em; }}</style>"
            "</head><body><h1>策略回测报告 <span class=\"en\">Strategy backtest</span></h1>"
            + _versions(doc) + skipped + _headline(doc["summary"])
            + _segments(doc["by_segment"]) + _swap(doc["swap"])
            + _reasons(doc["reasons_changed"]) + _nodes(doc["node_performance"])
            + "</body></html>\n")


def write_html(doc: dict[str, Any], path: Path) -> Path:
    """Write the report page to ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(doc), "utf-8")
    return path


__all__ = ["render_html", "write_html"]
