"""Behaviour events (行为事件): what a customer manager's phone reports, and when it is believed.

Four kinds: ``checkin`` (a GPS check-in at a customer, with accuracy, device and whether the
phone said its location was mocked), ``track_point`` (a point of the path between visits),
``visit_log`` (what the manager wrote after a visit) and ``operation`` (an act in the app:
view, edit, export, approve …). Staff signals (impossible travel, check-ins far from the
customer, bulk exports, edits just before disbursement — DOMAIN.md §7) are only as good as
these records, so an event is refused, with the field at fault and a reason in Chinese and
English, when it cannot be true: coordinates out of range, at "null island" (0, 0) or outside
the bank's service area; a time in the future (beyond a small clock-skew allowance), before
2000 or before the manager was hired; a manager the bank does not employ; a missing, unknown
or mistyped field. The service area, limits, actions and visit kinds are data
(``events.yaml``, read by :mod:`xiaowei.staff.event_rules`).

Pure functions, no store: :func:`validate_event` gets the known managers (id → hire date) from
its caller (:mod:`xiaowei.staff.event_intake`), so the rules are tested without a database.
Times are the bank's local time (Asia/Shanghai, UTC+8 all year since 1991): a timestamp
without an offset is read as bank time, one with an offset is converted to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xiaowei.staff.event_rules import (
    EventRules,
    ServiceArea,
    default_event_rules,
    load_event_rules,
)

BANK_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
KINDS = ("checkin", "track_point", "visit_log", "operation")
COMMON = ("event_id", "kind", "manager_id", "occurred_at")
# Fields kept in columns of their own (GPS integrity signals query them); the rest of a kind's
# fields are its details.
LOCATED = ("lat", "lon", "accuracy_m", "mock_location", "device_id")
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "checkin": ("device_id", "lat", "lon", "accuracy_m", "mock_location"),
    "track_point": ("device_id", "lat", "lon", "accuracy_m"),
    "visit_log": ("subject", "visit_kind", "notes"),
    "operation": ("action", "object_type", "object_id"),
}
OPTIONAL: Mapping[str, tuple[str, ...]] = {
    "checkin": ("purpose", "application_no", "party_id"),
    "track_point": (),
    "visit_log": ("device_id", "employees_seen"),
    "operation": ("device_id", "field", "row_count"),
}
MAX_EVENT_ID = 64
MAX_NOTES = 2000
NULL_ISLAND_DEG = 1e-6  # ~0.1 m: a fix this close to (0, 0) is a default value, not a place
_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


# --- refusals ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """Why one field of an event cannot be believed, in Chinese and English."""

    field: str
    zh: str
    en: str

    @property
    def reason(self) -> str:
        return f"{self.field}: {self.zh} · {self.en}"

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "zh": self.zh, "en": self.en}


class EventRefused(ValueError):
    """An event refused for one or more reasons (every field at fault, not only the first)."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(self.reason)

    @property
    def field(self) -> str:
        return self.refusals[0].field

    @property
    def reason(self) -> str:
        return "; ".join(r.reason for r in self.refusals)


