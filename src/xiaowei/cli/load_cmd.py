"""`xiaowei load DIR`: load a dataset folder into the stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiaowei.cli.output import err, fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.data.dataset import DatasetError
from xiaowei.data.load import LoadReport, load_dataset
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine


def run_load(folder: Path) -> LoadReport:
    settings = get_settings()
    settings.ensure_home()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with AnalyticStore(settings.analytic_path) as analytic, progress_bar() as bar:
            tasks: dict[str, int] = {}

            def tick(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    label = {"analytic": "分析库 analytic store (DuckDB)",
                             "transactional": "交易库 transactional store"}[stage]
                    tasks[stage] = bar.add_task(label, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            return load_dataset(folder, engine, analytic, progress=tick)
    except DatasetError as e:
        fail(f"无法装载 cannot load: {e}")
        raise  # unreachable: fail() exits
    finally:
        engine.dispose()


def load(
    folder: Annotated[Path, typer.Argument(help="dataset folder (as written by xiaowei sim)")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """装载数据集 — load a dataset folder into the analytic and transactional stores."""
    report = run_load(folder)
    if as_json:
        print_json(report.to_json())
        return
    render_load(report)


def render_load(report: LoadReport) -> None:
    if report.already_loaded:
        err.print(f"已装载过 already loaded (batch {report.batch_id}); nothing changed")
        return
    table = Table(title="装载结果 load result (in = accepted + quarantined)")
    for col in ("表 table", "输入 in", "接受 accepted", "隔离 quarantined"):
        table.add_column(col, justify="right" if col != "表 table" else "left")
    for name, c in report.transactional.items():
        table.add_row(name, f"{c.rows_in:,}", f"{c.accepted:,}", f"{c.quarantined:,}")
    out.print(table)
    if report.quarantine_reasons:
        reasons = Table(title="隔离原因 quarantine reasons")
        reasons.add_column("原因 reason")
        reasons.add_column("行数 rows", justify="right")
        for reason, n in sorted(report.quarantine_reasons.items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason, str(n))
        out.print(reasons)
    out.print(f"analytic store: {len(report.analytic_tables)} tables, "
              f"{sum(report.analytic_tables.values()):,} rows")
