"""The pieces every self-contained HTML report shares: one style sheet, cells, tables, headings.

Why shared: the model validation report and the strategy backtest report go to the same
committees, are printed the same way (grey, on A4) and must look like one bank's documents;
they differ only in their sections. Cells are ready HTML: callers escape what came from data.
"""

from __future__ import annotations

from html import escape
from typing import Any

REPORT_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #212121; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
h3 { font-size: 1.05em; } .en { color: #616161; font-weight: normal; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #bdbdbd; padding: 3px 7px; text-align: right; }
th { background: #f5f5f5; } td.name, th.name { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } svg.dot { vertical-align: -2px; }
section { border-top: 2px solid #e0e0e0; } .note { color: #616161; font-size: 0.9em; }
@media print { body { margin: 0; max-width: none; font-size: 11px; }
  section, .charts { break-inside: avoid-page; page-break-inside: avoid; } }
"""


def number(value: Any, spec: str = "{:.3f}") -> str:
    """A number formatted by ``spec``, or an em dash for a missing value."""
    return "—" if value is None else escape(spec.format(value))


def percent(value: Any) -> str:
    return number(value, "{:.2%}")


def table(heads: list[str], rows: list[list[str]], names: int = 1) -> str:
    """A table whose first ``names`` columns are left-aligned text; cells are ready HTML."""
    head = "".join(f'<th class="name">{h}</th>' if i < names else f"<th>{h}</th>"
                   for i, h in enumerate(heads))
    body = "".join("<tr>" + "".join(f'<td class="name">{c}</td>' if i < names else
                                    f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def heading(zh: str, en: str) -> str:
    """Chinese first, English after in grey."""
    return f'{zh} <span class="en">{en}</span>'


__all__ = ["REPORT_STYLE", "heading", "number", "percent", "table"]
