"""Behaviour events are stored once by event id, refusals quarantined with the field and the
reason in the same transaction, a batch all or nothing on a store error, and read back as the
columns the staff signals use (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from xiaowei.staff import event_intake
from xiaowei.staff.event_intake import COLUMNS, events_table, take_events
from xiaowei.staff.events import BANK_TZ, KINDS, validate_event
from xiaowei.store.database import transaction
from xiaowei.store.tables import (
    Branch,
    CustomerManager,
    LoadBatch,
    QuarantinedRow,
    StaffEvent,
)

RECEIVED = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 bank time


@pytest.fixture
def store(migrated_engine: Engine) -> Engine:
    with transaction(migrated_engine) as session:
        session.add(Branch(branch_id="B001", name="西湖支行", region_code="330106"))
        session.flush()
        session.add_all([
            CustomerManager(manager_id="M1", name="王经理", branch_id="B001", risk_tier=2,
                            hired_on=dt.date(2019, 7, 1)),
            CustomerManager(manager_id="M2", name="李经理", branch_id="B001", risk_tier=1,
                            hired_on=dt.date(2025, 6, 1))])
    return migrated_engine


def batch() -> list[dict[str, Any]]:
    return [
        {"event_id": "C-1", "kind": "checkin", "manager_id": "M1",
         "occurred_at": "2026-03-02T09:15:00", "device_id": "MD-1", "lat": 30.2741,
         "lon": 120.1551, "accuracy_m": 12.5, "mock_location": False, "purpose": "贷前调查",
         "application_no": "AP1", "party_id": "P1"},
        {"event_id": "C-2", "kind": "checkin", "manager_id": "M2",
         "occurred_at": "2026-03-02T01:30:00Z", "device_id": "MD-2", "lat": 30.3,
         "lon": 120.2, "accuracy_m": 40, "mock_location": True},
        {"event_id": "T-1", "kind": "track_point", "manager_id": "M1",
         "occurred_at": "2026-03-02T09:05:00+08:00", "device_id": "MD-1", "lat": 30.27,
         "lon": 120.15, "accuracy_m": 8},
        {"event_id": "V-1", "kind": "visit_log", "manager_id": "M1",
         "occurred_at": "2026-03-02T10:00:00", "subject": "AP1", "visit_kind": "贷前调查",
         "notes": "厂房在产", "employees_seen": 12},
        {"event_id": "O-1", "kind": "operation", "manager_id": "M1",
         "occurred_at": "2026-03-02T11:00:00", "action": "export", "object_type": "customer",
         "object_id": "branch-B001", "row_count": 1500},
        {"event_id": "O-2", "kind": "operation", "manager_id": "M2",
         "occurred_at": "2026-03-01T23:30:00", "action": "edit", "object_type": "application",
         "object_id": "AP1", "field": "phone"},
    ]


def count(engine: Engine, table: type) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table)) or 0


def test_a_batch_is_stored_once_and_a_resend_is_all_duplicates(store: Engine) -> None:
    first = take_events(store, batch(), received_at=RECEIVED, source="phone")
    assert first.accepted == ("C-1", "C-2", "T-1", "V-1", "O-1", "O-2")
    assert first.duplicates == () and first.quarantined == ()
    again = take_events(store, batch(), received_at=RECEIVED + dt.timedelta(hours=1))
    assert again.accepted == () and again.quarantined == ()
    assert again.duplicates == first.accepted
    assert count(store, StaffEvent) == 6
    with transaction(store) as session:
        stored = session.get_one(StaffEvent, "C-1")
        assert stored.received_at == RECEIVED and stored.batch_id == first.batch_id
        assert stored.occurred_at == dt.datetime(2026, 3, 2, 1, 15, tzinfo=dt.UTC)
        assert stored.payload == {"purpose": "贷前调查", "application_no": "AP1",
                                  "party_id": "P1"}
        assert (stored.lat, stored.accuracy_m, stored.mock_location) == (30.2741, 12.5, False)
        done = session.get_one(LoadBatch, again.batch_id)
        assert (done.rows_in, done.rows_accepted, done.rows_quarantined) == (6, 0, 0)


def test_the_same_content_spelt_otherwise_is_a_duplicate(store: Engine) -> None:
    take_events(store, batch()[:1], received_at=RECEIVED)
    respelt = {**batch()[0], "occurred_at": "2026-03-02T01:15:00+00:00", "lat": 30.2741,
               "accuracy_m": 12.50}
    result = take_events(store, [respelt], received_at=RECEIVED)
    assert result.duplicates == ("C-1",) and result.quarantined == ()


def test_a_reused_id_with_other_content_is_quarantined(store: Engine) -> None:
    take_events(store, batch()[:1], received_at=RECEIVED)
    moved = {**batch()[0], "lat": 31.0}
    twice = [{**batch()[2], "event_id": "T-9"}, {**batch()[2], "event_id": "T-9", "lon": 121}]
    result = take_events(store, [moved, *twice], received_at=RECEIVED)
    assert result.accepted == ("T-9",) and result.duplicates == ()
    assert [(q["row"], q["event_id"], q["field"]) for q in result.quarantined] == [
        (1, "C-1", "event_id"), (3, "T-9", "event_id")]
    assert "already used with other content" in result.quarantined[0]["reason"]
    with transaction(store) as session:
        assert session.get_one(StaffEvent, "C-1").lat == 30.2741
        assert session.get_one(StaffEvent, "T-9").lon == 120.15


def test_refusals_are_quarantined_with_field_and_reason(store: Engine) -> None:
    good, *_ = batch()
    bad = [{**good, "event_id": "B-1", "lat": 0, "lon": 0},
           {**good, "event_id": "B-2", "manager_id": "M404"},
           {**good, "event_id": "B-3", "occurred_at": "2025-05-31T23:59:00",
            "manager_id": "M2"},  # M2 was hired on 2025-06-01
           {**good, "event_id": "B-4", "occurred_at": "2026-03-02T12:06:00"},
           "not an event"]
    result = take_events(store, [good, *bad], received_at=RECEIVED)
    assert result.accepted == ("C-1",)
    found = {q["row"]: (q["event_id"], q["field"]) for q in result.quarantined}
    assert found == {2: ("B-1", "lat,lon"), 3: ("B-2", "manager_id"),
                     4: ("B-3", "occurred_at"), 5: ("B-4", "occurred_at"),
                     6: (None, "event")}
    reasons = {q["event_id"]: q["reason"] for q in result.quarantined}
    assert "unknown staff" in reasons["B-2"] and "未登记的客户经理" in reasons["B-2"]
    assert "before the manager was hired (2025-06-01)" in reasons["B-3"]
    assert "in the future" in reasons["B-4"]
    with transaction(store) as session:
        rows = session.scalars(select(QuarantinedRow).where(
            QuarantinedRow.batch_id == result.batch_id).order_by(QuarantinedRow.row_number))
        kept = [(r.table_name, r.row_number, r.column_name, r.raw.get("event_id"))
                for r in rows]
        done = session.get_one(LoadBatch, result.batch_id)
        assert (done.rows_in, done.rows_accepted, done.rows_quarantined) == (6, 1, 5)
    assert kept == [("staff_event", 2, "lat,lon", "B-1"), ("staff_event", 3, "manager_id", "B-2"),
                    ("staff_event", 4, "occurred_at", "B-3"),
                    ("staff_event", 5, "occurred_at", "B-4"), ("staff_event", 6, "event", None)]


def test_a_sender_stores_only_their_own_events(store: Engine) -> None:
    result = take_events(store, batch(), received_at=RECEIVED, sender="M2")
    assert result.accepted == ("C-2", "O-2")
    assert {q["event_id"] for q in result.quarantined} == {"C-1", "T-1", "V-1", "O-1"}
    assert all(q["reason"].startswith("manager_id: 不是本人的事件 · not your events")
               for q in result.quarantined)


def test_unstorable_junk_is_quarantined_not_a_store_error(store: Engine) -> None:
    junk = {"event_id": "J\x00", "kind": "checkin", "manager_id": "M1\ud800",
            "bad\x00key": float("nan"), "notes": ["\x00", {"deep": float("inf")}]}
    result = take_events(store, [junk, batch()[0]], received_at=RECEIVED)
    assert result.accepted == ("C-1",) and len(result.quarantined) == 1
    refused = result.quarantined[0]
    assert refused["event_id"] == "J\\x00" and refused["manager_id"] == "M1\\ud800"
    assert "'bad\\x00key'" in refused["reason"]
    with transaction(store) as session:
        raw = session.scalars(select(QuarantinedRow.raw)).one()
        assert raw["bad\\x00key"] == "nan" and raw["notes"] == ["\\x00", {"deep": "inf"}]


def test_a_store_error_stores_nothing_of_the_batch(store: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(record: Any, **kwargs: Any) -> Any:
        event = validate_event(record, **kwargs)
        if event.event_id == "O-1":  # slips past the checks: the store's foreign key refuses
            return event.__class__(**{**event.__dict__, "manager_id": "M-GONE"})
        return event

    monkeypatch.setattr(event_intake, "validate_event", broken)
    bad = {**batch()[0], "event_id": "B-1", "lat": 95}
    with pytest.raises(IntegrityError):
        take_events(store, [*batch(), bad], received_at=RECEIVED)
    assert (count(store, StaffEvent), count(store, LoadBatch), count(store, QuarantinedRow)) \
        == (0, 0, 0)


def test_events_come_back_as_the_signals_columns(store: Engine) -> None:
    take_events(store, batch(), received_at=RECEIVED)
    for kind in KINDS:
        table = events_table(store, kind)
        assert table.schema == COLUMNS[kind]
        assert table.column_names[:3] == ["event_id", "manager_id", "occurred_at"]
    checkins = events_table(store, "checkin").to_pylist()
    assert [c["event_id"] for c in checkins] == ["C-1", "C-2"]  # 09:15 and 09:30 bank time
    assert checkins[0] == {"event_id": "C-1", "manager_id": "M1",
                           "occurred_at": dt.datetime(2026, 3, 2, 9, 15), "lat": 30.2741,
                           "lon": 120.1551, "accuracy_m": 12.5, "mock_location": False,
                           "device_id": "MD-1", "purpose": "贷前调查", "application_no": "AP1"}
    assert checkins[1]["mock_location"] is True and checkins[1]["purpose"] is None
    assert events_table(store, "track_point").to_pylist()[0]["occurred_at"] == \
        dt.datetime(2026, 3, 2, 9, 5)
    visit = events_table(store, "visit_log").to_pylist()[0]
    assert (visit["subject"], visit["visit_kind"], visit["employees_seen"]) == ("AP1", "贷前调查",
                                                                               12)
    operations = events_table(store, "operation").to_pylist()
    assert [(o["event_id"], o["action"], o["field"], o["row_count"]) for o in operations] == [
        ("O-2", "edit", "phone", None), ("O-1", "export", None, 1500)]


def test_events_table_reads_a_period(store: Engine) -> None:
    take_events(store, batch(), received_at=RECEIVED)
    since = dt.datetime(2026, 3, 2, 9, 15)  # naive: bank time, inclusive
    assert events_table(store, "checkin", since=since).column("event_id").to_pylist() == [
        "C-1", "C-2"]
    until = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 bank time, exclusive
    assert events_table(store, "checkin", since=since, until=until).column(
        "event_id").to_pylist() == ["C-1"]
    later = dt.datetime(2026, 3, 2, 9, 15, 1, tzinfo=BANK_TZ)
    assert events_table(store, "checkin", since=later).num_rows == 1
    assert events_table(store, "operation", until=dt.datetime(2026, 3, 2)).column(
        "event_id").to_pylist() == ["O-2"]
    with pytest.raises(ValueError, match="unknown kind 'selfie'"):
        events_table(store, "selfie")


def test_a_batch_racing_another_is_tried_again(store: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Another phone stored the same events between this batch's look-up and its insert: the
    key refuses the insert, and the whole batch, tried again, finds them duplicates."""
    take_events(store, batch()[:2], received_at=RECEIVED)
    looked_up = event_intake._stored
    calls: list[int] = []

    def stale(session: Any, records: Any) -> dict[str, str]:
        calls.append(1)
        return {} if len(calls) == 1 else looked_up(session, records)

    monkeypatch.setattr(event_intake, "_stored", stale)
    result = take_events(store, batch()[:3], received_at=RECEIVED)
    assert len(calls) == 2
    assert result.duplicates == ("C-1", "C-2") and result.accepted == ("T-1",)
    assert count(store, StaffEvent) == 3 and count(store, LoadBatch) == 2
