"""Inline SVG charts — lines, bars, histograms — for pages that must fetch nothing.

Why hand-written: bank intranets are offline and reports are mailed, archived and printed in
grey for committee minutes, so every page carries its pictures as inline ``<svg>`` — no chart
library, no script, no web font. Each series has a colour *and* a dash pattern (lines) or a
hatch (bars) so a grey print still tells them apart. Every text that reaches the SVG —
titles, labels, series names — passes through ``html.escape``; numbers are formatted here.

The output is a string to drop into an HTML5 page; no ``xmlns`` is needed (nor wanted: the
pages promise not to contain a single URL).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DASHES = ("", "7 4", "2 3", "10 3 2 3", "14 5", "4 2 1 2", "1 4")
_HATCHES = ("", "M0,8 L8,0", "M0,0 L8,8", "M4,0 L4,8", "M0,4 L8,4", "M0,8 L8,0 M0,0 L8,8")
_FONT = 'font-size="11" fill="#212121"'
_GRID = "#e0e0e0"
_AXIS = "#616161"


@dataclass(frozen=True)
class Series:
    """One named line: x and y of equal length; a y of None or NaN breaks the line."""

    name: str
    x: Sequence[float]
    y: Sequence[float | None]
    markers: bool | None = None  # None: markers when the line has at most 30 points


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"axis range must be finite, got {low!r}..{high!r}")
    if high - low <= max(1e-9 * max(abs(low), abs(high)), 1e-12):  # one value: centre it
        half = abs(low) / 2 if abs(low) > 1e-6 else 0.5
        low, high = low - half, high + half
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    digits = max(0, 3 - math.floor(math.log10(step)))  # drop float noise (0.30000000000000004)
    return [float(round(k * step, digits)) for k in range(first, last + 1)]


def _fmt(value: float, spec: str) -> str:
    return escape(spec.format(value))


def _chart_id(*parts: object) -> str:
    """A stable id prefix, so several charts on one page never share pattern ids."""
    return "xw" + hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


class _Frame:
    """Plot area with its scales, grid, axis ticks, axis labels and title."""

    def __init__(self, title: str, width: int, height: int, x_ticks: list[float],
                 y_ticks: list[float], x_label: str, y_label: str, bottom: int) -> None:
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = 62, width - 14, 30, height - bottom
        self.x_lo, self.x_hi = x_ticks[0], x_ticks[-1]
        self.y_lo, self.y_hi = y_ticks[0], y_ticks[-1]
        self.title, self.x_label, self.y_label = title, x_label, y_label
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def x(self, value: float) -> float:
        span = (self.x_hi - self.x_lo) or 1.0
        return round(self.left + (value - self.x_lo) / span * (self.right - self.left), 2)

    def y(self, value: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return round(self.bottom - (value - self.y_lo) / span * (self.bottom - self.top), 2)

    def open(self, x_format: str | None, y_format: str) -> list[str]:
        label = escape(self.title)
        parts = [f'<svg class="chart" viewBox="0 0 {self.width} {self.height}" '
                 f'width="{self.width}" height="{self.height}" role="img" '
                 f'aria-label="{label}" style="max-width:100%;height:auto">',
                 f"<title>{label}</title>",
                 f'<text x="{self.width / 2}" y="16" text-anchor="middle" font-size="13" '
                 f'font-weight="bold" fill="#212121">{label}</text>']
        for tick in self.y_ticks:
            y = self.y(tick)
            parts.append(f'<line x1="{self.left}" y1="{y}" x2="{self.right}" y2="{y}" '
                         f'stroke="{_GRID}" stroke-width="0.6"/>')
            parts.append(f'<text x="{self.left - 5}" y="{y + 4}" text-anchor="end" {_FONT}>'
                         f"{_fmt(tick, y_format)}</text>")
        if x_format is not None:
            for tick in self.x_ticks:
                x = self.x(tick)
                parts.append(f'<line x1="{x}" y1="{self.top}" x2="{x}" y2="{self.bottom}" '
                             f'stroke="{_GRID}" stroke-width="0.6"/>')
                parts.append(f'<text x="{x}" y="{self.bottom + 15}" text-anchor="middle" '
                             f"{_FONT}>{_fmt(tick, x_format)}</text>")
        parts.append(f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" '
                     f'height="{self.bottom - self.top}" fill="none" stroke="{_AXIS}" '
                     'stroke-width="0.8"/>')
        middle = (self.top + self.bottom) / 2
        parts.append(f'<text x="14" y="{middle}" text-anchor="middle" {_FONT} '
                     f'transform="rotate(-90 14 {middle})">{escape(self.y_label)}</text>')
        return parts

    def x_axis_label(self, y: float) -> str:
        return (f'<text x="{(self.left + self.right) / 2}" y="{y}" text-anchor="middle" '
                f"{_FONT}>{escape(self.x_label)}</text>")


def _marker(kind: int, x: float, y: float, colour: str) -> str:
    shapes = (
        f'<circle cx="{x}" cy="{y}" r="3"/>',
        f'<rect x="{x - 3}" y="{y - 3}" width="6" height="6"/>',
        f'<path d="M{x},{y - 3.5} L{x + 3.5},{y + 3} L{x - 3.5},{y + 3} Z"/>',
        f'<path d="M{x},{y - 4} L{x + 4},{y} L{x},{y + 4} L{x - 4},{y} Z"/>',
    )
    shape = shapes[kind % len(shapes)]
    return shape.replace("/>", f' fill="{"white" if kind >= len(shapes) else colour}" '
                               f'stroke="{colour}" stroke-width="1"/>')


def _legend(names: Sequence[str], y: float, width: int, kind: str, prefix: str) -> list[str]:
    """Legend entries in rows under the plot: a line sample (or hatched box) and the name."""
    parts, x, row = [], 62.0, 0
    for i, name in enumerate(names):
        colour, text = PALETTE[i % len(PALETTE)], escape(name)
        item_w = 34 + 7 * len(name) + 4 * sum(1 for c in name if ord(c) > 0x2e80)
        if x + item_w > width - 10 and x > 62:
            x, row = 62.0, row + 1
        top = y + row * 16
        if kind == "line":
            dash = f' stroke-dasharray="{DASHES[i % len(DASHES)]}"' if i % len(DASHES) else ""
            parts.append(f'<line x1="{x}" y1="{top}" x2="{x + 24}" y2="{top}" '
                         f'stroke="{colour}" stroke-width="2"{dash}/>')
            parts.append(_marker(i, x + 12, top, colour))
        else:
            parts.append(f'<rect x="{x}" y="{top - 5}" width="22" height="10" '
                         f'fill="{_fill(i, prefix)}" stroke="{colour}"/>')
        parts.append(f'<text x="{x + 28}" y="{top + 4}" {_FONT}>{text}</text>')
        x += item_w
    return parts


def _legend_rows(names: Sequence[str], width: int) -> int:
    rows, x = 1, 62.0
    for name in names:
        item_w = 34 + 7 * len(name) + 4 * sum(1 for c in name if ord(c) > 0x2e80)
        if x + item_w > width - 10 and x > 62:
            x, rows = 62.0, rows + 1
        x += item_w
    return rows if names else 0


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _range(values: Sequence[float], given: tuple[float, float] | None,
           include_zero: bool = False) -> list[float]:
    """Round ticks covering the data (or at least ``given``, widened to round values)."""
    if given is not None:
        low, high = given
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"range must be two finite numbers, low < high; got {given!r}")
        return nice_ticks(low, high)
    finite = [v for v in values if _finite(v)] or [0.0, 1.0]
    low, high = min(finite), max(finite)
    if include_zero:  # bars: start at zero and leave room for the value printed on a bar
        pad = 0.06 * (max(high, 0.0) - min(low, 0.0))
        low, high = min(low - pad, 0.0) if low < 0 else 0.0, max(high + pad, 0.0)
    return nice_ticks(low, high)


def line_chart(series: Sequence[Series], *, title: str, x_label: str = "",
               y_label: str = "", x_range: tuple[float, float] | None = None,
               y_range: tuple[float, float] | None = None, diagonal: bool = False,
               x_format: str = "{:.2g}", y_format: str = "{:.2g}", width: int = 460,
               height: int = 340) -> str:
    """Several lines on shared axes, with a legend; ``diagonal`` draws the y = x reference
    (the random model on a ROC or gains chart, perfect calibration on a calibration chart)."""
    if not series:
        raise ValueError("series must hold at least one line")
    for s in series:
        if len(s.x) != len(s.y):
            raise ValueError(f"series {s.name!r}: x has {len(s.x)} points, y {len(s.y)}")
        if not all(_finite(v) for v in s.x):
            raise ValueError(f"series {s.name!r}: x must be finite numbers")
    legend_rows = _legend_rows([s.name for s in series], width)
    frame = _Frame(title, width, height,
                   _range([v for s in series for v in s.x], x_range),
                   _range([v for s in series for v in s.y if v is not None], y_range),
                   x_label, y_label, bottom=36 + 16 * legend_rows)
    parts = frame.open(x_format, y_format)
    if diagonal:
        lo = max(frame.x_lo, frame.y_lo)
        hi = min(frame.x_hi, frame.y_hi)
        if lo < hi:
            parts.append(f'<line x1="{frame.x(lo)}" y1="{frame.y(lo)}" x2="{frame.x(hi)}" '
                         f'y2="{frame.y(hi)}" stroke="#9e9e9e" stroke-width="1" '
                         'stroke-dasharray="3 3"/>')
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        dash = f' stroke-dasharray="{DASHES[i % len(DASHES)]}"' if i % len(DASHES) else ""
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in zip(s.x, s.y, strict=True):
            if y is not None and math.isfinite(y):
                segments[-1].append((frame.x(x), frame.y(y)))
            elif segments[-1]:
                segments.append([])
        parts.append(f"<g><title>{escape(s.name)}</title>")
        for points in segments:
            if len(points) > 1:
                d = "M" + " L".join(f"{x},{y}" for x, y in points)
                parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"'
                             f'{dash} stroke-linejoin="round"/>')
        show = s.markers if s.markers is not None else len(s.x) <= 30
        if show:
            parts.extend(_marker(i, x, y, colour) for points in segments for x, y in points)
        parts.append("</g>")
    parts.append(frame.x_axis_label(frame.bottom + 30))
    parts.extend(_legend([s.name for s in series], frame.bottom + 46, width, "line", ""))
    parts.append("</svg>")
    return "".join(parts)


def _fill(i: int, prefix: str) -> str:
    return PALETTE[i % len(PALETTE)] if i % len(_HATCHES) == 0 else f"url(#{prefix}h{i})"


def _hatch_defs(count: int, prefix: str) -> str:
    defs = []
    for i in range(count):
        if i % len(_HATCHES):
            colour = PALETTE[i % len(PALETTE)]
            defs.append(f'<pattern id="{prefix}h{i}" width="8" height="8" '
                        'patternUnits="userSpaceOnUse"><rect width="8" height="8" '
                        f'fill="{colour}" fill-opacity="0.18"/><path '
                        f'd="{_HATCHES[i % len(_HATCHES)]}" stroke="{colour}" '
                        'stroke-width="1.4"/></pattern>')
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _short(label: str, size: int = 16) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str,
              x_label: str = "", y_label: str = "", value_format: str = "{:.2g}",
              y_range: tuple[float, float] | None = None, width: int = 460,
              height: int = 300) -> str:
    """Vertical bars from zero (negative values hang below it: WOE, contributions).

    Long labels are shortened on the axis and given in full in each bar's tooltip; a value of
    None draws no bar (an empty bin's event rate).
    """
    return histogram(labels, [(y_label or title, values)], title=title, x_label=x_label,
                     y_label=y_label, value_format=value_format, y_range=y_range,
                     width=width, height=height, legend=False)


def histogram(bins: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
              title: str, x_label: str = "", y_label: str = "", value_format: str = "{:.2g}",
              y_range: tuple[float, float] | None = None, overlay: bool = False,
              width: int = 520, height: int = 320, legend: bool = True) -> str:
    """Bars per bin for one or several samples (dev vs recent): side by side, or with
    ``overlay`` as stepped outlines on one bar each; each series its own colour and hatch."""
    if not series:
        raise ValueError("series must hold at least one sample")
    for name, heights in series:
        if len(heights) != len(bins):
            raise ValueError(f"series {name!r} has {len(heights)} values for {len(bins)} bins")
    labels = [str(b) for b in bins]
    prefix = _chart_id(title, labels, [list(h) for _, h in series])
    names = [name for name, _ in series]
    rotate = len(labels) > 8 or max((len(b) for b in labels), default=0) > 8
    axis_h = (14 + 5.5 * max((len(_short(b)) for b in labels), default=0)) if rotate else 20
    legend_rows = _legend_rows(names, width) if legend else 0
    frame = _Frame(title, width, height,
                   [0.0, float(max(len(labels), 1))],
                   _range([v for _, h in series for v in h if v is not None], y_range,
                          include_zero=True),
                   x_label, y_label, bottom=int(axis_h + 18 + 16 * legend_rows))
    parts = frame.open(None, value_format)
    parts.append(_hatch_defs(len(series), prefix))
    zero = frame.y(min(max(0.0, frame.y_lo), frame.y_hi))
    slot = (frame.right - frame.left) / max(len(labels), 1)
    groups = 1 if overlay else len(series)
    bar_w = slot * 0.8 / groups
    for i, label in enumerate(labels):
        centre = frame.left + slot * (i + 0.5)
        text = escape(_short(label))
        if rotate:
            parts.append(f'<text x="{centre + 3}" y="{frame.bottom + 10}" text-anchor="end" '
                         f'{_FONT} transform="rotate(-40 {centre + 3} {frame.bottom + 10})">'
                         f"{text}</text>")
        else:
            parts.append(f'<text x="{centre}" y="{frame.bottom + 15}" text-anchor="middle" '
                         f"{_FONT}>{text}</text>")
    for k, (name, heights) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        steps = []
        for i, value in enumerate(heights):
            if value is None or not math.isfinite(value):
                continue
            x0 = frame.left + slot * i + slot * 0.1 + (0 if overlay else bar_w * k)
            y = frame.y(value)
            tip = escape(f"{name} · {labels[i]}: {value_format.format(value)}")
            if overlay:
                steps.append((round(x0, 2), round(x0 + bar_w, 2), y))
                parts.append(f'<rect x="{round(x0, 2)}" y="{min(y, zero)}" '
                             f'width="{round(bar_w, 2)}" height="{round(abs(zero - y), 2)}" '
                             f'fill="{colour}" fill-opacity="0.12"><title>{tip}</title></rect>')
                continue
            parts.append(f'<rect x="{round(x0, 2)}" y="{min(y, zero)}" '
                         f'width="{round(bar_w, 2)}" height="{round(abs(zero - y), 2)}" '
                         f'fill="{_fill(k, prefix)}" stroke="{colour}" stroke-width="0.8">'
                         f"<title>{tip}</title></rect>")
            if len(labels) * groups <= 16:
                ty = y - 3 if value >= 0 else y + 11
                parts.append(f'<text x="{round(x0 + bar_w / 2, 2)}" y="{ty}" '
                             f'text-anchor="middle" font-size="9" fill="#424242">'
                             f"{_fmt(value, value_format)}</text>")
        if overlay and steps:
            dash = f' stroke-dasharray="{DASHES[k % len(DASHES)]}"' if k % len(DASHES) else ""
            d = "".join(f"M{a},{zero} L{a},{y} L{b},{y} L{b},{zero} " for a, b, y in steps)
            parts.append(f'<path d="{d.strip()}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.8"{dash}><title>{escape(name)}</title></path>')
    parts.append(f'<line x1="{frame.left}" y1="{zero}" x2="{frame.right}" y2="{zero}" '
                 f'stroke="{_AXIS}" stroke-width="1"/>')
    parts.append(frame.x_axis_label(frame.bottom + axis_h + 6))
    if legend:
        kind = "line" if overlay else "bar"
        parts.extend(_legend(names, frame.bottom + axis_h + 22, width, kind, prefix))
    parts.append("</svg>")
    return "".join(parts)
