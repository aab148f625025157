"""``xiaowei model fit | score | report`` — a risk analyst's own data, any table.

The registry's commands (register, approve, retire, list, show) live in
``model_registry_cmd``; these three join the same ``xiaowei model`` group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.model_registry_cmd import JsonFlag, registry_app
from xiaowei.cli.output import fail, out, print_json
from xiaowei.engine.models.frame import ModelInputError
from xiaowei.modelling import workbench

DataFile = Annotated[Path, typer.Option("--data", help="CSV (.csv, .csv.gz) or Parquet file")]


def _answer(as_json: bool, work: Callable[[], dict], say: Callable[[dict], None]) -> None:
    """Run ``work``; a refusal becomes a clear error (exit 2), a result JSON or ``say``."""
    try:
        result = work()
    except (ModelInputError, ValueError) as exc:
        fail(str(exc))
        return
    if as_json:
        print_json(result)
    else:
        say(result)


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


@registry_app.command("fit")
def fit_command(
    data: DataFile,
    target: Annotated[str, typer.Option("--target", help="0/1 outcome column, 1 = bad")],
    out_dir: Annotated[Path, typer.Option("--out", help="model directory to write")],
    kind: Annotated[str, typer.Option("--kind", help="scorecard | gbdt")] = "scorecard",
    categorical: Annotated[str | None, typer.Option(
        "--categorical", help="columns to treat as categories, comma-separated")] = None,
    exclude: Annotated[str | None, typer.Option(
        "--exclude", help="columns to leave out (ids, leaks), comma-separated")] = None,
    as_json: JsonFlag = False,
) -> None:
    """训练模型 — fit a scorecard or a GBDT on any table and write a model directory."""

    def say(summary: dict) -> None:
        out.print(f"已训练 fitted a [bold]{kind}[/] on {summary['rows']:,} rows · AUC (train) "
                  f"{summary['auc_train']:.4f} · KS {summary['ks_train']:.4f} · "
                  f"{len(summary['features'])} features → {escape(summary['model_dir'])}")
        for feature, why in summary["dropped"].items():
            out.print(f"  未使用 dropped {escape(feature)}: {escape(why)}")

    _answer(as_json, lambda: workbench.fit(data, target, out_dir, kind=kind,
                                           categorical=_names(categorical),
                                           exclude=_names(exclude)), say)


@registry_app.command("score")
def score_command(
    model: Annotated[Path, typer.Option("--model", help="model directory")],
    data: DataFile,
    out_file: Annotated[Path, typer.Option("--out", help="output .csv or .parquet")],
    as_json: JsonFlag = False,
) -> None:
    """评分 — add score, pd, grade and reasons to every row of a file, in its order."""
    _answer(as_json, lambda: workbench.score(model, data, out_file),
            lambda s: out.print(f"已评分 scored {s['rows']:,} rows → {escape(s['out'])}"))


@registry_app.command("report")
def report_command(
    model: Annotated[Path, typer.Option("--model", help="model directory")],
    data: DataFile,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for report.html/json")],
    as_json: JsonFlag = False,
) -> None:
    """验证报告 — validation report of the model on a file (HTML and JSON)."""
    _answer(as_json, lambda: workbench.report(model, data, out_dir),
            lambda s: out.print(f"已生成 report written → {escape(s['html'])}"))


@registry_app.command("monitor")
def monitor_command(
    model: Annotated[Path, typer.Option("--model", help="model directory")],
    data: DataFile,
    period: Annotated[str, typer.Option("--period", help="column naming each row's month")],
    as_json: JsonFlag = False,
) -> None:
    """模型监测 — PSI per month against development, AUC/KS where outcomes exist."""
    _answer(as_json, lambda: workbench.monitor(model, data, period), _monitor_table)


def _monitor_table(result: dict) -> None:
    table = Table(title="模型监测 model monitoring (PSI vs development)")
    for heading in ("期间 period", "行数 rows", "PSI", "AUC", "KS", "信号 light", "提示 flags"):
        table.add_column(heading)
    for row in result["periods"]:
        table.add_row(escape(str(row["period"])), f"{row['n']:,}", _number(row["psi"]),
                      _number(row["auc"]), _number(row["ks"]), LIGHTS.get(row["light"], "—"),
                      escape(", ".join(row["flags"])))
    out.print(table)


LIGHTS = {"green": "[green]● 绿 green[/]", "amber": "[yellow]● 黄 amber[/]",
          "red": "[red]● 红 red[/]"}


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
