"""`/v1/staff/events`: the mobile app posts a batch of its manager's behaviour events.

The logic is :mod:`xiaowei.staff.event_intake`'s; this router parses, scopes and renders. Who
may post is the permission ``staff_events:write`` with its scope: ``own`` (a customer manager)
reports only the events of their own customer-manager row — an event naming another manager
is quarantined with the reason "not your events" — and ``all`` (an administrator, a device
gateway's user) reports for every manager. A body that is not a list of 1 to ``MAX_BATCH``
JSON objects is a 422 problem naming each bad row, and nothing is stored; otherwise the answer
is 200 with the report: events stored, duplicates (already stored, nothing written) and
quarantined rows with the field at fault and the reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from xiaowei.api.deps import CurrentPrincipal
from xiaowei.security.principal import Principal
from xiaowei.staff.event_intake import EventStoreBusy, take_events

router = APIRouter(prefix="/v1/staff", tags=["staff"])
MAX_BATCH = 1000  # a phone's backlog after a day offline, well inside the 1 MiB body limit
RESOURCE = "staff_events"

EXAMPLE = [{"event_id": "APP-M0001-000123", "kind": "checkin", "manager_id": "M0001",
            "occurred_at": "2026-03-02T10:15:00+08:00", "device_id": "MD-7F3A", "lat": 30.2741,
            "lon": 120.1551, "accuracy_m": 12.0, "mock_location": False, "purpose": "贷前调查",
            "application_no": "AP00001000042"},
           {"event_id": "APP-M0001-000124", "kind": "operation", "manager_id": "M0001",
            "occurred_at": "2026-03-02T10:40:00", "action": "edit",
            "object_type": "application", "object_id": "AP00001000042", "field": "phone"}]


def _reporter(principal: CurrentPrincipal) -> Principal:
    """The caller, if they may report events: 403 without ``staff_events:write:*``, or with
    the ``own`` scope but no customer-manager row to call their own."""
    scope = principal.scope(RESOURCE, "write")
    if scope is None:
        raise HTTPException(403, f"{principal.name} ({principal.role}) lacks permission "
                                 f"'{RESOURCE}:write:own'")
    if scope == "own" and principal.manager_id is None:
        raise HTTPException(403, f"{principal.name} is not linked to a customer manager, so "
                                 "has no events of their own to report")
    return principal


Reporter = Annotated[Principal, Depends(_reporter)]
Events = Annotated[list[dict[str, Any]], Body(
    min_length=1, max_length=MAX_BATCH, examples=[EXAMPLE],
    description="behaviour events (JSON objects): event_id, kind (checkin | track_point | "
                "visit_log | operation), manager_id, occurred_at (ISO 8601; without an offset "
                "it is the bank's time, Asia/Shanghai) and the kind's fields — see docs/staff.md")]


class EventProblem(BaseModel):
    """One field at fault, in Chinese and English."""

    field: str
    zh: str
    en: str


class QuarantinedEvent(BaseModel):
    """A refused event: its position in the batch (1-based), what it said it was, and why."""

    row: int
    event_id: str | None
    manager_id: str | None
    kind: str | None
    field: str = Field(description="the first field at fault")
    reason: str = Field(description="every reason, 'field: 中文 · English', joined by '; '")
    problems: list[EventProblem]


class EventReport(BaseModel):
    """What the batch did: stored, already stored (nothing written), quarantined."""

    batch_id: str
    accepted: list[str] = Field(description="event ids stored now")
    duplicates: list[str] = Field(description="event ids already stored with this content")
    quarantined: list[QuarantinedEvent]


@router.post("/events")
def post_events(request: Request, events: Events, principal: Reporter) -> EventReport:
    """Store a batch of behaviour events once by event id; refusals are quarantined."""
    own = principal.scope(RESOURCE, "write") == "own"
    try:
        result = take_events(request.app.state.engine, events,
                             received_at=dt.datetime.now(dt.UTC),
                             source=f"api by {principal.name}",
                             sender=principal.manager_id if own else None)
    except EventStoreBusy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
    return EventReport.model_validate(result.to_json())
