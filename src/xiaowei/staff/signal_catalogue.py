"""The staff behaviour-signal catalogue (客户经理行为信号目录): thresholds and level rules as data.

Why data: each figure (a geofence radius, a road speed, what counts as after hours, how many
applicants sharing a phone make a group) is the bank's choice, changes by committee and must
be explainable as "manager M's rate was V over the last N days, the orange line is L". The
computations live in `behaviour_signals.py` and `collusion.py`; this file says, per signal,
which figures they use, so a catalogue naming an unknown signal or forgetting a figure is
refused at load with ``signals.yaml:LINE: key: problem`` rather than failing in SQL.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from xiaowei.engine.workflow.calendar_spec import Strict
from xiaowei.entities.datafiles import load_data_file

CATALOGUE_FILE = "signals.yaml"
LEVELS = ("yellow", "orange", "red")
Category = Literal["location", "cadence", "operations", "threshold_gaming", "collusion"]
IDENTIFIERS = ("phone", "device", "address", "guarantor", "legal_rep")
CONTACT_FIELDS = ("phone", "address", "account_no")

# Which figures each computation reads: a number, a list of numbers, or a list of words
# (with the words allowed). Adding a signal means adding its computation and a line here.
Kind = Literal["number", "numbers", "identifiers", "fields"]
PARAMS: dict[str, dict[str, Kind]] = {
    "geofence_miss": {"radius_m": "number", "max_geocode_precision_m": "number"},
    "gps_integrity": {},
    "impossible_travel": {"max_speed_kmh": "number", "min_distance_m": "number",
                          "max_gap_hours": "number"},
    "path_not_covered": {"lookback_minutes": "number", "radius_m": "number"},
    "no_visit_before_approval": {"radius_m": "number", "max_geocode_precision_m": "number"},
    "no_check_after_disbursement": {"due_days": "number", "radius_m": "number",
                                    "max_geocode_precision_m": "number"},
    "inspection_overdue": {"radius_m": "number", "max_geocode_precision_m": "number"},
    "contact_change_before_disbursement": {"days_before": "number", "fields": "fields"},
    "back_dated_entries": {"min_days_back": "number"},
    "bulk_exports": {"min_rows": "number"},
    "after_hours_access": {"day_starts_hour": "number", "day_ends_hour": "number"},
    "outside_portfolio_views": {},
    "amount_bunching": {"authority_lines_yuan": "numbers", "band": "number"},
    "month_end_spike": {"last_days": "number"},
    "shared_identifier_groups": {"min_group_size": "number", "identifiers": "identifiers",
                                 "max_sharing": "number"},
    "applicant_phone_is_staff": {},
    "guarantor_concentration": {"min_applicants": "number"},
    "collusion_suspected": {"min_lift": "number"},
}
# The verdict reuses the figures of the signals whose marks it counts (one definition each).
COLLUSION_READS = ("shared_identifier_groups", "geofence_miss", "gps_integrity",
                   "contact_change_before_disbursement", "back_dated_entries",
                   "after_hours_access")


class LevelRule(Strict):
    """A level holds when the value reaches `at` with at least `min_events` events."""

    at: float
    min_events: int = Field(1, ge=1)


class StaffSignal(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    category: Category
    logic: str = Field(min_length=20)
    window_days: int = Field(ge=1, le=730)
    measure: Literal["rate", "count"]
    peer_multiple: float | None = Field(None, gt=0)
    yellow: LevelRule | None = None
    orange: LevelRule | None = None
    red: LevelRule | None = None
    params: dict[str, float | list[float] | list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rules(self) -> StaffSignal:
        if self.name not in PARAMS:
            raise ValueError(f"no computation for signal {self.name!r}; known: "
                             f"{', '.join(PARAMS)}")
        given = [(k, r) for k in LEVELS if (r := getattr(self, k)) is not None]
        if not given:
            raise ValueError("give at least one of yellow, orange, red")
        values = [r.at for _, r in given]
        if any(b <= a for a, b in pairwise(values)):
            raise ValueError(f"each worse level needs a strictly higher `at` "
                             f"(yellow → orange → red), got {values}")
        events = [r.min_events for _, r in given]
        if any(b < a for a, b in pairwise(events)):
            raise ValueError(f"a worse level cannot need fewer events, got {events}")
        if self.measure == "rate" and not all(0 < v <= 1 for v in values):
            raise ValueError(f"a rate's levels lie in (0, 1], got {values}")
        if self.measure == "count" and not all(v >= 1 for v in values):
            raise ValueError(f"a count's levels are at least 1, got {values}")
        self._check_params()
        return self

    def _check_params(self) -> None:
        wanted = PARAMS[self.name]
        missing = sorted(set(wanted) - set(self.params))
        unknown = sorted(set(self.params) - set(wanted))
        if missing or unknown:
            raise ValueError(f"params: missing {missing}, unknown {unknown}" if missing and
                             unknown else f"params: missing {missing}" if missing else
                             f"params: unknown {unknown} (this signal reads "
                             f"{sorted(wanted) or 'none'})")
        for key, kind in wanted.items():
            value = self.params[key]
            if kind == "number" and not isinstance(value, float | int):
                raise ValueError(f"params.{key}: a number, got {value!r}")
            if kind == "number" and float(value) <= 0:  # type: ignore[arg-type]
                raise ValueError(f"params.{key}: must be above 0, got {value!r}")
            if kind == "numbers" and not (isinstance(value, list) and value and all(
                    isinstance(v, float | int) and v > 0 for v in value)):
                raise ValueError(f"params.{key}: a list of positive numbers, got {value!r}")
            allowed = {"identifiers": IDENTIFIERS, "fields": CONTACT_FIELDS}.get(kind)
            if allowed is not None and not (isinstance(value, list) and value and all(
                    v in allowed for v in value)):
                raise ValueError(f"params.{key}: a list of {', '.join(allowed)}, got {value!r}")

    def number(self, key: str) -> float:
        return float(self.params[key])  # type: ignore[arg-type]

    def words(self, key: str) -> list[str]:
        return [str(v) for v in self.params[key]]  # type: ignore[union-attr]

    def numbers(self, key: str) -> list[float]:
        return [float(v) for v in self.params[key]]  # type: ignore[union-attr]

    def rule(self, level: str) -> LevelRule | None:
        return getattr(self, level)


class LevelMeaning(Strict):
    zh: str
    en: str
    response_zh: str
    response_en: str


class StaffSignalCatalogue(Strict):
    version: int = Field(ge=1)
    levels: dict[Literal["yellow", "orange", "red"], LevelMeaning]
    signals: list[StaffSignal] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> StaffSignalCatalogue:
        missing = [k for k in LEVELS if k not in self.levels]
        if missing:
            raise ValueError(f"levels: missing {missing}")
        names = [s.name for s in self.signals]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"signals: names used twice: {twice}")
        if "collusion_suspected" in names:
            absent = [n for n in COLLUSION_READS if n not in names]
            if absent:
                raise ValueError(f"collusion_suspected reads the figures of {absent}; "
                                 "add them to the catalogue")
        return self

    def signal(self, name: str) -> StaffSignal:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(f"no staff signal {name!r}; the catalogue has "
                       f"{', '.join(s.name for s in self.signals)}")

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.signals)


def load_signal_catalogue(path: Path | str | None = None) -> StaffSignalCatalogue:
    """The packaged catalogue, or an edited copy at ``path``; ``DataFileError`` naming
    ``file:line: key: problem`` when it is wrong."""
    return load_data_file(StaffSignalCatalogue, __package__, CATALOGUE_FILE, path)
