"""The model registry: versioned artifacts on disk, their metadata and life cycle in the store.

Why a registry between training and strategies: a decision on a loan must name the exact
model that made it, that model must be one a second person approved, and its files must be
the ones approved. So each registration gets the next version number of its name, its files
are copied under ``XIAOWEI_HOME/models/<name>/<version>/`` with a content hash kept in the
transactional store, and every step of its life (registered, approved, retired) is an audit
row saying who, when and why.

How strategies pin a model (see :class:`~xiaowei.modelling.reference.ModelRef`):

- ``name@3`` pins version 3 — reproducible, changes only when the strategy file changes;
- ``name@approved`` or ``name`` follows the newest approved version — approving a new
  version (or retiring the current one) changes what the strategy runs without editing it.

:meth:`ModelRegistry.resolve` refuses drafts and retired versions unless ``allow_draft=True``
(backtests may replay drafts, and history made by since-retired versions), and refuses any
artifact whose files no longer match their hash.

Concurrency: ``(name, version)`` is the primary key and ``(name, content_hash)`` is unique,
so two processes registering at once cannot both take a number; the loser's transaction rolls
back and it tries again with the next number (or finds the winner's identical artifact).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaowei.config import get_settings
from xiaowei.modelling import artifact
from xiaowei.modelling.errors import (
    ManifestError,
    ModelNotFound,
    NotForProduction,
    RegistryError,
)
from xiaowei.modelling.lifecycle import ModelStatus, check_transition
from xiaowei.modelling.manifest import read_manifest
from xiaowei.modelling.records import LifecycleEvent, ModelRecord, Registration, ResolvedModel
from xiaowei.modelling.reference import ModelRef, validate_name, validate_user
from xiaowei.security import audit
from xiaowei.store.database import make_engine, transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import ModelEvent, ModelVersion

T = TypeVar("T")
MODELS_DIR = "models"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ModelRegistry:
    """Register, approve, retire, list and resolve model versions.

    ``engine`` is a migrated transactional store; ``root`` is where artifacts live
    (default ``XIAOWEI_HOME/models``). ``clock`` is injectable so that tests can fix time.
    """

    def __init__(
        self,
        engine: Engine,
        root: str | Path | None = None,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.engine = engine
        self.root = Path(root) if root is not None else get_settings().home / MODELS_DIR
        self.clock = clock

    # -- registration --------------------------------------------------------------------

    def register(
        self, directory: str | Path, name: str, by: str, *, note: str | None = None
    ) -> Registration:
        """Register the model in ``directory`` as the next version of ``name``, as a draft.

        Registering content already registered under ``name`` returns that version with
        ``created=False`` (whatever its state) instead of making a duplicate.
        """
        validate_name(name)
        user = validate_user(by, "registrant")
        source = Path(directory)
        manifest = read_manifest(source)
        if self.root.resolve().is_relative_to(source.resolve()):
            raise ManifestError(f"{source}: contains the registry itself ({self.root})")
        expected = artifact.file_digests(source)
        parent = self.root / name
        staging = artifact.stage_copy(source, parent)
        try:
            if artifact.file_digests(staging) != expected or read_manifest(staging) != manifest:
                raise ManifestError(f"{source}: changed while it was being copied; try again")
            row_values = {
                "name": name, "kind": manifest.kind, "status": str(ModelStatus.DRAFT),
                "content_hash": artifact.content_hash(expected), "files": expected,
                "data_fingerprint": manifest.data_fingerprint, "target": manifest.target,
                "features": list(manifest.features), "params": manifest.params,
                "metrics": manifest.metrics, "created_at": manifest.created_at_utc,
                "source_dir": str(source.resolve()), "registered_by": user,
            }
            return self._retrying(
                lambda: self._insert(row_values, staging, note), can_retry=staging.exists
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                parent.rmdir()  # only succeeds when nothing was ever registered under name

    def _insert(self, values: dict[str, Any], staging: Path, note: str | None) -> Registration:
        """One attempt at registering: find the same content, or take the next number."""
        name = values["name"]
        with transaction(self.engine) as session:
            same = session.scalar(
                select(ModelVersion).where(
                    ModelVersion.name == name, ModelVersion.content_hash == values["content_hash"]
                )
            )
            if same is not None:
                return Registration(ModelRecord.from_row(same, self.root), created=False)
            version = self._next_version(session, name)
            now = self.clock()
            row = ModelVersion(version=version, registered_at=now, **values)
            session.add(row)
            session.add(ModelEvent(name=name, version=version, from_status=None,
                                   to_status=row.status, actor=row.registered_by,
                                   occurred_at=now, note=note))
            # The row (and its number) is ours once flushed; only then do the files move in.
            session.flush()
            artifact.place(staging, self.root / name / str(version))
            return Registration(ModelRecord.from_row(row, self.root), created=True)

    def _next_version(self, session: Session, name: str) -> int:
        latest = session.scalar(select(func.max(ModelVersion.version)).where(
            ModelVersion.name == name))
        return (latest or 0) + 1

    def _retrying(
        self, attempt: Callable[[], T], can_retry: Callable[[], bool] = lambda: True
    ) -> T:
        """Run ``attempt`` in fresh transactions until it does not meet a concurrent writer."""
        return retry_on_conflict(attempt, RegistryError, can_retry)

    # -- life cycle ----------------------------------------------------------------------

    def approve(self, ref: str, by: str, *, note: str | None = None) -> ModelRecord:
        """Approve a draft for production; ``by`` must not be the person who registered it."""
        return self._transition(ref, ModelStatus.APPROVED, by, note)

    def retire(self, ref: str, by: str, *, note: str | None = None) -> ModelRecord:
        """Retire an approved version, or withdraw a draft; retired is final."""
        return self._transition(ref, ModelStatus.RETIRED, by, note)

    def _transition(
        self, text: str, to: ModelStatus, by: str, note: str | None
    ) -> ModelRecord:
        action = "approve" if to is ModelStatus.APPROVED else "retire"
        ref = ModelRef.parse_exact(text, action)
        user = validate_user(by, "approver" if to is ModelStatus.APPROVED else "user")

        def attempt() -> ModelRecord:
            with transaction(self.engine) as session:
                row = session.scalar(
                    select(ModelVersion)
                    .where(ModelVersion.name == ref.name, ModelVersion.version == ref.version)
                    .with_for_update()
                )
                if row is None:
                    raise self._missing(session, ref)
                current = ModelStatus(row.status)
                check_transition(f"{ref.name}@{ref.version}", current, to, user,
                                 row.registered_by)
                now = self.clock()
                row.status = str(to)
                if to is ModelStatus.APPROVED:
                    row.approved_by, row.approved_at = user, now
                else:
                    row.retired_by, row.retired_at = user, now
                session.add(ModelEvent(name=row.name, version=row.version,
                                       from_status=str(current), to_status=str(to), actor=user,
                                       occurred_at=now, note=note))
                audit.record(session, user, f"model.{to}", ("model", f"{ref.name}@{ref.version}"),
                             {"from": str(current), "note": note}, at=now)
                session.flush()
                return ModelRecord.from_row(row, self.root)

        return self._retrying(attempt)

    # -- reading -------------------------------------------------------------------------

    def get(self, ref: str) -> ModelRecord:
        """The record for ``name@N`` (any state), or the newest approved for ``name``."""
        parsed = ModelRef.parse(ref)
        with transaction(self.engine) as session:
            query = select(ModelVersion).where(ModelVersion.name == parsed.name)
            if parsed.version is None:
                query = query.where(ModelVersion.status == str(ModelStatus.APPROVED))
            else:
                query = query.where(ModelVersion.version == parsed.version)
            row = session.scalar(query.order_by(ModelVersion.version.desc()).limit(1))
            if row is None:
                raise self._missing(session, parsed)
            return ModelRecord.from_row(row, self.root)

    def versions(
        self, name: str | None = None, status: ModelStatus | str | None = None
    ) -> list[ModelRecord]:
        """Every registered version (optionally of one name, or in one state), by name and
        version."""
        query = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.version)
        if name is not None:
            query = query.where(ModelVersion.name == validate_name(name))
        if status is not None:
            query = query.where(ModelVersion.status == str(ModelStatus(status)))
        with transaction(self.engine) as session:
            return [ModelRecord.from_row(row, self.root) for row in session.scalars(query)]

    def history(self, ref: str) -> list[LifecycleEvent]:
        """The audit trail of one version, oldest first."""
        record = self.get(ref)
        query = (
            select(ModelEvent)
            .where(ModelEvent.name == record.name, ModelEvent.version == record.version)
            .order_by(ModelEvent.id)
        )
        with transaction(self.engine) as session:
            return [LifecycleEvent.from_row(e) for e in session.scalars(query)]

    def verify(self, ref: str) -> ModelRecord:
        """The record, after checking its files against the registered content hash."""
        record = self.get(ref)
        artifact.verify(record.path, record.files, record.content_hash, record.ref)
        return record

    def resolve(self, ref: str, *, allow_draft: bool = False) -> ResolvedModel:
        """The verified directory and metadata of ``ref``, for a strategy to load.

        Production use (the default) gets approved versions only. ``allow_draft=True`` (for
        backtests) also accepts drafts and retired versions, since a backtest may try a new
        model or replay history made by one since retired.
        """
        record = self.get(ref)
        if record.status is not ModelStatus.APPROVED and not allow_draft:
            raise NotForProduction(
                f"{record.ref} is {record.status} ({record.status.zh}), not approved: it may "
                "not be used in production (backtests may pass allow_draft=True)"
            )
        artifact.verify(record.path, record.files, record.content_hash, record.ref)
        return ResolvedModel(path=record.path, record=record)

    def _missing(self, session: Session, ref: ModelRef) -> ModelNotFound:
        """A not-found error that says what does exist, so the next try is the right one."""
        rows = session.execute(
            select(ModelVersion.version, ModelVersion.status)
            .where(ModelVersion.name == ref.name)
            .order_by(ModelVersion.version)
        ).all()
        if not rows:
            return ModelNotFound(f"no model named {ref.name!r} is registered")
        known = ", ".join(f"{ref.name}@{v} {s}" for v, s in rows)
        if ref.version is None:
            return ModelNotFound(f"{ref.name} has no approved version (known: {known})")
        return ModelNotFound(f"{ref.name}@{ref.version} does not exist (known: {known})")


@contextmanager
def open_registry(
    url: str | None = None, home: str | Path | None = None
) -> Iterator[ModelRegistry]:
    """A registry on the configured store and ``XIAOWEI_HOME`` (or the ones given).

    The database must already be migrated (``xiaowei db upgrade``); the engine is disposed
    when the block ends.
    """
    settings = get_settings()
    engine = make_engine(url or settings.database_url)
    try:
        yield ModelRegistry(engine, Path(home or settings.home) / MODELS_DIR)
    finally:
        engine.dispose()
