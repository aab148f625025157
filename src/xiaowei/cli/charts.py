"""Terminal charts: a bar per row, because a picture says more than a column of numbers."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, top: float, width: int = 40) -> str:
    if top <= 0:
        return ""
    cells = value / top * width
    full = int(cells)
    part = int((cells - full) * 8)
    return "█" * full + (BLOCKS[part] if part else "")


def bar_table(title: str, data: Mapping[str, float | int], label: str, width: int = 40,
              fmt: str = "{:,}") -> Table:
    table = Table(title=title, show_edge=False, box=None, pad_edge=False)
    table.add_column(label, no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    top = max(data.values(), default=0)
    for key, value in data.items():
        table.add_row(key, fmt.format(value), f"[cyan]{bar(value, top, width)}[/]")
    return table
