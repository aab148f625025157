"""The audit log: append-only and hash-chained, so any edited, deleted or reordered entry
is found by :func:`verify` (``xiaowei audit verify``).

Why a chain: a regulator or internal auditor must be able to trust that the record of who
decided, approved, published or looked at personal data was not altered afterwards — even by
someone with write access to the database. Each entry's ``hash`` is SHA-256 of the previous
entry's hash followed by the entry's canonical JSON (sorted keys, no spaces, UTF-8), so
changing one entry changes its hash, and rewriting that hash breaks the link of the next.

Why a head row (``audit_head``): appenders lock it before reading the last hash (an UPDATE,
which takes the row lock on PostgreSQL and the write lock on SQLite), so two concurrent
appends cannot both chain onto the same predecessor; ``seq`` is assigned 1, 2, 3 … under that
lock, so a gap is a deleted entry; and a deleted tail no longer matches the head. Someone able
to rewrite the whole chain *and* the head is not stopped by any in-database scheme: export the
head hash (``xiaowei audit verify --json`` prints it) to a place they cannot write.

:func:`record` writes in the caller's session, so an act and its audit entry commit or roll
back together. Never put personal data in ``detail``: say which fields were viewed, not what
they held.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from xiaowei.store.tables import AuditHead, AuditLog

GENESIS = "0" * 64
MAX_ACTOR = 64


@dataclass(frozen=True)
class AuditProblem:
    """One thing :func:`verify` found wrong; ``seq`` names the entry (None: the head)."""

    seq: int | None
    kind: str  # "edited", "missing", "broken_link", "head"
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Entry:
    """An audit entry as written and read back."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject_kind: str
    subject_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": _instant(self.at), "actor": self.actor,
                "action": self.action, "subject_kind": self.subject_kind,
                "subject_id": self.subject_id, "detail": self.detail,
                "prev_hash": self.prev_hash, "hash": self.hash}


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(seq: int, at: dt.datetime, actor: str, action: str, subject_kind: str,
              subject_id: str | None, detail: Mapping[str, Any]) -> str:
    """The text an entry's hash covers: every column but the hashes, as canonical JSON."""
    doc = {"seq": seq, "at": _instant(at), "actor": actor, "action": action,
           "subject_kind": subject_kind, "subject_id": subject_id, "detail": detail}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def _plain(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    # What JSON gives back is what is hashed: Decimals and dates become text once, here.
    return json.loads(json.dumps(dict(detail or {}), ensure_ascii=False, default=str,
                                 sort_keys=True))


def _lock_head(session: Session, now: dt.datetime) -> tuple[int, str]:
    locked = session.execute(update(AuditHead).where(AuditHead.id == 1)
                             .values(updated_at=now)
                             .execution_options(synchronize_session=False))
    if locked.rowcount == 0:  # type: ignore[attr-defined]  # a store made without migrations
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS, updated_at=now))
    seq, last = session.execute(select(AuditHead.seq, AuditHead.hash)
                                .where(AuditHead.id == 1)).one()
    return int(seq), str(last)


def record(session: Session, actor: str, action: str, subject: tuple[str, str | None],
           detail: Mapping[str, Any] | None = None, *, at: dt.datetime | None = None) -> Entry:
    """Append one entry in the caller's transaction (it commits or rolls back with the act).

    ``subject`` is ``(kind, id)``, e.g. ``("application", "A0001")``. The chain head stays
    locked until the caller's transaction ends, so call this near the end of it.
    """
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    kind, subject_id = str(subject[0])[:32], subject[1]
    subject_id = None if subject_id is None else str(subject_id)[:128]
    action = action[:64]
    who = (actor or "").strip()[:MAX_ACTOR] or "unknown"
    body = _plain(detail)
    last_seq, last_hash = _lock_head(session, now)
    seq = last_seq + 1
    text = canonical(seq, now, who, action, kind, subject_id, body)
    digest = chain_hash(last_hash, text)
    session.execute(insert(AuditLog).values(
        seq=seq, at=now, actor=who, action=action, subject_kind=kind, subject_id=subject_id,
        detail=body,
        prev_hash=last_hash, hash=digest))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest)
                    .execution_options(synchronize_session=False))
    return Entry(seq, now, who, action, kind, subject_id, body, last_hash, digest)


def _rows(engine: Engine) -> Iterator[AuditLog]:
    with Session(engine) as session:
        yield from session.scalars(select(AuditLog).order_by(AuditLog.seq)
                                   .execution_options(yield_per=2000))


def verify(engine: Engine) -> list[AuditProblem]:
    """Every problem in the chain, in order: an edited entry (its hash no longer matches its
    content), a missing one (a gap in ``seq``, or a tail shorter than the head says), a broken
    link (an entry's ``prev_hash`` is not its predecessor's hash: a rewritten or reordered
    predecessor). An empty list means the chain is whole."""
    problems: list[AuditProblem] = []
    expected, last_hash = 1, GENESIS
    for row in _rows(engine):
        if row.seq != expected:
            gap = f"{expected}" if row.seq == expected + 1 else f"{expected}–{row.seq - 1}"
            problems.append(AuditProblem(expected, "missing",
                                         f"entries {gap} are missing (deleted)"))
        elif row.prev_hash != last_hash:
            problems.append(AuditProblem(row.seq, "broken_link",
                                         f"entry {row.seq} does not chain onto entry "
                                         f"{row.seq - 1} (rewritten, reordered or inserted)"))
        text = canonical(row.seq, row.at, row.actor, row.action, row.subject_kind,
                         row.subject_id, row.detail)
        if chain_hash(row.prev_hash, text) != row.hash:
            problems.append(AuditProblem(row.seq, "edited",
                                         f"entry {row.seq} ({row.action} by {row.actor}) was "
                                         "edited: its content no longer matches its hash"))
        expected, last_hash = row.seq + 1, row.hash
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
    if head is not None and head.seq > expected - 1:
        problems.append(AuditProblem(expected, "missing",
                                     f"entries {expected}–{head.seq} at the end are missing "
                                     f"(deleted): the head records {head.seq} entries"))
    elif head is not None and head.seq == expected - 1 and head.hash != last_hash:
        problems.append(AuditProblem(None, "head", "the last entry's hash differs from the "
                                                   "chain head's (the tail was rewritten)"))
    return problems


def head(engine: Engine) -> tuple[int, str]:
    """The chain head: how many entries there are and the last hash (for anchoring)."""
    with Session(engine) as session:
        found = session.get(AuditHead, 1)
    return (0, GENESIS) if found is None else (found.seq, found.hash)


def entries(engine: Engine, *, limit: int = 50, action: str | None = None,
            actor: str | None = None) -> list[Entry]:
    """The newest entries first, optionally of one action (prefix, e.g. ``login``) or actor."""
    query = select(AuditLog).order_by(AuditLog.seq.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditLog.actor == actor)
    with Session(engine) as session:
        return [Entry(r.seq, r.at, r.actor, r.action, r.subject_kind, r.subject_id,
                      dict(r.detail or {}), r.prev_hash, r.hash) for r in session.scalars(query)]
