"""What the strategy store hands out: a version's record, its audit events, a submission.

Why frozen dataclasses rather than ORM rows: callers (servers, the CLI, pages) must not change
the store by changing an object they were given, nor need an open session to read one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from xiaowei.store.tables import StrategyEvent, StrategyVersion
from xiaowei.strategies.lifecycle import StrategyStatus


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class StrategyRecord:
    """What the store knows about one pack version, including its files' text."""

    name: str
    version: int
    status: StrategyStatus
    content_hash: str
    label: str
    main_file: str
    files: dict[str, str]
    source_path: str | None
    submitted_by: str
    submitted_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None

    @property
    def ref(self) -> str:
        """``name@version``, the exact reference of this version."""
        return f"{self.name}@{self.version}"

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash (``Pack.version``)."""
        return self.content_hash[:12]

    @classmethod
    def from_row(cls, row: StrategyVersion) -> StrategyRecord:
        return cls(
            name=row.name, version=row.version, status=StrategyStatus(row.status),
            content_hash=row.content_hash, label=row.label, main_file=row.main_file,
            files=dict(row.files), source_path=row.source_path,
            submitted_by=row.submitted_by, submitted_at=row.submitted_at,
            approved_by=row.approved_by, approved_at=row.approved_at,
        )

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (instants in ISO-8601 UTC; file names, not text).

        Keys: name, version, ref, status, status_zh, content_hash, pack_version, label,
        main_file, files (sorted names), source_path, submitted_by, submitted_at,
        approved_by, approved_at.
        """
        return {
            "name": self.name, "version": self.version, "ref": self.ref,
            "status": str(self.status), "status_zh": self.status.zh,
            "content_hash": self.content_hash, "pack_version": self.short_hash,
            "label": self.label, "main_file": self.main_file, "files": sorted(self.files),
            "source_path": self.source_path, "submitted_by": self.submitted_by,
            "submitted_at": _iso(self.submitted_at), "approved_by": self.approved_by,
            "approved_at": _iso(self.approved_at),
        }


@dataclass(frozen=True)
class LifecycleEvent:
    """One audit row: ``actor`` moved ``name@version`` from ``from_status`` to ``to_status``;
    ``from_status`` is ``None`` for the submission itself."""

    name: str
    version: int
    from_status: StrategyStatus | None
    to_status: StrategyStatus
    actor: str
    occurred_at: dt.datetime
    note: str | None

    @classmethod
    def from_row(cls, row: StrategyEvent) -> LifecycleEvent:
        return cls(
            name=row.name, version=row.version,
            from_status=None if row.from_status is None else StrategyStatus(row.from_status),
            to_status=StrategyStatus(row.to_status), actor=row.actor,
            occurred_at=row.occurred_at, note=row.note,
        )

    def to_json(self) -> dict[str, Any]:
        """Keys: ref, from, to, by, at, note."""
        return {
            "ref": f"{self.name}@{self.version}",
            "from": None if self.from_status is None else str(self.from_status),
            "to": str(self.to_status), "by": self.actor, "at": _iso(self.occurred_at),
            "note": self.note,
        }


@dataclass(frozen=True)
class Submission:
    """The outcome of a submission: ``created`` is ``False`` when the same content (same
    content hash) was already submitted under that name and that version is returned."""

    record: StrategyRecord
    created: bool
