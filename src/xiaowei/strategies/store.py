"""The strategy store: pack versions, their maker–checker life cycle and the live switch.

Why a store between the strategy team's files and the servers: a decision on a loan must name
the exact rules that made it, those rules must be ones a second person approved, and moving to
new rules (or back to old ones) must be one recorded step, not a file copied onto servers. So a
submitted pack is checked (:func:`~xiaowei.engine.strategy.load_pack` must accept it), keyed
by its name and content hash (``Pack.hash``: comments and key order do not count, a changed
threshold does), numbered 1, 2, 3… per name for people, and every step of its life is an
audit row saying who, when, from, to and why (see :mod:`xiaowei.strategies.lifecycle`).

Which version is live is one row per pack name in ``strategy_live``; servers poll that row
(:class:`~xiaowei.strategies.live.LivePacks`) and switch without a restart.

Concurrency: ``(name, version)`` is the primary key and ``(name, content_hash)`` unique, so two
submissions at once cannot take one number; the loser's transaction rolls back and tries the
next number (or finds the winner's identical content). Publishing and rollback lock the live
row (``SELECT … FOR UPDATE``; SQLite serialises writers), so two switches cannot interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaowei.config import get_settings
from xiaowei.engine.strategy import Pack, diff
from xiaowei.security import audit
from xiaowei.store.database import make_engine, transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import StrategyEvent, StrategyLive, StrategyVersion
from xiaowei.strategies.errors import StrategyError, StrategyNotFound, TransitionRefused
from xiaowei.strategies.files import load_stored, read_pack
from xiaowei.strategies.lifecycle import StrategyStatus, check_transition
from xiaowei.strategies.records import LifecycleEvent, StrategyRecord, Submission
from xiaowei.strategies.reference import StrategyRef, validate_name, validate_user

T = TypeVar("T")
_S = StrategyStatus


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StrategyStore:
    """Submit, approve, publish, roll back, withdraw, list and load strategy pack versions.

    ``engine`` is a migrated transactional store; ``clock`` is injectable so tests can fix time.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.engine = engine
        self.clock = clock

    # -- submission ----------------------------------------------------------------------

    def submit(self, path: str | Path, by: str, *, note: str | None = None) -> Submission:
        """Submit the pack at ``path`` (its YAML or its folder) as a draft of ``pack.name``.

        A pack that does not load is refused with every ``file:line`` problem. Content already
        submitted under that name returns that version with ``created=False``, whatever its
        state — the first submission's text (and comments) is what is kept.
        """
        user = validate_user(by, "author")
        source = read_pack(path)
        name = validate_name(source.pack.name)
        values = {
            "name": name, "status": str(_S.DRAFT), "content_hash": source.pack.hash,
            "label": source.pack.label[:64], "main_file": source.main_file,
            "files": dict(source.files), "source_path": source.source_path,
            "submitted_by": user,
        }
        return self._retrying(lambda: self._insert(values, note))

    def _insert(self, values: dict[str, object], note: str | None) -> Submission:
        """One attempt: find the same content, or take the next number."""
        name = values["name"]
        with transaction(self.engine) as session:
            same = session.scalar(select(StrategyVersion).where(
                StrategyVersion.name == name,
                StrategyVersion.content_hash == values["content_hash"]))
            if same is not None:
                return Submission(StrategyRecord.from_row(same), created=False)
            latest = session.scalar(select(func.max(StrategyVersion.version)).where(
                StrategyVersion.name == name))
            now = self.clock()
            row = StrategyVersion(version=(latest or 0) + 1, submitted_at=now, **values)
            session.add(row)
            session.flush()  # the number is ours (or the primary key refuses it) before events
            self._event(session, row, None, _S.DRAFT, row.submitted_by, note, now)
            return Submission(StrategyRecord.from_row(row), created=True)

    # -- life cycle ----------------------------------------------------------------------

    def approve(self, ref: str, by: str, *, note: str | None = None) -> StrategyRecord:
        """Checker approval of a draft; ``by`` must not be its author (maker–checker)."""
        target = StrategyRef.parse_exact(ref, "approve")
        user = validate_user(by, "approver")

        def attempt() -> StrategyRecord:
            with transaction(self.engine) as session:
                row = self._locked(session, target)
                self._move(session, row, _S.APPROVED, user, note)
                row.approved_by, row.approved_at = user, self.clock()
                session.flush()
                return StrategyRecord.from_row(row)

        return self._retrying(attempt)

    def withdraw(self, ref: str, by: str, *, note: str | None = None) -> StrategyRecord:
        """Withdraw a draft or an approved version that never went live (final)."""
        target = StrategyRef.parse_exact(ref, "withdraw")
        user = validate_user(by)

        def attempt() -> StrategyRecord:
            with transaction(self.engine) as session:
                row = self._locked(session, target)
                self._move(session, row, _S.WITHDRAWN, user, note)
                return StrategyRecord.from_row(row)

        return self._retrying(attempt)

    def publish(self, ref: str, by: str, *, note: str | None = None) -> StrategyRecord:
        """Make an approved (or formerly live) version live; the live one becomes superseded.

        The stored files are rebuilt and checked against their hash first: a pack that would
        not load on the servers never becomes live.
        """
        target = StrategyRef.parse_exact(ref, "publish")
        user = validate_user(by)

        def attempt() -> StrategyRecord:
            with transaction(self.engine) as session:
                row = self._locked(session, target)
                check_transition(f"{row.name}@{row.version}", _S(row.status), _S.LIVE, user,
                                 row.submitted_by)
                self.load_record(StrategyRecord.from_row(row))
                self._switch(session, row, user, note, _S.SUPERSEDED,
                             f"superseded by {row.name}@{row.version}")
                return StrategyRecord.from_row(row)

        return self._retrying(attempt)

    def rollback(self, name: str, by: str, *, note: str) -> StrategyRecord:
        """Take the live version out (``rolled_back``) and make live again the version that
        was live most recently before it; ``note`` (why) is required for the audit trail."""
        validate_name(name)
        user = validate_user(by)
        if not (note or "").strip():
            raise StrategyError("rollback needs a note saying why (--note)")

        def attempt() -> StrategyRecord:
            with transaction(self.engine) as session:
                live = self._live_row(session, name)
                if live is None:
                    raise TransitionRefused(f"cannot roll back {name}: no version is live")
                previous = session.scalar(
                    select(StrategyVersion)
                    .join(StrategyEvent, (StrategyEvent.name == StrategyVersion.name)
                          & (StrategyEvent.version == StrategyVersion.version))
                    .where(StrategyVersion.name == name,
                           StrategyVersion.status == str(_S.SUPERSEDED),
                           StrategyEvent.to_status == str(_S.LIVE))
                    .order_by(StrategyEvent.id.desc()).limit(1).with_for_update())
                if previous is None:
                    raise TransitionRefused(
                        f"cannot roll back {name}: {name}@{live.version} is live and no "
                        "earlier version was live before it")
                self.load_record(StrategyRecord.from_row(previous))
                self._switch(session, previous, user, f"rollback: {note}", _S.ROLLED_BACK,
                             note, live=live)
                return StrategyRecord.from_row(previous)

        return self._retrying(attempt)

    def _switch(self, session: Session, row: StrategyVersion, user: str, note: str | None,
                old_to: StrategyStatus, old_note: str | None,
                live: StrategyLive | None = None) -> None:
        """Point the live row at ``row``; the version it pointed at moves to ``old_to``."""
        live = live or self._live_row(session, row.name)
        now = self.clock()
        if live is None:
            session.add(StrategyLive(name=row.name, version=row.version,
                                     content_hash=row.content_hash, since=now,
                                     switched_by=user))
        else:
            old = session.get_one(StrategyVersion, (live.name, live.version),
                                  with_for_update=True)
            self._move(session, old, old_to, user, old_note)
            live.version, live.content_hash = row.version, row.content_hash
            live.since, live.switched_by = now, user
        self._move(session, row, _S.LIVE, user, note)
        session.flush()

    def _move(self, session: Session, row: StrategyVersion, to: StrategyStatus, user: str,
              note: str | None) -> None:
        current = _S(row.status)
        check_transition(f"{row.name}@{row.version}", current, to, user, row.submitted_by)
        row.status = str(to)
        self._event(session, row, current, to, user, note, self.clock())

    def _event(self, session: Session, row: StrategyVersion, from_: StrategyStatus | None,
               to: StrategyStatus, user: str, note: str | None, at: dt.datetime) -> None:
        session.add(StrategyEvent(name=row.name, version=row.version,
                                  from_status=None if from_ is None else str(from_),
                                  to_status=str(to), actor=user, occurred_at=at, note=note))
        audit.record(session, user, f"strategy.{to}", ("strategy", f"{row.name}@{row.version}"),
                     {"from": None if from_ is None else str(from_), "note": note}, at=at)

    def _locked(self, session: Session, ref: StrategyRef) -> StrategyVersion:
        row = session.scalar(select(StrategyVersion).where(
            StrategyVersion.name == ref.name, StrategyVersion.version == ref.version,
        ).with_for_update())
        if row is None:
            raise self._missing(session, ref)
        return row

    def _live_row(self, session: Session, name: str) -> StrategyLive | None:
        return session.scalar(select(StrategyLive).where(StrategyLive.name == name)
                              .with_for_update())

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` in fresh transactions until it does not meet a concurrent writer."""
        return retry_on_conflict(attempt, StrategyError)

    # -- reading -------------------------------------------------------------------------

    def get(self, ref: str) -> StrategyRecord:
        """The record of ``name@N`` (any state), or of the live version for ``name``."""
        parsed = StrategyRef.parse(ref)
        with transaction(self.engine) as session:
            version = parsed.version
            if version is None:
                live = session.get(StrategyLive, parsed.name)
                if live is None:
                    raise self._missing(session, parsed)
                version = live.version
            row = session.get(StrategyVersion, (parsed.name, version))
            if row is None:
                raise self._missing(session, parsed)
            return StrategyRecord.from_row(row)

    def versions(self, name: str | None = None) -> list[StrategyRecord]:
        """Every version (optionally of one pack), by name and version."""
        query = select(StrategyVersion).order_by(StrategyVersion.name, StrategyVersion.version)
        if name is not None:
            query = query.where(StrategyVersion.name == validate_name(name))
        with transaction(self.engine) as session:
            return [StrategyRecord.from_row(row) for row in session.scalars(query)]

    def history(self, ref: str) -> list[LifecycleEvent]:
        """The audit trail of one version (or, for a bare ``name``, of every version of the
        pack), oldest first."""
        parsed = StrategyRef.parse(ref)
        query = select(StrategyEvent).where(StrategyEvent.name == parsed.name)
        if parsed.version is not None:
            query = query.where(StrategyEvent.version == parsed.version)
        with transaction(self.engine) as session:
            return [LifecycleEvent.from_row(e)
                    for e in session.scalars(query.order_by(StrategyEvent.id))]

    def live_version(self, name: str) -> tuple[int, str] | None:
        """``(version, content_hash)`` of the live version, by one primary-key lookup — what a
        server polls to notice a switch."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(StrategyLive.version, StrategyLive.content_hash)
                .where(StrategyLive.name == name)).first()
        return None if row is None else (row[0], row[1])

    def load_record(self, record: StrategyRecord) -> Pack:
        """Rebuild the record's pack, refusing it if it no longer matches its hash."""
        return load_stored(record.name, record.version, record.main_file, record.files,
                           record.content_hash)

    def load(self, ref: str) -> tuple[StrategyRecord, Pack]:
        """The record and the checked, compiled pack of ``ref`` (any state)."""
        record = self.get(ref)
        return record, self.load_record(record)

    def diff(self, old: str, new: str) -> list[str]:
        """What changed from ``old`` to ``new``, one sentence each (the engine's words)."""
        return diff(self.load(old)[1], self.load(new)[1])

    def _missing(self, session: Session, ref: StrategyRef) -> StrategyNotFound:
        """A not-found error that says what does exist, so the next try is the right one."""
        rows = session.execute(
            select(StrategyVersion.version, StrategyVersion.status)
            .where(StrategyVersion.name == ref.name).order_by(StrategyVersion.version)).all()
        if not rows:
            return StrategyNotFound(f"no strategy pack named {ref.name!r} has been submitted")
        known = ", ".join(f"{ref.name}@{v} {s}" for v, s in rows)
        if ref.version is None:
            return StrategyNotFound(f"{ref.name} has no live version (known: {known})")
        return StrategyNotFound(f"{ref.name}@{ref.version} does not exist (known: {known})")


@contextmanager
def open_store(url: str | None = None) -> Iterator[StrategyStore]:
    """A store on the configured database (or ``url``), which must already be migrated; the
    engine is disposed when the block ends."""
    engine = make_engine(url or get_settings().database_url)
    try:
        yield StrategyStore(engine)
    finally:
        engine.dispose()
