"""One column of cells → a function giving the bit mask of rows whose cell the value meets.

Why: evaluating a table cell by cell costs one Python call per cell; a 50-row table would
spend most of its budget on calls. Constant cells are unions of intervals, so the column is
cut at every interval end into elementary regions (each open gap and each end point); each
region's rows are known at load. At run time one ``bisect`` finds the region, or one dict
lookup when every cell is a set of values (categories). Bit ``i`` stands for row ``i``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from xiaowei.engine.strategy.expr.cells import Cell, Interval
from xiaowei.engine.strategy.expr.compiler import Inputs

Getter = Callable[[Inputs], Any]
MaskFn = Callable[[Inputs], int]


def _covers_gap(iv: Interval, below: Any, above: Any, first: bool, last: bool) -> bool:
    """Does ``iv`` contain the open gap between consecutive breakpoints below and above?"""
    low_ok = iv.low is None or (not first and iv.low <= below)
    high_ok = iv.high is None or (not last and iv.high >= above)
    return low_ok and high_ok


def column_mask(getter: Getter, cells: Sequence[Cell], bits: Sequence[int]) -> MaskFn | None:
    """Mask function for one column (None when every cell accepts anything).

    ``bits[i]`` is the bit assigned to row ``i`` (rows may be reordered, e.g. by priority).
    """
    any_mask = 0
    null_mask = 0
    static: list[tuple[Cell, int]] = []
    dynamic: list[tuple[Callable[[Any, Inputs], bool], int]] = []
    for cell, bit in zip(cells, bits, strict=True):
        flag = 1 << bit
        if cell.any:
            any_mask |= flag
            null_mask |= flag
            continue
        if cell.null and not cell.negated:
            null_mask |= flag
        if cell.intervals is None:
            dynamic.append((cell.predicate, flag))
        else:
            static.append((cell, flag))
    if not static and not dynamic:
        return None
    points = {end for cell, _ in static for iv in cell.intervals or ()
              for end in (iv.low, iv.high) if end is not None}
    breaks = sorted(points)
    n = len(breaks)
    at_point = [any_mask] * n
    in_gap = [any_mask] * (n + 1)
    for cell, flag in static:
        ivs = cell.intervals or ()
        for i, p in enumerate(breaks):
            if any(iv.contains(p) for iv in ivs) != cell.negated:
                at_point[i] |= flag
        for i in range(n + 1):
            below = breaks[i - 1] if i else None
            above = breaks[i] if i < n else None
            if any(_covers_gap(iv, below, above, i == 0, i == n) for iv in ivs) != cell.negated:
                in_gap[i] |= flag
    if all(iv.low == iv.high for cell, _ in static for iv in cell.intervals or ()) \
            and len(set(in_gap)) == 1:
        return _by_value(getter, dict(zip(breaks, at_point, strict=True)), in_gap[0],
                         null_mask, dynamic)
    return _by_region(getter, breaks, at_point, in_gap, null_mask, dynamic)


def _by_value(getter: Getter, masks: dict[Any, int], other: int, null_mask: int,
              dynamic: list[tuple[Callable[[Any, Inputs], bool], int]]) -> MaskFn:
    masks = {**masks, None: null_mask}
    lookup = masks.get
    if not dynamic:
        return lambda inputs: lookup(getter(inputs), other)

    def mask(inputs: Inputs) -> int:
        v = getter(inputs)
        m = lookup(v, other)
        for test, flag in dynamic:
            if test(v, inputs):
                m |= flag
        return m
    return mask


def _by_region(getter: Getter, breaks: list[Any], at_point: list[int], in_gap: list[int],
               null_mask: int, dynamic: list[tuple[Callable[[Any, Inputs], bool], int]]
               ) -> MaskFn:
    n = len(breaks)

    def region(v: Any) -> int:
        i = bisect_left(breaks, v)
        return at_point[i] if i < n and breaks[i] == v else in_gap[i]

    if not dynamic:
        def static_mask(inputs: Inputs) -> int:
            v = getter(inputs)
            if v is None:
                return null_mask
            i = bisect_left(breaks, v)
            return at_point[i] if i < n and breaks[i] == v else in_gap[i]
        return static_mask

    def mask(inputs: Inputs) -> int:
        v = getter(inputs)
        if v is None:
            return null_mask
        m = region(v)
        for test, flag in dynamic:
            if test(v, inputs):
                m |= flag
        return m
    return mask
