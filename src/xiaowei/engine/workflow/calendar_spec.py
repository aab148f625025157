"""A working calendar and strict rule files as data: the pydantic specs every domain's YAML
rules share (review, due diligence, warning signals, collection).

Why in the workflow engine: the calendar is the engine's (:class:`WorkingCalendar`); each domain
only says which days its people work. Keeping the spec here lets post-loan and origination
read the same shape without one domain importing the other.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.engine.workflow.sla import ServiceLevel, WorkingCalendar


class Strict(BaseModel):
    """Unknown keys are refused: a misspelt key must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarSpec(Strict):
    """The queue's working time (see :class:`~xiaowei.engine.workflow.WorkingCalendar`)."""

    day_start: dt.time = dt.time(9)
    day_end: dt.time = dt.time(17, 30)
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1)
    utc_offset_hours: float = Field(8.0, ge=-12, le=14)
    holidays: list[dt.date] = Field(default_factory=list)
    extra_workdays: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> CalendarSpec:
        self.calendar()  # the engine's own checks (day_end after day_start, weekdays 1–7)
        return self

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.day_start, self.day_end, frozenset(self.weekdays),
                               frozenset(self.holidays), frozenset(self.extra_workdays),
                               self.utc_offset_hours)


class Deadline(Strict):
    """How soon a piece of work must be answered: clock hours or working days (exactly one).
    Post-loan warnings and staff alerts both state their response times this way."""

    hours: int | None = Field(None, gt=0)
    working_days: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Deadline:
        if (self.hours is None) == (self.working_days is None):
            raise ValueError("give exactly one of hours or working_days")
        return self

    def due(self, raised: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
        """When the response is due for work raised at ``raised`` (aware)."""
        if self.hours is not None:
            return raised + dt.timedelta(hours=self.hours)
        return calendar.add_working_days(raised, self.working_days or 0)

    def service_level(self, calendar: WorkingCalendar) -> ServiceLevel:
        """The engine's service level: hours run on the clock, days on the calendar."""
        if self.hours is not None:
            return ServiceLevel(hours=self.hours)
        return ServiceLevel(days=self.working_days, calendar=calendar)


__all__ = ["CalendarSpec", "Deadline", "Strict"]
