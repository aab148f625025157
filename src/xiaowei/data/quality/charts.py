"""Inline SVG for the HTML report: per-column bars and the traffic-light dot.

Why hand-written SVG: bank intranets are offline and review pages are printed and filed, so
the report carries its pictures inside itself — no chart library, no script, no font or
image fetched from anywhere. Every text that comes from data is escaped here.
"""

from __future__ import annotations

from html import escape

from xiaowei.data.quality.model import ColumnQuality
from xiaowei.data.quality.rules import LIGHT_COLOUR, LIGHT_ZH

COMPLETENESS_COLOUR = "#1565c0"
VALIDITY_COLOUR = "#6a1b9a"
_LABEL_W, _BAR_W, _ROW_H, _TOP = 190, 300, 34, 26
_WIDTH = _LABEL_W + 2 * (_BAR_W + 70)


def percent(value: float | None) -> str:
    """A share as a percentage a person reads (—  where nothing was measured)."""
    return "—" if value is None else f"{value * 100:.1f}%"


def light_dot(light: str | None, size: int = 14) -> str:
    """A coloured dot with its name as a title (readable when printed in grey)."""
    colour = LIGHT_COLOUR.get(light or "", "#9e9e9e")
    label = f"{LIGHT_ZH.get(light or '', '无')} {light or 'none'}"
    r = size / 2
    return (f'<svg class="dot" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
            f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
            f'<circle cx="{r}" cy="{r}" r="{r - 1}" fill="{colour}" stroke="#333" '
            f'stroke-width="0.5"/></svg>')


def _bar(x: int, y: int, value: float | None, colour: str) -> str:
    frame = (f'<rect x="{x}" y="{y}" width="{_BAR_W}" height="12" fill="#eeeeee" '
             f'stroke="#bdbdbd" stroke-width="0.5"/>')
    if value is None:
        return frame + (f'<text x="{x + _BAR_W + 6}" y="{y + 10}" class="na">'
                        f'无规则 no rule</text>')
    width = round(max(0.0, min(1.0, value)) * _BAR_W, 1)
    return (frame + f'<rect x="{x}" y="{y}" width="{width}" height="12" fill="{colour}"/>'
            f'<text x="{x + _BAR_W + 6}" y="{y + 10}">{escape(percent(value))}</text>')


def column_bars(source: str, columns: list[ColumnQuality]) -> str:
    """Two bars per column — completeness and validity — in one SVG."""
    height = _TOP + _ROW_H * len(columns) + 4
    x_complete = _LABEL_W
    x_valid = _LABEL_W + _BAR_W + 70
    parts = [
        f'<svg class="bars" viewBox="0 0 {_WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(source)} 字段质量 column quality">',
        f"<title>{escape(source)} 各字段完整性与有效性 completeness and validity per column"
        "</title>",
        f'<text x="{x_complete}" y="14" class="head">完整性 completeness</text>',
        f'<text x="{x_valid}" y="14" class="head">有效性 validity</text>',
    ]
    for i, column in enumerate(columns):
        y = _TOP + i * _ROW_H
        label = column.name + (" *" if column.required else "")
        parts.append(f'<text x="0" y="{y + 10}" class="label">{escape(label)}</text>')
        parts.append(_bar(x_complete, y, column.completeness, COMPLETENESS_COLOUR))
        parts.append(_bar(x_valid, y, column.validity if column.checked else None,
                          VALIDITY_COLOUR))
        if column.invalid:
            parts.append(f'<text x="{x_valid}" y="{y + 26}" class="note">'
                         f"{escape(f'{column.invalid:,} 无效 invalid')}</text>")
    parts.append("</svg>")
    return "".join(parts)
