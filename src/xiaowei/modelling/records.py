"""What the registry hands out: a version's record, its audit events, and resolved models.

Why plain frozen dataclasses rather than the ORM rows: callers (strategies, the CLI, the API)
must not be able to change the store by changing an object they were given, and must not need
an open session to read one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xiaowei.modelling.lifecycle import ModelStatus
from xiaowei.store.tables import ModelEvent, ModelVersion


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class ModelRecord:
    """What the store knows about one model version, and where its files are."""

    name: str
    version: int
    kind: str
    status: ModelStatus
    content_hash: str
    files: dict[str, str]
    data_fingerprint: str
    target: str
    features: tuple[str, ...]
    params: dict[str, Any]
    metrics: dict[str, Any]
    created_at: dt.datetime
    source_dir: str | None
    registered_by: str
    registered_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    retired_by: str | None
    retired_at: dt.datetime | None
    path: Path

    @property
    def ref(self) -> str:
        """``name@version``, the exact reference a strategy can pin."""
        return f"{self.name}@{self.version}"

    @classmethod
    def from_row(cls, row: ModelVersion, root: Path) -> ModelRecord:
        return cls(
            name=row.name, version=row.version, kind=row.kind, status=ModelStatus(row.status),
            content_hash=row.content_hash, files=dict(row.files),
            data_fingerprint=row.data_fingerprint, target=row.target,
            features=tuple(row.features), params=dict(row.params), metrics=dict(row.metrics),
            created_at=row.created_at, source_dir=row.source_dir,
            registered_by=row.registered_by, registered_at=row.registered_at,
            approved_by=row.approved_by, approved_at=row.approved_at,
            retired_by=row.retired_by, retired_at=row.retired_at,
            path=root / row.name / str(row.version),
        )

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (instants in ISO-8601 UTC, ``path`` as text).

        Keys: name, version, ref, kind, status, status_zh, content_hash, files,
        data_fingerprint, target, features, params, metrics, created_at, source_dir,
        registered_by, registered_at, approved_by, approved_at, retired_by, retired_at, path.
        """
        return {
            "name": self.name, "version": self.version, "ref": self.ref, "kind": self.kind,
            "status": str(self.status), "status_zh": self.status.zh,
            "content_hash": self.content_hash, "files": dict(self.files),
            "data_fingerprint": self.data_fingerprint, "target": self.target,
            "features": list(self.features), "params": self.params, "metrics": self.metrics,
            "created_at": _iso(self.created_at), "source_dir": self.source_dir,
            "registered_by": self.registered_by, "registered_at": _iso(self.registered_at),
            "approved_by": self.approved_by, "approved_at": _iso(self.approved_at),
            "retired_by": self.retired_by, "retired_at": _iso(self.retired_at),
            "path": str(self.path),
        }


@dataclass(frozen=True)
class LifecycleEvent:
    """One audit row: ``actor`` moved ``name@version`` from ``from_status`` to ``to_status``.

    ``from_status`` is ``None`` for the registration itself.
    """

    name: str
    version: int
    from_status: ModelStatus | None
    to_status: ModelStatus
    actor: str
    occurred_at: dt.datetime
    note: str | None

    @classmethod
    def from_row(cls, row: ModelEvent) -> LifecycleEvent:
        return cls(
            name=row.name, version=row.version,
            from_status=None if row.from_status is None else ModelStatus(row.from_status),
            to_status=ModelStatus(row.to_status), actor=row.actor,
            occurred_at=row.occurred_at, note=row.note,
        )

    def to_json(self) -> dict[str, Any]:
        """Keys: from, to, by, at, note."""
        return {
            "from": None if self.from_status is None else str(self.from_status),
            "to": str(self.to_status), "by": self.actor, "at": _iso(self.occurred_at),
            "note": self.note,
        }


@dataclass(frozen=True)
class Registration:
    """The outcome of :meth:`ModelRegistry.register`: ``created`` is ``False`` when the same
    content was already registered under that name and the existing version is returned."""

    record: ModelRecord
    created: bool


@dataclass(frozen=True)
class ResolvedModel:
    """A model version ready to load: its verified directory and its metadata."""

    path: Path
    record: ModelRecord
