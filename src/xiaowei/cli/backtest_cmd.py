"""`xiaowei backtest`: two strategy pack versions over the same history, side by side.

Thin by design: resolve the two packs (a YAML path, or a stored ``name@N`` / ``name@live``),
call ``origination.backtest``, write the HTML report and the per-case Parquet file, render a
short table. Packs are checked before the (slow, first-time) point-in-time tags are computed, so
a typo costs seconds, not a minute. With ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.cli.decide_cmd import model_dirs_option
from xiaowei.cli.output import err, fail, out, print_json, progress_bar
from xiaowei.cli.packs import resolve_pack
from xiaowei.config import get_settings
from xiaowei.origination.backtest import run_backtest
from xiaowei.origination.backtest_html import write_html
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore


@contextmanager
def _models(overrides: dict[str, str], allow_draft: bool) -> Iterator[Any]:
    """A factory of resolvers: one per pack version, sharing the registry connection."""
    with ExitStack() as stack:
        registry = None
        if not overrides:
            from xiaowei.modelling.registry import open_registry

            registry = stack.enter_context(open_registry())
        yield lambda: RegistryModelResolver(registry, allow_draft=allow_draft,
                                            overrides=overrides)


def _day(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD, got {text!r}")
        raise  # unreachable: fail() exits


def backtest(
    pack: Annotated[str, typer.Option("--pack", help=(
        "挑战版本 challenger: pack YAML path, or stored NAME@N / NAME@live"))],
    against: Annotated[str, typer.Option("--against", help=(
        "现行版本 champion: pack YAML path, or stored NAME@N / NAME@live"))],
    since: Annotated[str | None, typer.Option("--since", help="申请日起 first day YYYY-MM-DD")]
    = None,
    until: Annotated[str | None, typer.Option("--until", help="申请日止 last day YYYY-MM-DD")]
    = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help=(
        "folder for backtest.html and cases.parquet (default: $XIAOWEI_HOME/backtests/…)"))]
    = None,
    model_dir: Annotated[list[str] | None, typer.Option("--model-dir", help=(
        "ALIAS=DIR: score the packs' model ALIAS with this model directory instead of the "
        "registry"))] = None,
    allow_draft: Annotated[bool, typer.Option("--allow-draft", help=(
        "accept draft models from the registry (backtests only)"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """策略回测 — two pack versions over the same history: rates, swaps, bad rate, reasons."""
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and first > last:
        fail(f"--since {first} is after --until {last}")
    overrides = model_dirs_option(model_dir or [])
    settings = get_settings()
    if not settings.analytic_path.is_file():
        fail(f"no analytic store at {settings.analytic_path}: load and govern a bank first")
    with tempfile.TemporaryDirectory(prefix="xiaowei-backtest-") as tmp:
        challenger = resolve_pack(pack, Path(tmp))
        champion = resolve_pack(against, Path(tmp))
        with AnalyticStore(settings.analytic_path, read_only=True) as analytic, \
                _models(overrides, allow_draft) as models, progress_bar() as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    label = ("时点标签 point-in-time tags" if stage == "tags"
                             else "回放决策 deciding")
                    tasks[stage] = bar.add_task(label, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                result = run_backtest(analytic, champion, challenger, models=models,
                                      since=first, until=last, progress=progress)
            except Exception as exc:  # an unresolvable model, a store that cannot be read
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                fail(f"backtest failed: {first_line} (models come from the registry unless "
                     "--model-dir ALIAS=DIR is given)")
    if not result.cases:
        fail("no historical applications in the window"
             + (f" {first or '…'} – {last or '…'}" if first or last else ""))
    doc = result.to_json()
    folder = out_dir or settings.home / "backtests" / (
        f"{doc['versions']['challenger']['pack_version']}-vs-"
        f"{doc['versions']['champion']['pack_version']}")
    cases = result.write_cases(folder / "cases.parquet")
    html = write_html(doc, folder / "backtest.html")
    doc["files"] = {"html": str(html), "cases": str(cases)}
    if as_json:
        print_json(doc)
        return
    _render(doc)


def _render(doc: dict[str, Any]) -> None:
    s = doc["summary"]
    table = Table(title="策略回测 backtest · "
                        f"{doc['versions']['challenger']['label']} vs "
                        f"{doc['versions']['champion']['label']}")
    table.add_column("measure")
    table.add_column("champion", justify="right")
    table.add_column("challenger", justify="right")
    for key in ("applications", "approval_rate", "automatic_rate", "review_rate",
                "reject_rate", "average_limit", "approved_with_known_outcome",
                "bad_rate_12m", "loss"):
        table.add_row(key, _fmt(s["champion"][key], key), _fmt(s["challenger"][key], key))
    out.print(table)
    swap = doc["swap"]
    out.print(f"swap-in {swap['swap_in']['count']} (known outcome "
              f"{swap['swap_in']['known_outcome']}) · swap-out {swap['swap_out']['count']} "
              f"(known {swap['swap_out']['known_outcome']}) · changed outcomes "
              f"{s['changed_outcomes']}")
    for r in doc["reasons_changed"][:5]:
        out.print(f"  {r['code']} {r['change']:+d}  {r['zh']} · {r['en']}")
    err.print(f"report: {doc['files']['html']}\ncases:  {doc['files']['cases']}")


def _fmt(value: Any, key: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2%}" if "rate" in key else f"{value:,}"
