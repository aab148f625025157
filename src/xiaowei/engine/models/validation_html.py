"""The validation report as one HTML page: Chinese first, English after, charts inline.

Why one self-contained file: the page goes to the model validation committee on an offline
intranet, is printed in grey for the minutes and archived with the model version; it carries
its styles and SVG charts inside and fetches nothing. Everything that came from data — model
and feature names, bin and grade labels, periods — passes through ``html.escape``.
"""

from __future__ import annotations

from html import escape

# Short local names for the shared report pieces (reports/html.py), as the sections use them.
from xiaowei.reports.html import REPORT_STYLE as _STYLE
from xiaowei.reports.html import heading as _h
from xiaowei.reports.html import number as _num
from xiaowei.reports.html import percent as _pct
from xiaowei.reports.html import table as _table
from xiaowei.reports.svg import Series, bar_chart, histogram, line_chart

LIGHT_COLOUR = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}
LIGHT_ZH = {"green": "绿", "amber": "黄", "red": "红"}
SAMPLE_ZH = {"dev": "开发样本 development", "recent": "近期样本 recent"}
MEASURE_ZH = {
    "auc": "AUC 曲线下面积 area under ROC", "ks": "KS 统计量 Kolmogorov–Smirnov",
    "gini": "基尼系数 Gini", "auc_drop": "AUC 下降 AUC drop (dev − recent)",
    "hl_p": "HL 检验 p 值 Hosmer–Lemeshow p-value", "psi": "群体稳定性指数 PSI",
    "csi_max": "最大特征稳定性指数 largest CSI",
}


def light(name: str | None) -> str:
    """A coloured dot with the light's name beside it (so a grey print still reads)."""
    colour = LIGHT_COLOUR.get(name or "", "#9e9e9e")
    label = f"{LIGHT_ZH.get(name or '', '—')} {name or 'n/a'}"
    return (f'<svg class="dot" width="12" height="12" viewBox="0 0 12 12" role="img" '
            f'aria-label="{escape(label)}"><circle cx="6" cy="6" r="5" fill="{colour}" '
            f'stroke="#333" stroke-width="0.5"/></svg> {escape(label)}')


def _samples(report: dict) -> list[tuple[str, dict]]:
    return [(k, v) for k, v in report["samples"].items() if v is not None]


def _summary(report: dict) -> str:
    s = report["summary"]
    rows = [[escape(MEASURE_ZH.get(r["measure"], r["measure"])),
             escape(SAMPLE_ZH.get(r["sample"], r["sample"])),
             _num(r["value"], "{:.4f}"), light(r["light"]) if r["light"] else "—"]
            for r in s["rows"]]
    t = report["thresholds"]
    rules = (f"AUC 绿 green ≥ {t['auc'][0]}, 黄 amber ≥ {t['auc'][1]}; KS ≥ {t['ks'][0]} / "
             f"{t['ks'][1]}; PSI、CSI < {t['psi'][0]} / {t['psi'][1]}; AUC 下降 drop ≤ "
             f"{t['auc_drop'][0]} / {t['auc_drop'][1]}; HL p ≥ {t['hl_p'][0]} / {t['hl_p'][1]}")
    samples = [[escape(SAMPLE_ZH[k]), escape(v.get("period") or "—"), _num(v["n"], "{:,}"),
                _num(v.get("events"), "{:,}"), _pct(v.get("event_rate")), _pct(v["mean_pd"])]
               for k, v in _samples(report)]
    return ("<section>" + f"<h2>{_h('摘要', 'summary')} {light(s['light'])}</h2>"
            + _table([_h("指标", "measure"), _h("样本", "sample"), _h("数值", "value"),
                      _h("信号灯", "light")], rows, names=2)
            + f'<p class="note">{escape(rules)}</p>'
            + _table([_h("样本", "sample"), _h("期间", "period"), _h("行数", "rows"),
                      _h("事件数", "events"), _h("事件率", "event rate"),
                      _h("平均预测 PD", "mean PD")], samples, names=2) + "</section>")


