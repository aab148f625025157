"""Inline SVG charts: well-formed, escaped, self-contained, and readable in grey."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.reports.svg import DASHES, Series, bar_chart, histogram, line_chart, nice_ticks

EVIL = '<b>x</b> & "q"'


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed
    assert root.tag == "svg"
    return root


def _data_rects(root: ET.Element) -> list[ET.Element]:
    """Bars are the rects that carry a tooltip (frames and legend swatches do not)."""
    return [r for r in root.iter("rect") if r.find("title") is not None]


def test_line_chart_has_a_dash_pattern_per_series_and_the_diagonal() -> None:
    series = [Series(f"s{i}", [0, 0.5, 1], [0, 0.2 * i, 1]) for i in range(4)]
    root = _parse(line_chart(series, title="ROC", x_range=(0, 1), y_range=(0, 1),
                             diagonal=True))
    dashes = [p.get("stroke-dasharray") for p in root.iter("path") if p.get("fill") == "none"]
    assert len(dashes) == 4
    assert len(set(dashes)) == 4 and set(dashes) - {None} <= set(DASHES)
    lines = [(line.get("x1"), line.get("y2")) for line in root.iter("line")
             if line.get("stroke-dasharray") == "3 3"]
    assert len(lines) == 1  # the y = x reference
    assert all(name in ET.tostring(root, encoding="unicode") for name in ("s0", "s3"))


def test_every_text_is_escaped() -> None:
    svg = line_chart([Series(EVIL, [0, 1], [0, 1])], title=EVIL, x_label=EVIL, y_label=EVIL)
    svg += bar_chart([EVIL, "b"], [1.0, -1.0], title=EVIL, x_label=EVIL, y_label=EVIL)
    svg += histogram([EVIL], [(EVIL, [1.0]), ("b", [2.0])], title=EVIL, overlay=True)
    assert "<b>" not in svg and '"q"' not in svg
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot;" in svg
    assert "http" not in svg and "<script" not in svg and "href" not in svg


def test_a_missing_value_breaks_the_line() -> None:
    root = _parse(line_chart([Series("a", [0, 1, 2, 3, 4], [1, 2, None, 3, math.nan])],
                             title="t"))
    assert len([p for p in root.iter("path") if p.get("fill") == "none"]) == 1
    root = _parse(line_chart([Series("a", [0, 1, 2, 3, 4], [1, 2, None, 3, 4])], title="t"))
    assert len([p for p in root.iter("path") if p.get("fill") == "none"]) == 2


def test_negative_bars_hang_below_the_zero_line() -> None:
    root = _parse(bar_chart(["low", "mid", "high"], [-0.6, 0.05, 0.7], title="WOE"))
    bars = _data_rects(root)
    assert len(bars) == 3
    zero = [float(line.get("y1")) for line in root.iter("line")
            if line.get("stroke-width") == "1" and line.get("y1") == line.get("y2")][-1]
    negative, positive = bars[0], bars[2]
    assert float(negative.get("y")) == pytest.approx(zero)
    assert float(positive.get("y")) + float(positive.get("height")) == pytest.approx(zero)
    assert float(negative.get("height")) > 0


def test_none_draws_no_bar() -> None:
    root = _parse(bar_chart(["a", "b", "c"], [0.1, None, 0.3], title="rate"))
    assert len(_data_rects(root)) == 2


def test_grouped_histogram_draws_each_sample_in_each_bin_with_its_own_hatch() -> None:
    svg = histogram(["1", "2", "3"], [("dev", [0.2, 0.5, 0.3]), ("recent", [0.3, 0.4, 0.3])],
                    title="dist")
    root = _parse(svg)
    bars = _data_rects(root)
    assert len(bars) == 6
    fills = {b.get("fill") for b in bars}
    assert len(fills) == 2 and any(f.startswith("url(#") for f in fills)
    pattern_ids = {p.get("id") for p in root.iter("pattern")}
    assert {f[5:-1] for f in fills if f.startswith("url(#")} <= pattern_ids


def test_two_charts_on_one_page_do_not_share_pattern_ids() -> None:
    first = _parse(histogram(["1"], [("a", [1.0]), ("b", [2.0])], title="one"))
    second = _parse(histogram(["1"], [("a", [1.0]), ("b", [3.0])], title="two"))
    ids = lambda root: {p.get("id") for p in root.iter("pattern")}  # noqa: E731
    assert ids(first) and not ids(first) & ids(second)


def test_overlaid_histogram_draws_a_dashed_outline_per_sample() -> None:
    root = _parse(histogram(["1", "2"], [("dev", [0.4, 0.6]), ("recent", [0.5, 0.5])],
                            title="dist", overlay=True))
    outlines = [p for p in root.iter("path") if p.find("title") is not None]
    assert [p.find("title").text for p in outlines] == ["dev", "recent"]
    assert outlines[0].get("stroke-dasharray") is None
    assert outlines[1].get("stroke-dasharray") == DASHES[1]


def test_long_labels_are_shortened_on_the_axis_but_kept_in_the_tooltip() -> None:
    label = "注册资本（万元）registered capital in ten-thousands"
    svg = bar_chart([label, "b"], [1.0, 2.0], title="t")
    assert label in svg  # in the bar's <title>
    axis = [t.text for t in _parse(svg).iter("text") if t.text and t.text.endswith("…")]
    assert axis and len(axis[0]) <= 16


@pytest.mark.parametrize(("call", "message"), [
    (lambda: line_chart([], title="t"), "series"),
    (lambda: line_chart([Series("a", [0, 1], [1])], title="t"), "'a'"),
    (lambda: line_chart([Series("a", [0, math.nan], [1, 2])], title="t"), "finite"),
    (lambda: line_chart([Series("a", [0, 1], [1, 2])], title="t", x_range=(1, 0)), "range"),
    (lambda: bar_chart(["a", "b"], [1.0], title="t"), "2 bins"),
    (lambda: histogram(["a"], [], title="t"), "series"),
])
def test_bad_chart_input_is_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@given(st.floats(-1e6, 1e6), st.floats(0, 1e6))
def test_nice_ticks_cover_the_range_in_round_steps(low: float, span: float) -> None:
    high = low + span
    ticks = nice_ticks(low, high)
    assert 2 <= len(ticks) <= 12
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    step = steps[0]
    assert ticks[0] <= low + 1e-6 * step and ticks[-1] >= high - 1e-6 * step  # float noise
    assert all(math.isclose(s, step, rel_tol=1e-6) for s in steps)
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-12)
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))
