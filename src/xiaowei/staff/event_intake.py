"""Taking in behaviour events (行为事件入库): a batch from the mobile app or a file, stored once.

Why one transaction and the sender's id as the key, as for repayments
(:mod:`xiaowei.postloan.repayment_intake`): a phone resends a batch whenever it is unsure the
last one arrived, so a resent event must store nothing twice (reported as a duplicate), and an
id reused with other content is refused rather than silently overwriting what was believed.
Every refusal — an impossible event (:func:`~xiaowei.staff.events.validate_event`), a manager
the bank does not employ, another manager's events, a conflicting id — is quarantined with the
field at fault and why, in the same transaction as the stored events: a batch is all or
nothing on an error of the store, and nothing is lost.

:func:`events_table` gives the stored events of one kind back as the columns the staff
signals read, with ``occurred_at`` as the bank's local wall-clock time (naive, like the
simulator's ``checked_at`` and ``operated_at``).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaowei.staff.events import (
    BANK_TZ,
    KINDS,
    EventRefused,
    EventRules,
    Refusal,
    shown,
    validate_event,
)
from xiaowei.store.database import for_writing, transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import CustomerManager, LoadBatch, QuarantinedRow, StaffEvent

TABLE = "staff_event"
LOOKUP_CHUNK = 500  # ids per IN (...) lookup: far below SQLite's and PostgreSQL's limits

_TEXT = pa.string()
_TIME = pa.timestamp("us")
COLUMNS: Mapping[str, pa.Schema] = {
    "checkin": pa.schema([("event_id", _TEXT), ("manager_id", _TEXT), ("occurred_at", _TIME),
                          ("lat", pa.float64()), ("lon", pa.float64()),
                          ("accuracy_m", pa.float64()), ("mock_location", pa.bool_()),
                          ("device_id", _TEXT), ("purpose", _TEXT), ("application_no", _TEXT)]),
    "track_point": pa.schema([("event_id", _TEXT), ("manager_id", _TEXT), ("occurred_at", _TIME),
                              ("lat", pa.float64()), ("lon", pa.float64()),
                              ("accuracy_m", pa.float64()), ("device_id", _TEXT)]),
    "operation": pa.schema([("event_id", _TEXT), ("manager_id", _TEXT), ("occurred_at", _TIME),
                            ("action", _TEXT), ("object_type", _TEXT), ("object_id", _TEXT),
                            ("field", _TEXT), ("row_count", pa.int64())]),
    "visit_log": pa.schema([("event_id", _TEXT), ("manager_id", _TEXT), ("occurred_at", _TIME),
                            ("subject", _TEXT), ("visit_kind", _TEXT), ("notes", _TEXT),
                            ("employees_seen", pa.int64())]),
}
CONFLICT = Refusal("event_id", "事件编号已用于不同的内容",
                   "event_id already used with other content: the stored event stands")


@dataclass(frozen=True)
class EventIntake:
    """What one batch did: events stored, already stored (no-op) and quarantined (each with
    its 1-based row, event id, manager, kind, the field at fault and the reasons)."""

    batch_id: str
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    quarantined: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "accepted": list(self.accepted),
                "duplicates": list(self.duplicates), "quarantined": list(self.quarantined)}


def _clean(value: Any, depth: int = 0) -> Any:
    """A received value as JSON every store and every response can hold: no NaN, no NUL, no
    lone surrogate, no nesting past a sane depth."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth < 8 and isinstance(value, Mapping):
        return {_clean(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    if depth < 8 and isinstance(value, list | tuple):
        return [_clean(v, depth + 1) for v in value]
    return _clean(shown(value, 200))


def _key(record: Any, name: str) -> str | None:
    value = record.get(name) if isinstance(record, Mapping) else None
    return None if value is None else _clean(value if isinstance(value, str) else shown(value))


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start:start + LOOKUP_CHUNK]


def _mentioned(records: Sequence[Any], name: str) -> list[str]:
    """The distinct ``name`` values of the batch, as validation will read them (stripped);
    values no valid id could have (a NUL, a lone surrogate, too long) are not looked up —
    validation refuses them — since a database cannot even be asked about them."""
    values = {r[name].strip() for r in records
              if isinstance(r, Mapping) and isinstance(r.get(name), str)}
    return sorted(v for v in values if len(v) <= 64 and v == _clean(v))


def _staff(session: Session, records: Sequence[Any]) -> dict[str, dt.date | None]:
    """The customer managers the batch names, id → hire date."""
    found: dict[str, dt.date | None] = {}
    for ids in _chunks(_mentioned(records, "manager_id")):
        rows = session.execute(select(CustomerManager.manager_id, CustomerManager.hired_on)
                               .where(CustomerManager.manager_id.in_(ids)))
        found.update({manager_id: hired_on for manager_id, hired_on in rows})
    return found


def _stored(session: Session, records: Sequence[Any]) -> dict[str, str]:
    """The batch's event ids already stored, id → content hash."""
    found: dict[str, str] = {}
    for ids in _chunks(_mentioned(records, "event_id")):
        rows = session.execute(select(StaffEvent.event_id, StaffEvent.content_hash)
                               .where(StaffEvent.event_id.in_(ids)))
        found.update({event_id: digest for event_id, digest in rows})
    return found


class EventStoreBusy(RuntimeError):
    """Concurrent batches kept taking the same new event ids; nothing was stored, resend."""


def take_events(engine: Engine, records: Iterable[Any], *,
                received_at: dt.datetime | None = None, source: str = "events",
                sender: str | None = None, rules: EventRules | None = None) -> EventIntake:
    """Store ``records`` (JSON objects, see :mod:`xiaowei.staff.events`) once by event id.

    ``received_at``: when the batch arrived (default now; the future is judged against it);
    ``source``: where it came from (a file, "api by NAME"), kept on the load batch;
    ``sender``: the manager id of a sender who may report only their own events — any other
    manager's event is quarantined as "not your events"; ``None`` (a file the bank imports,
    an administrator) may report for every manager.

    Two phones resending one batch at once both find its ids new; the database's key lets one
    win, and the other's whole transaction is tried again, when it finds them duplicates.
    """
    rows = list(records)
    now = received_at or dt.datetime.now(dt.UTC)
    return retry_on_conflict(lambda: _take(engine, rows, now, source, sender, rules),
                             EventStoreBusy)


def _take(engine: Engine, rows: Sequence[Any], now: dt.datetime, source: str,
          sender: str | None, rules: EventRules | None) -> EventIntake:
    """One try of :func:`take_events`, in one transaction."""
    batch_id = f"EVT-{uuid.uuid4().hex[:16]}"
    accepted: list[str] = []
    duplicates: list[str] = []
    quarantined: list[dict[str, Any]] = []
    with transaction(for_writing(engine)) as session:
        staff, stored = _staff(session, rows), _stored(session, rows)
        batch = LoadBatch(batch_id=batch_id, source_dir=source[:2000], started_at=now,
                          finished_at=now, status="done", rows_in=len(rows))
        session.add(batch)
        session.flush()
        for number, record in enumerate(rows, start=1):
            try:
                event = validate_event(record, received_at=now, staff=staff, rules=rules,
                                       sender=sender)
            except EventRefused as refused:
                quarantined.append(_quarantine(session, batch_id, number, record,
                                               refused.refusals))
                continue
            digest = event.content_hash()
            if event.event_id in stored:
                if stored[event.event_id] == digest:
                    duplicates.append(event.event_id)
                else:
                    quarantined.append(_quarantine(session, batch_id, number, record,
                                                   [CONFLICT]))
                continue
            stored[event.event_id] = digest
            session.add(StaffEvent(
                event_id=event.event_id, kind=event.kind, manager_id=event.manager_id,
                occurred_at=event.occurred_at, received_at=now, lat=event.lat, lon=event.lon,
                accuracy_m=event.accuracy_m, mock_location=event.mock_location,
                device_id=event.device_id, payload=dict(event.details), content_hash=digest,
                batch_id=batch_id))
            accepted.append(event.event_id)
        batch.rows_accepted = len(accepted)
        batch.rows_quarantined = len(quarantined)
    return EventIntake(batch_id, tuple(accepted), tuple(duplicates), tuple(quarantined))


def _quarantine(session: Session, batch_id: str, number: int, record: Any,
                refusals: Sequence[Refusal]) -> dict[str, Any]:
    """Keep the refused event as received (cleaned to storable JSON) with its reasons."""
    reason = "; ".join(r.reason for r in refusals)
    raw = _clean(record) if isinstance(record, Mapping) else {"record": _clean(record)}
    session.add(QuarantinedRow(batch_id=batch_id, table_name=TABLE, row_number=number,
                               column_name=refusals[0].field[:64], reason=reason, raw=raw))
    return {"row": number, "event_id": _key(record, "event_id"),
            "manager_id": _key(record, "manager_id"), "kind": _key(record, "kind"),
            "field": refusals[0].field, "reason": reason,
            "problems": [r.to_json() for r in refusals]}


def _bank_time(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=BANK_TZ) if moment.tzinfo is None else moment


def events_table(engine: Engine, kind: str, since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> pa.Table:
    """Stored events of ``kind`` with ``since <= occurred_at < until`` (a naive bound is bank
    time), ordered by time then id, as the columns of ``COLUMNS[kind]``."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    schema = COLUMNS[kind]
    query = select(StaffEvent).where(StaffEvent.kind == kind)
    start, end = _bank_time(since), _bank_time(until)
    if start is not None:
        query = query.where(StaffEvent.occurred_at >= start)
    if end is not None:
        query = query.where(StaffEvent.occurred_at < end)
    query = query.order_by(StaffEvent.occurred_at, StaffEvent.event_id)
    with transaction(engine) as session:
        rows = [_row(event) for event in session.scalars(query)]
    return pa.Table.from_pylist(rows, schema=schema)


def _row(event: StaffEvent) -> dict[str, Any]:
    local = event.occurred_at.astimezone(BANK_TZ).replace(tzinfo=None)
    return {"event_id": event.event_id, "manager_id": event.manager_id, "occurred_at": local,
            "lat": event.lat, "lon": event.lon, "accuracy_m": event.accuracy_m,
            "mock_location": event.mock_location, "device_id": event.device_id,
            **dict(event.payload or {})}


__all__ = ["COLUMNS", "EventIntake", "EventStoreBusy", "events_table", "take_events"]
