"""The rules behaviour events are checked against, as data (``events.yaml``): the bank's service
area, the largest believable GPS error, the earliest possible day, the clock-skew allowance,
the app's actions and the kinds of field visit.

Why data: these are the bank's choices (a bank of one province narrows the box; a new app
action is a line in a diff), reviewed like the other rule files; a mistake stops at load with
``events.yaml:LINE: key: problem``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.entities.datafiles import load_data_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceArea(_Strict):
    """The bank's territory as a latitude/longitude box (inclusive)."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    lat_min: float = Field(ge=-90, le=90)
    lat_max: float = Field(ge=-90, le=90)
    lon_min: float = Field(ge=-180, le=180)
    lon_max: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> ServiceArea:
        if self.lat_min >= self.lat_max or self.lon_min >= self.lon_max:
            raise ValueError("lat_min must be below lat_max and lon_min below lon_max")
        return self

    def holds(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


class EventRules(_Strict):
    """``events.yaml``: the service area, limits and vocabularies events are checked against."""

    version: int = Field(ge=1)
    service_area: ServiceArea
    accuracy_max_m: float = Field(gt=0)
    earliest: dt.date
    clock_skew_seconds: int = Field(ge=0, le=86_400)
    actions: tuple[str, ...] = Field(min_length=1)
    visit_kinds: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> EventRules:
        for name in ("actions", "visit_kinds"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: a value is listed twice")
        return self


def load_event_rules(path: Path | str | None = None) -> EventRules:
    """The packaged ``events.yaml``, or an edited copy at ``path``; a mistake is a
    :class:`~xiaowei.entities.datafiles.DataFileError` naming ``file:line: key: problem``."""
    return load_data_file(EventRules, __package__ or "xiaowei.staff", "events.yaml", path)


@cache
def default_event_rules() -> EventRules:
    """The packaged rules, read once per process."""
    return load_event_rules()


__all__ = ["EventRules", "ServiceArea", "default_event_rules", "load_event_rules"]
