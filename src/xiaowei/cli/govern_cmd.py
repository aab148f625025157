"""`xiaowei govern DIR`: loaded raw sources → governed tables (清洗、合并、标准、关联)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiaowei.cli.output import fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.data.dataset import DatasetError
from xiaowei.data.govern.build import GovernReport, govern
from xiaowei.store.analytic import AnalyticStore


def run_govern(folder: Path) -> GovernReport:
    settings = get_settings()
    try:
        with AnalyticStore(settings.analytic_path) as analytic, progress_bar() as bar:
            task = bar.add_task("数据治理 governing (resolve, standardise, relate)", total=None)
            return govern(folder, analytic, progress=lambda _s, done, total: bar.update(
                task, completed=done, total=total))
    except DatasetError as e:
        fail(f"无法治理 cannot govern: {e}")
        raise


def govern_command(
    folder: Annotated[Path, typer.Argument(help="the dataset folder that was loaded")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """数据治理 — resolve parties, standardise and link the loaded sources into gov.*."""
    report = run_govern(folder)
    if as_json:
        print_json(report.to_json())
        return
    render_govern(report)


def render_govern(report: GovernReport) -> None:
    table = Table(title=f"治理结果 governed tables · {report.parties:,} parties from "
                        f"{report.records_resolved:,} source records")
    for col in ("表 table", "行数 rows", "未关联 unlinked"):
        table.add_column(col, justify="left" if col.startswith("表") else "right")
    for name, rows in report.tables.items():
        table.add_row(name, f"{rows:,}", f"{report.unlinked.get(name, 0):,}"
                      if name in report.unlinked else "—")
    out.print(table)