def _gains_rows(gains: list[dict]) -> list[list[str]]:
    return [[str(g["group"]), _num(g["score_min"], "{:.4g}"), _num(g["score_max"], "{:.4g}"),
             _num(g["count"], "{:,}"), _num(g["events"], "{:,}"), _pct(g["event_rate"]),
             _pct(g["capture"]), _num(g["lift"], "{:.2f}"), _num(g["cum_lift"], "{:.2f}"),
             _num(g["ks"], "{:.3f}")] for g in gains]


def _discrimination(report: dict) -> str:
    d = {k: v for k, v in report["discrimination"].items() if v is not None}
    roc = [Series(SAMPLE_ZH[k], v["roc"]["fpr"], v["roc"]["tpr"], markers=False)
           for k, v in d.items()]
    gains = [Series(SAMPLE_ZH[k], [0.0] + [g["cum_share"] for g in v["gains"]],
                    [0.0] + [g["capture"] for g in v["gains"]]) for k, v in d.items()]
    charts = (line_chart(roc, title="ROC 曲线 ROC curve", x_label="误报率 false positive rate",
                         y_label="命中率 true positive rate", x_range=(0, 1), y_range=(0, 1),
                         diagonal=True)
              + line_chart(gains, title="累计捕获 Cumulative gains",
                           x_label="累计客群占比 share reviewed (riskiest first)",
                           y_label="累计坏客户捕获 events captured", x_range=(0, 1),
                           y_range=(0, 1), diagonal=True, x_format="{:.0%}", y_format="{:.0%}"))
    heads = [_h("组", "group"), _h("PD 下限", "min PD"), _h("PD 上限", "max PD"),
             _h("行数", "rows"), _h("事件", "events"), _h("事件率", "rate"),
             _h("累计捕获", "capture"), _h("提升度", "lift"), _h("累计提升", "cum. lift"), "KS"]
    tables = "".join(f"<h3>{_h('分组提升表', 'gains and lift')} · {escape(SAMPLE_ZH[k])}</h3>"
                     + _table(heads, _gains_rows(v["gains"]), names=0) for k, v in d.items())
    facts = " · ".join(f"{escape(SAMPLE_ZH[k])}: AUC {_num(v['auc'])}, KS {_num(v['ks'])} "
                       f"(@ {_num(v['ks_cutoff'], '{:.4g}')}), Gini {_num(v['gini'])}"
                       for k, v in d.items())
    return (f"<section><h2>{_h('区分能力', 'discrimination')}</h2><p>{facts}</p>"
            f'<div class="charts">{charts}</div>{tables}</section>')


def _calibration(report: dict) -> str:
    c = report["calibration"]
    done = [(k, c[k]) for k in ("dev", "recent") if c[k] is not None]
    series = [Series(SAMPLE_ZH[k], [r["mean_pd"] for r in v["rows"] if r["count"]],
                     [r["event_rate"] for r in v["rows"] if r["count"]], markers=True)
              for k, v in done]
    top = max((max(r["mean_pd"] or 0, r["event_rate"] or 0) for _, v in done
               for r in v["rows"]), default=0.0) or 1.0
    chart = line_chart(series, title="校准 Predicted PD vs observed rate",
                       x_label="平均预测 PD mean predicted PD", y_label="实际事件率 observed",
                       x_range=(0, top * 1.05), y_range=(0, top * 1.05), diagonal=True,
                       x_format="{:.1%}", y_format="{:.1%}")
    kind = ("主标尺等级 master-scale grade" if c["buckets"] == "master_scale"
            else "预测 PD 分位组 PD quantile group")
    heads = [_h("等级/组", "bucket"), _h("PD 下限", "low"), _h("PD 上限", "high"),
             _h("行数", "rows"), _h("事件", "events"), _h("预期事件", "expected"),
             _h("平均 PD", "mean PD"), _h("实际率", "observed"),
             _h("二项检验 p", "binomial p (one-sided)"), _h("信号灯", "light")]
    parts = []
    for k, v in done:
        rows = [[escape(str(r["bucket"])), _pct(r["pd_low"]), _pct(r["pd_high"]),
                 _num(r["count"], "{:,}"), _num(r["events"], "{:,}"),
                 _num(r["expected_events"], "{:,.1f}"), _pct(r["mean_pd"]),
                 _pct(r["event_rate"]), _num(r["binomial_p"], "{:.4f}"),
                 light(r["light"]) if r["light"] else "—"] for r in v["rows"]]
        parts.append(f"<h3>{escape(SAMPLE_ZH[k])}</h3><p>Hosmer–Lemeshow χ² = "
                     f"{_num(v['hl_statistic'], '{:.2f}')}, df = {_num(v['hl_dof'], '{}')}, "
                     f"p = {_num(v['hl_p_value'], '{:.4f}')} {light(v['light'])}</p>"
                     + _table(heads, rows))
    return (f"<section><h2>{_h('校准', 'calibration')}</h2><p class=\"note\">"
            f"{escape(kind)}；二项检验为单侧：实际违约是否显著高于预测 one-sided: are events "
            f"significantly above the predicted PD</p><div class=\"charts\">{chart}</div>"
            + "".join(parts) + "</section>")


