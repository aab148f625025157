"""One applicant at a time: points per feature, the score, and the reasons behind it.

Why a separate path: an online decision scores one applicant given as a mapping, and numpy
costs microseconds per call just to build arrays (DESIGN §7). ``RowScorer`` compiles the
points table into plain Python — sorted split lists for ``bisect``, dicts for categories and
special values, lists of points — so a score is a few dozen bytecodes per feature.

Reason codes follow the "points below maximum" method lenders use for adverse-action
notices: for each feature, how many points the applicant fell short of the best bin the
feature offers; the features with the largest shortfall are the reasons, each named in
Chinese and English. They are computed only when asked (declines, staff on request).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

from xiaowei.engine.models.frame import ModelInputError, category_key
from xiaowei.engine.models.woe import FeatureBins, parse_number

Labels = Mapping[str, tuple[str, str]]


def _number(value: Any) -> float | None:
    """A cell of a numeric feature as float (NaN = missing, ``None`` = garbage)."""
    if isinstance(value, str):
        return parse_number(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if not math.isinf(number) else None


class RowScorer:
    """The compiled points table of a scorecard: scores and explains one row at a time."""

    def __init__(self, bins: Sequence[FeatureBins], points: Sequence[Sequence[float]],
                 labels: Labels | None = None) -> None:
        self._bins = list(bins)
        self._points = [list(p) for p in points]
        labels = labels or {}
        self._labels = [labels.get(b.name, (b.name, b.name)) for b in self._bins]
        self._best = [
            max(p for p, count in zip(pts, b.counts, strict=True) if count > 0)
            for b, pts in zip(self._bins, self._points, strict=True)
        ]
        self._plan = [self._compile(b) for b in self._bins]

    @staticmethod
    def _compile(b: FeatureBins) -> tuple[Any, ...]:
        if b.kind == "numeric":
            specials = {float(s): b.regular + i for i, s in enumerate(b.specials)}
            return (b.name, True, list(b.splits), specials, b.missing_code, b.garbage_code)
        return (b.name, False, None, dict(b.categories), b.missing_code, b.unseen_code)

    def codes(self, row: Mapping[str, Any]) -> list[int]:
        """The bin code of each feature for one applicant; refuses a row lacking a feature."""
        out = []
        for name, numeric, splits, lookup, missing, other in self._plan:
            try:
                value = row[name]
            except KeyError:
                absent = [p[0] for p in self._plan if p[0] not in row]
                raise ModelInputError(f"the row lacks features the model needs: {absent}") from None
            if value is None:
                out.append(missing)
            elif numeric:
                if type(value) is not float and type(value) is not int:
                    value = _number(value)
                    if value is None:
                        out.append(other)  # garbage
                        continue
                if value != value:
                    out.append(missing)
                elif lookup and value in lookup:
                    out.append(lookup[value])
                else:
                    out.append(bisect_right(splits, value))
            else:
                out.append(lookup.get(value if type(value) is str else category_key(value), other))
        return out

    def score(self, row: Mapping[str, Any]) -> float:
        """The applicant's points (sum over features)."""
        total = 0.0
        for pts, code in zip(self._points, self.codes(row), strict=True):
            total += pts[code]
        return total

    def explain(self, row: Mapping[str, Any], top: int = 3) -> tuple[float, list[dict[str, Any]]]:
        """The score and the ``top`` features whose points fell furthest below their best."""
        codes = self.codes(row)
        score = 0.0
        for pts, code in zip(self._points, codes, strict=True):
            score += pts[code]
        return score, self.reasons_from_codes(codes, top)

    def reasons_from_codes(self, codes: Sequence[int], top: int) -> list[dict[str, Any]]:
        """Reasons for one row given its bin codes (shared with the table path)."""
        found = []
        for j, code in enumerate(codes):
            points = self._points[j][code]
            shortfall = self._best[j] - points
            if shortfall > 1e-9:
                found.append((shortfall, j, code, points))
        found.sort(key=lambda item: -item[0])
        reasons = []
        for shortfall, j, code, points in found[:top]:
            b = self._bins[j]
            zh, en = self._labels[j]
            reasons.append({
                "feature": b.name,
                "label_zh": zh,
                "label_en": en,
                "bin": b.labels[code],
                "points": points,
                "max_points": self._best[j],
                "shortfall": shortfall,
            })
        return reasons
