"""The warning-signal catalogue (预警信号目录): which tag moves raise which level of warning.

Why a catalogue of data over tags rather than code: the signals are the risk department's
(DOMAIN.md §3 — tax, invoices, power, flows, courts, registry, bureau, related parties), their
thresholds change by committee, and every one must be explainable as "tag T was V, the orange
line is L". Each signal reads one tag of the bank's catalogue, so the same definition runs in the
nightly batch (DuckDB or Spark) and for one customer online, and a new signal needs no code.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from xiaowei.engine.workflow.calendar_spec import CalendarSpec, Deadline, Strict
from xiaowei.entities.datafiles import load_data_file

CATALOGUE_FILE = "warning_signals.yaml"


class Level(IntEnum):
    """Warning levels, ordered so that the worst is the largest (0 = no warning)."""

    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, key: str) -> Level:
        return cls[key.upper()]


LEVEL_KEYS = ("yellow", "orange", "red")


class LevelResponse(Strict):
    zh: str
    en: str
    respond_within: Deadline
    inspection: Literal["on_site", "off_site"]
    actions: list[str] = Field(min_length=1)
    action_zh: str


class Signal(Strict):
    """One signal: a tag (optionally ÷ another), a direction and up to three thresholds."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    source: str
    tag: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    per: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    direction: Literal["below", "above", "flag"]
    yellow: float | bool | None = None
    orange: float | bool | None = None
    red: float | bool | None = None

    @model_validator(mode="after")
    def _thresholds(self) -> Signal:
        given = {k: getattr(self, k) for k in LEVEL_KEYS if getattr(self, k) is not None}
        if not given:
            raise ValueError("give at least one of yellow, orange, red")
        if self.direction == "flag":
            if any(v is not True for v in given.values()):
                raise ValueError("a flag signal's levels are `true` (the tag is set)")
            if len(given) != 1:
                raise ValueError("a flag signal raises exactly one level")
            if self.per is not None:
                raise ValueError("a flag signal cannot divide by another tag (per)")
            return self
        if any(isinstance(v, bool) for v in given.values()):
            raise ValueError(f"{self.direction} thresholds are numbers, not true/false")
        values = [float(given[k]) for k in LEVEL_KEYS if k in given]  # yellow → red
        ordered = sorted(values, reverse=self.direction == "below")
        if values != ordered or len(set(values)) != len(values):
            worse = "lower" if self.direction == "below" else "higher"
            raise ValueError(f"each worse level needs a strictly {worse} threshold "
                             f"(yellow → orange → red), got {values}")
        return self

    def threshold(self, level: str) -> float | bool | None:
        return getattr(self, level)

    @property
    def tags(self) -> tuple[str, ...]:
        return (self.tag,) if self.per is None else (self.tag, self.per)


class WarningCatalogue(Strict):
    version: int = Field(ge=1)
    levels: dict[Literal["yellow", "orange", "red"], LevelResponse]
    reraise_after_days: int = Field(ge=1)
    calendar: CalendarSpec = CalendarSpec()
    signals: list[Signal] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> WarningCatalogue:
        missing = [k for k in LEVEL_KEYS if k not in self.levels]
        if missing:
            raise ValueError(f"levels: missing {missing}")
        names = [s.name for s in self.signals]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"signals: names used twice: {twice}")
        return self

    def signal(self, name: str) -> Signal:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(f"no warning signal {name!r}; the catalogue has "
                       f"{', '.join(s.name for s in self.signals)}")

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag the signals read, once, in catalogue order."""
        seen: dict[str, None] = {}
        for s in self.signals:
            for t in s.tags:
                seen.setdefault(t, None)
        return tuple(seen)

    def check_tags(self, defined: set[str] | frozenset[str]) -> None:
        """Refuse a catalogue naming a tag the bank's tag catalogue does not define."""
        unknown = [f"{s.name}: {t}" for s in self.signals for t in s.tags if t not in defined]
        if unknown:
            raise ValueError(f"{CATALOGUE_FILE}: signals read tags the tag catalogue does not "
                             f"define: {', '.join(unknown)}")


def load_warning_catalogue(path: Path | str | None = None) -> WarningCatalogue:
    """The packaged catalogue, or an edited copy at ``path``; ``DataFileError`` naming
    ``file:line: key: problem`` when it is wrong."""
    return load_data_file(WarningCatalogue, __package__, CATALOGUE_FILE, path)