def _stability_table(table: dict, label_key: str = "bin") -> str:
    rows = [[escape(str(r.get(label_key, r["bin"]))), _num(r["expected_count"], "{:,}"),
             _num(r["actual_count"], "{:,}"), _pct(r["expected_share"]),
             _pct(r["actual_share"]), _num(r["psi"], "{:.4f}")] for r in table["rows"]]
    return _table([_h("分箱", "bin"), _h("开发行数", "dev rows"), _h("近期行数", "recent rows"),
                   _h("开发占比", "dev share"), _h("近期占比", "recent share"),
                   _h("贡献", "contribution")], rows)


def _psi_bin_label(row: dict) -> str:
    low = "−∞" if row["lower"] is None else f"{row['lower']:.4g}"
    high = "+∞" if row["upper"] is None else f"{row['upper']:.4g}"
    return f"({low}, {high}]"


def _stability(report: dict) -> str:
    s = report["stability"]
    parts = [f"<section><h2>{_h('稳定性', 'stability')}</h2>"]
    if s["psi"] is None:
        parts.append("<p>无近期样本 <span class=\"en\">no recent sample</span></p>")
    else:
        p = {**s["psi"], "rows": [{**r, "range": _psi_bin_label(r)} for r in s["psi"]["rows"]]}
        basis = "分数 score" if p["basis"] == "score" else "预测 PD predicted PD"
        parts.append(f"<p>PSI = {_num(p['value'], '{:.4f}')} {light(p['light'])} · "
                     f"{escape(basis)} · 分箱取开发样本分位点 bins at development quantiles"
                     "</p>")
        parts.append('<div class="charts">' + histogram(
            [r["range"] for r in p["rows"]],
            [(SAMPLE_ZH["dev"], [r["expected_share"] for r in p["rows"]]),
             (SAMPLE_ZH["recent"], [r["actual_share"] for r in p["rows"]])],
            title="PSI 分箱占比 PSI bin shares", y_label="占比 share", value_format="{:.0%}")
            + "</div>" + _stability_table(p, "range"))
    if s["grade_psi"] is not None:
        g = s["grade_psi"]
        parts.append(f"<h3>{_h('主标尺等级分布', 'master-scale grade mix')}</h3><p>PSI = "
                     f"{_num(g['value'], '{:.4f}')} {light(g['light'])}</p>"
                     + _stability_table(g))
    if s["csi"]:
        rows = [[escape(c["feature"]), _num(c["value"], "{:.4f}"), light(c["light"])]
                for c in s["csi"]]
        parts.append(f"<h3>{_h('特征稳定性', 'characteristic stability (CSI)')}</h3>")
        parts.append('<div class="charts">' + bar_chart(
            [c["feature"] for c in s["csi"]], [c["value"] for c in s["csi"]],
            title="各特征 CSI per feature", y_label="CSI", value_format="{:.3f}") + "</div>")
        parts.append(_table([_h("特征", "feature"), "CSI", _h("信号灯", "light")], rows))
        for c in s["csi"]:
            parts.append(f"<h3>{escape(c['feature'])} <span class=\"en\">CSI "
                         f"{_num(c['value'], '{:.4f}')}</span></h3>"
                         + _stability_table(c, "label"))
    return "".join(parts) + "</section>"


