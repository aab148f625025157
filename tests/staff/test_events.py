"""Behaviour events are believed only when they could be true: every refusal names its field,
in Chinese and English, at the boundary where it starts (no store needed)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.entities.datafiles import DataFileError
from xiaowei.staff.events import (
    BANK_TZ,
    KINDS,
    EventRefused,
    EventRules,
    default_event_rules,
    load_event_rules,
    validate_event,
)
from xiaowei.store.tables import STAFF_EVENT_KINDS

RECEIVED = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 bank time
STAFF: dict[str, dt.date | None] = {"M1": dt.date(2019, 7, 1), "M0": None}
RULES = default_event_rules()

CHECKIN: dict[str, Any] = {"event_id": "E-1", "kind": "checkin", "manager_id": "M1",
                           "occurred_at": "2026-03-02T10:15:00", "device_id": "MD-1",
                           "lat": 30.2741, "lon": 120.1551, "accuracy_m": 12.0,
                           "mock_location": False, "purpose": "贷前调查",
                           "application_no": "AP00001000042", "party_id": "P0001"}
TRACK: dict[str, Any] = {"event_id": "T-1", "kind": "track_point", "manager_id": "M1",
                         "occurred_at": "2026-03-02T10:05:00", "device_id": "MD-1",
                         "lat": 30.27, "lon": 120.15, "accuracy_m": 25}
VISIT: dict[str, Any] = {"event_id": "V-1", "kind": "visit_log", "manager_id": "M1",
                         "occurred_at": "2026-03-02T11:00:00", "subject": "AP00001000042",
                         "visit_kind": "贷前调查", "notes": "厂房在产，\n库存充足",
                         "employees_seen": 12}
OPERATION: dict[str, Any] = {"event_id": "O-1", "kind": "operation", "manager_id": "M1",
                             "occurred_at": "2026-03-02T11:30:00", "action": "export",
                             "object_type": "customer_list", "object_id": "branch-B001",
                             "row_count": 1500}
VALID = {"checkin": CHECKIN, "track_point": TRACK, "visit_log": VISIT, "operation": OPERATION}


def check(record: Any, *, sender: str | None = None, rules: EventRules | None = None,
          received: dt.datetime = RECEIVED) -> Any:
    return validate_event(record, received_at=received, staff=STAFF, rules=rules or RULES,
                          sender=sender)


def refused(record: Any, **kwargs: Any) -> EventRefused:
    with pytest.raises(EventRefused) as caught:
        check(record, **kwargs)
    return caught.value


def test_the_vocabulary_is_the_store_s() -> None:
    assert KINDS == STAFF_EVENT_KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_a_valid_event_of_each_kind_is_believed(kind: str) -> None:
    event = check(VALID[kind])
    assert event.kind == kind and event.manager_id == "M1"
    assert event.occurred_at.utcoffset() == dt.timedelta(hours=8)
    doc = event.to_json()
    assert {k for k in VALID[kind] if k != "occurred_at"} <= set(doc)


def test_fields_are_normalised_and_the_hash_ignores_spelling() -> None:
    event = check(CHECKIN)
    assert event.occurred_at == dt.datetime(2026, 3, 2, 10, 15, tzinfo=BANK_TZ)
    assert event.lat == 30.2741 and event.mock_location is False
    assert event.details == {"purpose": "贷前调查", "application_no": "AP00001000042",
                             "party_id": "P0001"}
    same = check({**CHECKIN, "occurred_at": "2026-03-02T02:15:00Z", "accuracy_m": 12,
                  "event_id": " E-1 "})
    assert same.occurred_at == event.occurred_at and same.event_id == "E-1"
    assert same.content_hash() == event.content_hash()
    assert check({**CHECKIN, "accuracy_m": 13}).content_hash() != event.content_hash()
    shifted = check({**CHECKIN, "occurred_at": "2026-03-02T10:15:00+09:00"})
    assert shifted.occurred_at == dt.datetime(2026, 3, 2, 9, 15, tzinfo=BANK_TZ)


def _one(record: dict[str, Any], **kwargs: Any) -> tuple[str, str, str]:
    found = refused(record, **kwargs).refusals
    assert len(found) == 1, found
    return found[0].field, found[0].zh, found[0].en


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"lat": 90.000001}, "lat", "outside ±90°"),
    ({"lat": -91}, "lat", "outside ±90°"),
    ({"lon": 180.5}, "lon", "outside ±180°"),
    ({"lat": math.nan}, "lat", "not a finite number"),
    ({"lon": math.inf}, "lon", "not a finite number"),
    ({"lat": 10 ** 400}, "lat", "too large"),
    ({"lat": "30.27"}, "lat", "must be a number"),
    ({"lon": True}, "lon", "must be a number"),
    ({"lat": 17.999999}, "lat", "outside the service area"),
    ({"lat": 54.000001}, "lat", "outside the service area"),
    ({"lon": 72.999999}, "lon", "outside the service area"),
    ({"lon": 135.000001}, "lon", "outside the service area"),
    ({"accuracy_m": 0}, "accuracy_m", "> 0"),
    ({"accuracy_m": -3.5}, "accuracy_m", "> 0"),
    ({"accuracy_m": 5000.01}, "accuracy_m", "≤ 5000 m"),
    ({"mock_location": "false"}, "mock_location", "true or false"),
    ({"occurred_at": "2026-03-02T12:05:01"}, "occurred_at", "in the future"),
    ({"occurred_at": "2026-03-02"}, "occurred_at", "no time of day"),
    ({"occurred_at": "yesterday"}, "occurred_at", "not an ISO 8601"),
    ({"occurred_at": 1772417700}, "occurred_at", "ISO 8601 text"),
    ({"occurred_at": "2019-06-30T23:59:59"}, "occurred_at", "before the manager was hired"),
    ({"manager_id": "M404"}, "manager_id", "unknown staff"),
    ({"event_id": "E\x00"}, "event_id", "control characters"),
    ({"event_id": "E 1"}, "event_id", "blanks"),
    ({"event_id": "E" * 65}, "event_id", "longer than 64"),
    ({"device_id": ""}, "device_id", "empty"),
    ({"speed_kmh": 80}, "speed_kmh", "unknown field"),
    ({"lat": None}, "lat", "required"),
])
def test_an_impossible_checkin_is_refused_naming_the_field(change: dict[str, Any], field: str,
                                                           words: str) -> None:
    got_field, zh, en = _one({**CHECKIN, **change})
    assert got_field == field and words in en and zh


@pytest.mark.parametrize("change", [
    {"lat": 18.0}, {"lat": 54.0}, {"lon": 73.0}, {"lon": 135.0}, {"accuracy_m": 5000},
    {"accuracy_m": 0.1}, {"occurred_at": "2026-03-02T12:05:00"},
    {"occurred_at": "2019-07-01T00:00:00"}, {"occurred_at": "2026-03-02T04:05:00+00:00"},
])
def test_the_last_believable_value_is_accepted(change: dict[str, Any]) -> None:
    assert check({**CHECKIN, **change}).event_id == "E-1"


def test_the_year_2000_bounds_events_of_managers_without_a_hire_date() -> None:
    early = {**OPERATION, "manager_id": "M0"}
    assert check({**early, "occurred_at": "2000-01-01T00:00:00"}).manager_id == "M0"
    # 16:00 UTC on 31 December 1999 is midnight in the bank: the offset is honoured.
    assert check({**early, "occurred_at": "1999-12-31T16:00:00Z"}).occurred_at.year == 2000
    field, _, en = _one({**early, "occurred_at": "1999-12-31T23:59:59"})
    assert field == "occurred_at" and "before 2000-01-01" in en


def test_null_island_is_refused_even_where_the_area_allows_it() -> None:
    world = EventRules.model_validate({**RULES.model_dump(), "service_area": {
        "zh": "全球", "en": "the world", "lat_min": -90, "lat_max": 90, "lon_min": -180,
        "lon_max": 180}})
    field, zh, en = _one({**CHECKIN, "lat": 0, "lon": 0.0}, rules=world)
    assert field == "lat,lon" and "null island" in en and "(0, 0)" in zh
    assert check({**CHECKIN, "lat": 0.0, "lon": 0.001}, rules=world).lon == 0.001
    field, _, en = _one({**CHECKIN, "lat": 0, "lon": 0})  # the default area names it too
    assert field == "lat,lon"


def test_a_customer_manager_reports_only_their_own_events() -> None:
    assert check(CHECKIN, sender="M1").manager_id == "M1"
    field, zh, en = _one(CHECKIN, sender="M0")
    assert field == "manager_id" and zh == "不是本人的事件" and en.startswith("not your events")
    # An id outside the bank is also "not yours": the sender learns nothing of who exists.
    assert _one({**CHECKIN, "manager_id": "M404"}, sender="M0")[2].startswith("not your")


@pytest.mark.parametrize(("kind", "missing"), [
    (kind, name) for kind, record in VALID.items() for name in record
    if name not in ("purpose", "application_no", "party_id", "employees_seen", "row_count",
                    "kind")])
def test_each_required_field_is_named_when_missing(kind: str, missing: str) -> None:
    record = {k: v for k, v in VALID[kind].items() if k != missing}
    field, zh, en = _one(record)
    assert (field, zh, en) == (missing, "缺少必填字段", "is required")


@pytest.mark.parametrize(("record", "field", "words"), [
    ({**OPERATION, "action": "print"}, "action", "not one of view, edit, export"),
    ({**OPERATION, "row_count": -1}, "row_count", "between 0 and"),
    ({**OPERATION, "row_count": True}, "row_count", "whole number"),
    ({**VISIT, "visit_kind": "喝茶"}, "visit_kind", "is not one of"),
    ({**VISIT, "employees_seen": 2.5}, "employees_seen", "whole number"),
    ({**VISIT, "notes": "   "}, "notes", "empty"),
    ({**VISIT, "notes": "x" * 2001}, "notes", "longer than 2000"),
    ({**TRACK, "mock_location": True}, "mock_location", "unknown field for a track_point"),
    ({**VISIT, "lat": 30.1}, "lat", "unknown field for a visit_log"),
])
def test_kind_fields_are_checked(record: dict[str, Any], field: str, words: str) -> None:
    got_field, _, en = _one(record)
    assert got_field == field and words in en


def test_an_unknown_kind_or_a_non_object_is_refused() -> None:
    field, zh, en = _one({**CHECKIN, "kind": "selfie"})
    assert field == "kind" and "unknown kind 'selfie'" in en and "未知的事件类型" in zh
    assert refused(["not", "an", "object"]).field == "event"
    assert refused({**CHECKIN, "kind": None}).field == "kind"


def test_every_field_at_fault_is_named_at_once() -> None:
    error = refused({**CHECKIN, "lat": 95, "accuracy_m": 0, "manager_id": "M404",
                     "occurred_at": "2031-01-01T00:00:00"})
    assert [r.field for r in error.refusals] == ["lat", "accuracy_m", "manager_id",
                                                 "occurred_at"]
    assert error.field == "lat" and error.reason.count("; ") == 3
    assert "lat: 超出 ±90° 的可能范围 · 95.0 is outside ±90°" in error.reason


def test_received_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_event(CHECKIN, received_at=dt.datetime(2026, 3, 2), staff=STAFF)


inside = st.tuples(st.floats(18, 54), st.floats(73, 135))
outside = st.tuples(st.floats(-90, 90), st.floats(-180, 180)).filter(
    lambda p: not (18 <= p[0] <= 54 and 73 <= p[1] <= 135))


@given(inside)
def test_any_coordinate_inside_the_box_is_accepted(point: tuple[float, float]) -> None:
    event = check({**CHECKIN, "lat": point[0], "lon": point[1]})
    assert (event.lat, event.lon) == point


@given(outside)
def test_any_coordinate_outside_the_box_is_refused(point: tuple[float, float]) -> None:
    error = refused({**TRACK, "lat": point[0], "lon": point[1]})
    assert error.field in ("lat", "lon", "lat,lon") and len(error.refusals) == 1


@given(st.integers(0, 300))
def test_any_time_within_the_clock_skew_is_accepted(seconds: int) -> None:
    at = (RECEIVED + dt.timedelta(seconds=seconds)).isoformat()
    assert check({**OPERATION, "occurred_at": at}).occurred_at.tzinfo == BANK_TZ


def test_the_shipped_rules_and_an_edited_copy(tmp_path: Path) -> None:
    assert RULES.service_area.lat_min == 18 and RULES.service_area.lon_max == 135
    assert RULES.accuracy_max_m == 5000 and RULES.earliest == dt.date(2000, 1, 1)
    assert set(RULES.actions) == {"view", "edit", "export", "approve", "create", "submit",
                                  "delete"}
    shipped = (Path(__file__).resolve().parents[2] / "src" / "xiaowei" / "staff"
               / "events.yaml").read_text("utf-8")
    zhejiang = tmp_path / "events.yaml"
    zhejiang.write_text(shipped.replace("lat_min: 18.0", "lat_min: 27.0"), "utf-8")
    rules = load_event_rules(zhejiang)
    assert _one({**CHECKIN, "lat": 26.9}, rules=rules)[0] == "lat"
    broken = tmp_path / "broken.yaml"
    broken.write_text(shipped.replace("lat_max: 54.0", "lat_max: 10.0"), "utf-8")
    with pytest.raises(DataFileError, match=r"broken.yaml:\d+: service_area: .*lat_min must"):
        load_event_rules(broken)
    broken.write_text(shipped.replace("clock_skew_seconds: 300", "clock_skew: 300"), "utf-8")
    with pytest.raises(DataFileError, match=r"broken.yaml:\d+: clock_skew: Extra inputs"):
        load_event_rules(broken)
