"""`xiaowei quality report`: how complete, valid, unique, fresh and linked each source is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from xiaowei.cli.output import err, fail, out, print_json
from xiaowei.config import get_settings
from xiaowei.data.quality import NothingLoaded, QualityReport, quality_report, render_html
from xiaowei.data.quality.charts import percent
from xiaowei.data.quality.rules import LIGHT_ZH
from xiaowei.store.analytic import AnalyticStore

app = typer.Typer(help="数据质量 — data quality of the loaded sources", no_args_is_help=True)
STYLE = {"green": "green", "amber": "yellow", "red": "red"}


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of must be a date like 2025-12-31, got {text!r}")
    raise AssertionError  # unreachable: fail() exits


@app.command("report")
def report_command(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="YYYY-MM-DD; default: the dataset's as-of (or today)")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="also write the report as one self-contained HTML file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """数据质量报告 — per source: completeness, validity, uniqueness, freshness, quarantine."""
    day = _as_of(as_of)
    path = get_settings().analytic_path
    if not Path(path).exists():
        fail(f"没有已装载的数据 nothing is loaded ({path}): run `xiaowei load DIR` first")
    with AnalyticStore(path) as analytic:
        try:
            report = quality_report(analytic, day)
        except NothingLoaded as e:
            fail(f"没有已装载的数据 nothing is loaded: {e}")
            raise  # unreachable: fail() exits
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report), encoding="utf-8")
        err.print(f"HTML 报告已写入 report written to {html}")
    if as_json:
        print_json(report.to_json())
        return
    render_quality(report)


def render_quality(report: QualityReport) -> None:
    """The sources as one table on the terminal, lights in colour."""
    counts = " · ".join(f"{LIGHT_ZH[k]} {v}" for k, v in report.lights().items())
    table = Table(box=box.SIMPLE_HEAD, title=f"数据质量 data quality · as of {report.as_of} · "
                        f"{len(report.sources)} sources · {counts}")
    heads = ("来源\nsource", "行数\nrows", "完整性\ncompl.", "有效性\nvalid.", "唯一性\nunique",
             "及时性\nfresh", "得分\nscore", "灯\nlight")
    for head in heads:
        # Numbers never wrap or cut: on a narrow terminal the source name folds instead.
        name = head.startswith("来源")
        table.add_column(head, justify="left" if name or head.startswith("灯") else "right",
                         no_wrap=not name, overflow="fold", min_width=12 if name else None)
    for name, source in report.sources.items():
        dims = source.dimensions
        style = STYLE[source.light]
        table.add_row(name, f"{source.rows:,}", percent(dims["completeness"]),
                      percent(dims["validity"]), percent(dims["uniqueness"]),
                      percent(dims["freshness"]), percent(source.score),
                      f"[{style}]● {LIGHT_ZH[source.light]}[/]")
    out.print(table)
    overall = report.light or "red"
    out.print(f"总体 overall {percent(report.score)} "
              f"[{STYLE[overall]}]● {LIGHT_ZH[overall]} {overall}[/] "
              f"({report.seconds:.2f} s)")
