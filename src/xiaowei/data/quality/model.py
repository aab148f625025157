"""The data-quality report as data: per source, its columns, dimensions, score and light.

Why scores per dimension and not one number: a data steward acts on *which* promise a
source broke — empty required fields call the provider, invalid identifiers call the
standardisation rules, late rows call the interface schedule. The source's score is the
plain mean of the dimensions that could be measured, so anyone can recompute it.

Completeness scores the *weakest* required column, not the average: a required column that
arrives empty is a broken delivery even when the other columns are full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from xiaowei.data.quality.rules import THRESHOLDS, Light, Thresholds

DIMENSIONS = ("completeness", "validity", "uniqueness", "freshness", "linkage", "quarantine")
DIMENSION_ZH = {"completeness": "完整性", "validity": "有效性", "uniqueness": "唯一性",
                "freshness": "及时性", "linkage": "关联率", "quarantine": "隔离"}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass
class ColumnQuality:
    """One column: how often it has a value, and how often that value is valid."""

    name: str
    required: bool
    rows: int
    present: int
    checked: bool = False  # a validity rule applies to this column
    invalid: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)  # most frequent first
    missing_from_source: bool = False

    @property
    def completeness(self) -> float | None:
        return _share(self.present, self.rows)

    @property
    def validity(self) -> float | None:
        if not self.checked or not self.present:
            return None
        return 1 - self.invalid / self.present

    def to_json(self) -> dict[str, Any]:
        return {"required": self.required, "present": self.present,
                "completeness": _r(self.completeness), "checked": self.checked,
                "invalid": self.invalid, "validity": _r(self.validity),
                "reasons": [{"reason": r, "rows": n} for r, n in self.reasons],
                "missing_from_source": self.missing_from_source}


@dataclass
class Freshness:
    """How current a source is on the as-of, and how much of it arrived late."""

    latest_business_date: dt.date | None = None  # of the rows known (or begun) by the as-of
    latest_known_at: dt.date | None = None  # by the as-of where a column says when
    age_days: int | None = None  # as-of minus the latest delivery (or period, if derived)
    stale: bool = False
    dated_rows: int = 0  # rows with both a business date and a known_at column
    late_rows: int = 0
    known_after_as_of: int = 0

    @property
    def late_share(self) -> float | None:
        return _share(self.late_rows, self.dated_rows)

    @property
    def score(self) -> float | None:
        if self.stale:
            return 0.0
        if self.late_share is not None:
            return 1 - self.late_share
        return None if self.age_days is None else 1.0

    def to_json(self) -> dict[str, Any]:
        return {"latest_business_date": _iso(self.latest_business_date),
                "latest_known_at": _iso(self.latest_known_at), "age_days": self.age_days,
                "stale": self.stale, "dated_rows": self.dated_rows,
                "late_rows": self.late_rows, "late_share": _r(self.late_share),
                "known_after_as_of": self.known_after_as_of}


@dataclass
class Quarantine:
    """Rows the load refused under the contract; ``recorded`` is False if nobody said."""

    recorded: bool = False
    rows_in: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"recorded": self.recorded, "rows_in": self.rows_in,
                "quarantined": self.quarantined,
                "quarantine_rate": _r(_share(self.quarantined, self.rows_in) or 0.0),
                "reasons": dict(sorted(self.reasons.items(), key=lambda kv: -kv[1]))}


@dataclass
class SourceQuality:
    """Everything the report says about one raw source."""

    source: str
    title: str
    contract_version: int
    rows: int
    columns: list[ColumnQuality]
    unique_key: list[str]
    duplicate_keys: int | None
    duplicate_rows: int
    freshness: Freshness
    quarantine: Quarantine
    governed_table: str | None = None
    unlinked: int | None = None  # raw rows in minus governed rows out
    thresholds: Thresholds = THRESHOLDS

    @property
    def required_cells(self) -> float | None:
        """Share of required cells with a value, over all required columns."""
        req = [c for c in self.columns if c.required]
        return _share(sum(c.present for c in req), sum(c.rows for c in req))

    @property
    def worst_required(self) -> ColumnQuality | None:
        req = [c for c in self.columns if c.required and c.completeness is not None]
        return min(req, key=lambda c: (c.completeness, c.name)) if req else None

    @property
    def validity(self) -> float | None:
        checked = [c for c in self.columns if c.checked]
        present = sum(c.present for c in checked)
        return None if not present else 1 - sum(c.invalid for c in checked) / present

    @property
    def dimensions(self) -> dict[str, float | None]:
        worst = self.worst_required
        duplicates = self.duplicate_keys if self.duplicate_keys is not None else (
            self.duplicate_rows)
        q = self.quarantine
        return {
            "completeness": worst.completeness if worst else None,
            "validity": self.validity,
            "uniqueness": None if not self.rows else 1 - duplicates / self.rows,
            "freshness": self.freshness.score,
            "linkage": None if self.unlinked is None or not self.rows
            else 1 - max(self.unlinked, 0) / self.rows,
            "quarantine": 1 - q.quarantined / q.rows_in if q.recorded and q.rows_in else None,
        }

    @property
    def score(self) -> float:
        """The mean of the measured dimensions; a source that delivered nothing scores 0."""
        measured = [v for v in self.dimensions.values() if v is not None]
        return sum(measured) / len(measured) if self.rows and measured else 0.0

    @property
    def light(self) -> Light:
        light = self.thresholds.light(self.score)
        assert light is not None
        return light

    def top_reasons(self) -> list[tuple[str, str, int]]:
        """(column, reason, rows) over all columns, most frequent first."""
        every = [(c.name, r, n) for c in self.columns for r, n in c.reasons]
        every.sort(key=lambda item: (-item[2], item[0], item[1]))
        return every[: self.thresholds.top_reasons]

    def to_json(self) -> dict[str, Any]:
        worst = self.worst_required
        return {
            "title": self.title, "contract_version": self.contract_version,
            "rows": self.rows, "score": _r(self.score), "light": self.light,
            "dimensions": {k: _r(v) for k, v in self.dimensions.items()},
            "completeness": {"required_cells": _r(self.required_cells),
                             "worst_required_column": worst.name if worst else None},
            "validity": {"share": _r(self.validity)},
            "top_reasons": [{"column": c, "reason": r, "rows": n}
                            for c, r, n in self.top_reasons()],
            "uniqueness": {"unique_key": self.unique_key,
                           "duplicate_keys": self.duplicate_keys,
                           "duplicate_rows": self.duplicate_rows},
            "freshness": self.freshness.to_json(),
            "quarantine": self.quarantine.to_json(),
            "linkage": {"governed_table": self.governed_table, "unlinked": self.unlinked},
            "columns": {c.name: c.to_json() for c in self.columns},
        }


@dataclass
class QualityReport:
    """The report over every raw source with a contract, as of one day."""

    as_of: dt.date
    sources: dict[str, SourceQuality]
    thresholds: Thresholds = THRESHOLDS
    seconds: float = 0.0

    @property
    def score(self) -> float | None:
        """Each source counts once: a small source's failure is no less a failure."""
        scores = [s.score for s in self.sources.values()]
        return sum(scores) / len(scores) if scores else None

    @property
    def light(self) -> Light | None:
        return self.thresholds.light(self.score)

    def lights(self) -> dict[str, int]:
        counts = dict.fromkeys(("green", "amber", "red"), 0)
        for source in self.sources.values():
            counts[source.light] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        t = self.thresholds
        return {
            "as_of": self.as_of.isoformat(),
            "sources": {name: s.to_json() for name, s in self.sources.items()},
            "overall": {"score": _r(self.score), "light": self.light, "lights": self.lights(),
                        "sources": len(self.sources),
                        "rows": sum(s.rows for s in self.sources.values()),
                        "seconds": round(self.seconds, 3)},
            "thresholds": {"green": t.green, "amber": t.amber,
                           "late_after_days": t.late_after_days,
                           "stale_after_days": t.stale_after_days},
        }