def _bins(report: dict) -> str:
    if not report["bins"]:
        return ""
    parts = [f"<section><h2>{_h('分箱与信息值', 'bins and information value')}</h2>",
             _table([_h("特征", "feature"), "IV", _h("解读", "reading")],
                    [[escape(t["feature"]), _num(t["iv"], "{:.4f}"), escape(t["strength"])]
                     for t in report["bins"]], names=1)]
    for t in report["bins"]:
        labels = [r["bin"] for r in t["rows"]]
        with_points = any("points" in r for r in t["rows"])
        rows = [[escape(r["bin"]), _num(r["count"], "{:,}"), _pct(r["share"]),
                 _pct(r["event_rate"]), _num(r["woe"], "{:.4f}")]
                + ([_num(r.get("points"), "{:.1f}")] if with_points else []) for r in t["rows"]]
        heads = [_h("分箱", "bin"), _h("行数", "rows"), _h("占比", "share"),
                 _h("事件率", "event rate"), "WOE"] + ([_h("分值", "points")] if with_points
                                                      else [])
        parts.append(f"<h3>{escape(t['feature'])} <span class=\"en\">IV "
                     f"{_num(t['iv'], '{:.4f}')} · {escape(t['strength'])}</span></h3>"
                     '<div class="charts">'
                     + bar_chart(labels, [r["event_rate"] for r in t["rows"]],
                                 title=f"{t['feature']} 事件率 event rate", y_label="事件率 rate",
                                 value_format="{:.1%}", width=420, height=260)
                     + bar_chart(labels, [r["woe"] for r in t["rows"]],
                                 title=f"{t['feature']} WOE", y_label="WOE",
                                 value_format="{:.2f}", width=420, height=260)
                     + "</div>" + _table(heads, rows))
    return "".join(parts) + "</section>"


def _distribution(report: dict) -> str:
    d = report["score_distribution"]
    edges = d["edges"]
    labels = [f"{lo:.3g}" for lo in edges[:-1]]
    series = [(SAMPLE_ZH[k], d[k]["shares"]) for k in ("dev", "recent") if d[k] is not None]
    basis = "分数 score" if d["basis"] == "score" else "预测 PD predicted PD"
    title = "分数分布 Score distribution" if d["basis"] == "score" else "PD 分布 PD distribution"
    chart = histogram(labels, series, title=title,
                      x_label=f"{basis}（分箱下限 bin lower edge）", y_label="占比 share",
                      value_format="{:.0%}", width=760, height=320)
    return (f"<section><h2>{_h('分数分布', 'score distribution')}</h2>"
            f'<div class="charts">{chart}</div></section>')


def render_html(report: dict) -> str:
    """The whole validation report (``validation.build_validation_report``) as one page."""
    m = report["model"]
    title = f"{m['name']} v{m['version']}"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>模型验证报告 Model validation report · {escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>模型验证报告 <span class=\"en\">Model validation report</span></h1>"
        f"<p>{escape(m['name'])} · {_h('版本', 'version')} {escape(m['version'])} · "
        f"{_h('类型', 'kind')} {escape(m['kind'])}"
        + (f" · {_h('报告日', 'as of')} {escape(str(report['as_of']))}"
           if report.get("as_of") else "")
        + f" · {_h('总体', 'overall')} {light(report['summary']['light'])}</p>"
        + _summary(report) + _discrimination(report) + _calibration(report)
        + _stability(report) + _bins(report) + _distribution(report) + "</body></html>\n")
