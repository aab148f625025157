"""Per source and load: rows in, accepted, quarantined, and the reasons with their counts.

Why a report for every load: governance, audit and the people who own a source need to see
what was refused and why, and the rule in = accepted + quarantined is checked here on every
load rather than trusted.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from xiaowei.data.sources.connector import Connector, SourceRows, concat_rows


@dataclass
class SourceLoadReport:
    """What one load of one source took in, kept and refused (JSON-serialisable)."""

    source: str
    mode: str
    start: dt.date | None = None
    end: dt.date | None = None
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    outside_range: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    extra_columns: list[str] = field(default_factory=list)
    contract_version: int | None = None
    seconds: float = 0.0

    def add(self, rows: SourceRows) -> None:
        """Count one batch (or one online pull) into the report."""
        self.accepted += rows.accepted.num_rows
        self.quarantined += rows.quarantined.num_rows
        self.rows_in += rows.rows_in
        self.outside_range += rows.outside_range
        self.extra_columns = sorted(set(self.extra_columns) | set(rows.extra_columns))
        self.reasons.update(reason_counts(rows.quarantined))

    def check(self) -> None:
        """in = accepted + quarantined, always; a report that breaks it is a bug."""
        if self.rows_in != self.accepted + self.quarantined:
            raise AssertionError(f"{self.source}: {self.rows_in} in but {self.accepted} "
                                 f"accepted + {self.quarantined} quarantined")

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "mode": self.mode,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "rows_in": self.rows_in, "accepted": self.accepted,
            "quarantined": self.quarantined, "outside_range": self.outside_range,
            "quarantine_rate": round(self.quarantine_rate, 6),
            "reasons": dict(self.reasons.most_common()),
            "extra_columns": list(self.extra_columns),
            "contract_version": self.contract_version, "seconds": round(self.seconds, 3)}


def reason_counts(quarantined: pa.Table) -> Counter[str]:
    """'column: reason' → rows ('row: reason' where no column could be read)."""
    if quarantined.num_rows == 0:
        return Counter()
    grouped = quarantined.group_by(["column", "reason"], use_threads=False).aggregate(
        [([], "count_all")])
    counts: Counter[str] = Counter()
    for item in grouped.to_pylist():
        counts[f"{item['column'] or 'row'}: {item['reason']}"] += item["count_all"]
    return counts


@dataclass
class SourceLoad:
    """A whole bulk load held in memory: for tests, demos and small sources."""

    rows: SourceRows
    report: SourceLoadReport


def load_source(connector: Connector, start: dt.date | None = None,
                end: dt.date | None = None) -> SourceLoad:
    """Run a bulk load to the end, gather its rows, and check in = accepted + quarantined."""
    began = time.perf_counter()
    report = SourceLoadReport(connector.name, "bulk", start, end,
                              contract_version=connector.contract.version)
    parts = []
    for rows in connector.bulk(start, end):
        report.add(rows)
        parts.append(rows)
    report.seconds = time.perf_counter() - began
    report.check()
    return SourceLoad(concat_rows(connector.contract, parts), report)


def online_report(connector: Connector, rows: SourceRows) -> SourceLoadReport:
    """The report of one online pull (same counts, mode 'online')."""
    report = SourceLoadReport(connector.name, "online",
                              contract_version=connector.contract.version)
    report.add(rows)
    report.check()
    return report

