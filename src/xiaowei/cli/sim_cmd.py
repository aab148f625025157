"""`xiaowei sim`: write a synthetic bank to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiaowei.cli.output import err, fail, out, print_json, progress_bar
from xiaowei.sim import SIZES, SimResult, generate


def run_sim(size: str, seed: int, dest: Path, quiet: bool = False) -> SimResult:
    if size not in SIZES:
        fail(f"--size must be one of {', '.join(SIZES)}, got {size!r}")
    if seed < 0:
        fail(f"--seed must be ≥ 0, got {seed}")
    with progress_bar() as bar:
        task = bar.add_task(f"模拟银行 simulating '{size}' bank", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = generate(size, seed, dest, progress=tick)
    if not quiet:
        err.print(f"wrote {result.total_rows:,} rows in {result.seconds:.1f} s to {dest}")
    return result


def sim(
    size: Annotated[str, typer.Option(help="tiny | small | bank")] = "tiny",
    seed: Annotated[int, typer.Option(help="random seed: same seed and size, same data")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write")] = Path("var/sim"),
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """生成模拟银行数据 — generate a synthetic SME bank (deterministic per seed)."""
    result = run_sim(size, seed, out_dir, quiet=as_json)
    if as_json:
        print_json({"fingerprint": result.fingerprint, "tables": result.tables,
                    "size": result.size, "seed": result.seed, "out": str(result.out),
                    "seconds": round(result.seconds, 3), "total_rows": result.total_rows})
        return
    table = Table(title=f"模拟数据 synthetic bank · size={size} seed={seed}")
    table.add_column("表 table")
    table.add_column("行数 rows", justify="right")
    for name, count in result.tables.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    out.print(f"fingerprint [bold]{result.fingerprint}[/]")