class _Bad(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def shown(value: Any, limit: int = 40) -> str:
    """A received value as a message may quote it: repr (control characters escaped), cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(key: Any) -> str:
    """A received key as a field name in a message (and in quarantine's column_name)."""
    return key if isinstance(key, str) and _KEY.fullmatch(key) else shown(key, 64)


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# --- one field at a time -------------------------------------------------------------------

def _text(value: Any, limit: int, *, multiline: bool = False, blanks: bool = True) -> str:
    if not isinstance(value, str):
        raise _Bad("应为文本", f"must be text, got {_type(value)} {shown(value)}")
    text = value.strip()
    if not text:
        raise _Bad("为空", "is empty")
    if len(text) > limit:
        raise _Bad(f"超过 {limit} 个字符", f"is longer than {limit} characters")
    allowed = "\n\r\t" if multiline else ""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text):
        raise _Bad("含控制字符", f"contains control characters: {shown(value)}")
    if not blanks and any(ch.isspace() for ch in text):
        raise _Bad("含空白字符", f"contains blanks: {shown(value)}")
    return text


def _code(limit: int) -> Callable[[Any, EventRules], str]:
    return lambda value, _rules: _text(value, limit, blanks=False)


def _label(limit: int) -> Callable[[Any, EventRules], str]:
    return lambda value, _rules: _text(value, limit)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Bad("应为数字", f"must be a number, got {_type(value)} {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise _Bad("数值过大", f"is too large: {shown(value)}") from None
    if not math.isfinite(number):
        raise _Bad("不是有限数（NaN 或无穷）", f"is not a finite number: {shown(value)}")
    return number


def _degrees(limit: int) -> Callable[[Any, EventRules], float]:
    def check(value: Any, _rules: EventRules) -> float:
        number = _number(value)
        if not -limit <= number <= limit:
            raise _Bad(f"超出 ±{limit}° 的可能范围", f"{number} is outside ±{limit}°: impossible")
        return number
    return check


def _accuracy(value: Any, rules: EventRules) -> float:
    number = _number(value)
    if not 0 < number <= rules.accuracy_max_m:
        raise _Bad(f"定位精度应在 (0, {rules.accuracy_max_m:g}] 米内",
                   f"must be > 0 and ≤ {rules.accuracy_max_m:g} m, got {number:g}")
    return number


def _count(limit: int) -> Callable[[Any, EventRules], int]:
    def check(value: Any, _rules: EventRules) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad("应为整数", f"must be a whole number, got {_type(value)} {shown(value)}")
        if not 0 <= value <= limit:
            raise _Bad(f"应在 0 到 {limit} 之间", f"must be between 0 and {limit}, got {value}")
        return value
    return check


def _flag(value: Any, _rules: EventRules) -> bool:
    if not isinstance(value, bool):
        raise _Bad("应为 true 或 false", f"must be true or false, got {shown(value)}")
    return value


def _one_of(name: str) -> Callable[[Any, EventRules], str]:
    def check(value: Any, rules: EventRules) -> str:
        allowed: tuple[str, ...] = getattr(rules, name)
        if value not in allowed:
            raise _Bad(f"不在允许值 {', '.join(allowed)} 之中",
                       f"{shown(value)} is not one of {', '.join(allowed)}")
        return str(value)
    return check


def _occurred_at(value: Any) -> dt.datetime:
    """An ISO 8601 timestamp as an aware datetime in bank time; no offset means bank time."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            raise _Bad("缺少时刻", f"has a date but no time of day: {shown(value)}")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad("不是 ISO 8601 时间", f"is not an ISO 8601 timestamp: {shown(value)}") \
                from None
    else:
        raise _Bad("应为 ISO 8601 时间文本",
                   f"must be ISO 8601 text, got {_type(value)} {shown(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=BANK_TZ)
    try:
        return moment.astimezone(BANK_TZ)
    except OverflowError:
        raise _Bad("超出可表示的时间范围", f"is out of range: {shown(value)}") from None


CHECKS: Mapping[str, Callable[[Any, EventRules], Any]] = {
    "event_id": _code(MAX_EVENT_ID),
    "manager_id": _code(32),
    "occurred_at": lambda value, _rules: _occurred_at(value),
    "device_id": _code(64),
    "lat": _degrees(90),
    "lon": _degrees(180),
    "accuracy_m": _accuracy,
    "mock_location": _flag,
    "purpose": _label(64),
    "application_no": _code(32),
    "party_id": _code(32),
    "subject": _code(64),
    "visit_kind": _one_of("visit_kinds"),
    "notes": lambda value, _rules: _text(value, MAX_NOTES, multiline=True),
    "employees_seen": _count(100_000),
    "action": _one_of("actions"),
    "object_type": _code(32),
    "object_id": _code(64),
    "field": _label(64),
    "row_count": _count(1_000_000_000),
}


# --- the event -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BehaviourEvent:
    """One believed event: common fields, the located ones (check-ins, path points) and the
    kind's other fields in ``details`` (absent optional fields left out)."""

    event_id: str
    kind: str
    manager_id: str
    occurred_at: dt.datetime  # aware, bank time
    device_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    mock_location: bool | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"event_id": self.event_id, "kind": self.kind,
                               "manager_id": self.manager_id,
                               "occurred_at": self.occurred_at.isoformat(timespec="microseconds")}
        for name in LOCATED:
            if getattr(self, name) is not None:
                doc[name] = getattr(self, name)
        doc.update(self.details)
        return doc

    def content_hash(self) -> str:
        """SHA-256 of the normalised content: a resend (even with another spelling of the same
        time or 30 for 30.0) has the same hash; other content under the same id does not."""
        text = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fields(record: Mapping[str, Any], names: Sequence[str], required: bool,
            rules: EventRules, refusals: list[Refusal]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        raw = record.get(name)
        if raw is None:
            if required:
                refusals.append(Refusal(name, "缺少必填字段", "is required"))
            continue
        try:
            values[name] = CHECKS[name](raw, rules)
        except _Bad as bad:
            refusals.append(Refusal(name, bad.zh, bad.en))
    return values


def _place(values: dict[str, Any], rules: EventRules, refusals: list[Refusal]) -> None:
    lat, lon = values.get("lat"), values.get("lon")
    if lat is None or lon is None:
        return
    area = rules.service_area
    if abs(lat) < NULL_ISLAND_DEG and abs(lon) < NULL_ISLAND_DEG:
        refusals.append(Refusal("lat,lon", "坐标为 (0, 0)：定位未取得",
                                "(0, 0) is null island: the phone had no fix"))
    elif not area.lat_min <= lat <= area.lat_max:
        refusals.append(Refusal("lat", f"纬度 {lat} 不在服务区域（{area.zh}）内",
                                f"{lat} is outside the service area ({area.en}: "
                                f"{area.lat_min}–{area.lat_max}°N)"))
    elif not area.lon_min <= lon <= area.lon_max:
        refusals.append(Refusal("lon", f"经度 {lon} 不在服务区域（{area.zh}）内",
                                f"{lon} is outside the service area ({area.en}: "
                                f"{area.lon_min}–{area.lon_max}°E)"))


def _when(moment: dt.datetime, received_at: dt.datetime, hired_on: dt.date | None,
          rules: EventRules) -> Refusal | None:
    latest = received_at + dt.timedelta(seconds=rules.clock_skew_seconds)
    if moment.date() < rules.earliest:
        return Refusal("occurred_at", f"早于 {rules.earliest}，不可能",
                       f"{moment.isoformat()} is before {rules.earliest}: impossible")
    if moment > latest:
        return Refusal("occurred_at",
                       f"晚于接收时间 {rules.clock_skew_seconds} 秒以上（未来时间）",
                       f"{moment.isoformat()} is in the future: more than "
                       f"{rules.clock_skew_seconds} s after it was received "
                       f"({received_at.astimezone(BANK_TZ).isoformat(timespec='seconds')})")
    if hired_on is not None and moment.date() < hired_on:
        return Refusal("occurred_at", f"早于该客户经理入职日 {hired_on}",
                       f"{moment.date()} is before the manager was hired ({hired_on})")
    return None


def _who(manager_id: str, staff: Mapping[str, dt.date | None],
         sender: str | None) -> Refusal | None:
    if sender is not None and manager_id != sender:
        return Refusal("manager_id", "不是本人的事件",
                       f"not your events: you report as {sender!r}, the event names "
                       f"{shown(manager_id)}")
    if manager_id not in staff:
        return Refusal("manager_id", "未登记的客户经理",
                       f"unknown staff: no customer manager {shown(manager_id)}")
    return None


def validate_event(record: Any, *, received_at: dt.datetime,
                   staff: Mapping[str, dt.date | None], rules: EventRules | None = None,
                   sender: str | None = None) -> BehaviourEvent:
    """``record`` as a :class:`BehaviourEvent`, or :class:`EventRefused` naming every field
    at fault.

    ``received_at``: when the bank received it (aware; the future is judged against it);
    ``staff``: the bank's customer managers, id → hire date (``None`` when unknown);
    ``sender``: the manager id of who sends it, when they may send only their own events.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    rules = rules or default_event_rules()
    if not isinstance(record, Mapping):
        raise EventRefused([Refusal("event", "应为 JSON 对象",
                                    f"an event is a JSON object, got {_type(record)}")])
    refusals: list[Refusal] = []
    kind = record.get("kind")
    if kind is None:
        refusals.append(Refusal("kind", "缺少必填字段", "is required"))
    elif kind not in KINDS:
        refusals.append(Refusal("kind", f"未知的事件类型（应为 {', '.join(KINDS)}）",
                                f"unknown kind {shown(kind)}: use one of {', '.join(KINDS)}"))
    values = _fields(record, [n for n in COMMON if n != "kind"], True, rules, refusals)
    known = set(COMMON)
    if kind in KINDS:
        values |= _fields(record, REQUIRED[kind], True, rules, refusals)
        values |= _fields(record, OPTIONAL[kind], False, rules, refusals)
        known |= {*REQUIRED[kind], *OPTIONAL[kind]}
        for name in record:
            if name not in known:
                refusals.append(Refusal(_name(name), f"{kind} 事件没有此字段",
                                        f"unknown field for a {kind} event"))
        _place(values, rules, refusals)
    if "manager_id" in values:
        who = _who(values["manager_id"], staff, sender)
        refusals.extend([who] if who else [])
    if "occurred_at" in values:
        when = _when(values["occurred_at"], received_at, staff.get(values.get("manager_id", "")),
                     rules)
        refusals.extend([when] if when else [])
    if refusals:
        raise EventRefused(refusals)
    located = {name: values.get(name) for name in LOCATED}
    details = {k: v for k, v in values.items() if k not in COMMON and k not in LOCATED}
    return BehaviourEvent(values["event_id"], str(kind), values["manager_id"],
                          values["occurred_at"], **located, details=details)


__all__ = ["BANK_TZ", "KINDS", "BehaviourEvent", "EventRefused", "EventRules", "Refusal",
           "ServiceArea", "default_event_rules", "load_event_rules", "shown",
           "validate_event"]
