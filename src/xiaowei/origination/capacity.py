"""The capacity model: staff time per unit of work, one table for both processes.

Why a data file: the claim "300 approvals a day with the same approvers" is only as honest as
the minutes behind it. SIMULATOR.md §4 asks for ONE documented table, the same for the
traditional and the digital process and fixed before tuning, so the minutes live in
``capacity.yaml`` (reviewed in diffs, each figure with its source) and not in the code of
either process. A mistake stops at load with ``capacity.yaml:LINE: key: problem``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from xiaowei.entities.datafiles import parse_yaml, validate_loaded

DD_LEVELS = ("none", "light", "standard", "deep")
"""Due-diligence levels, lightest first."""
DECISION_MODES = ("automatic", "human_assisted", "human")
"""Who decides: the machine alone, a person with the machine's pre-assessment, a person alone."""

DdLevel = Literal["none", "light", "standard", "deep"]
DecisionMode = Literal["automatic", "human_assisted", "human"]
Count = Annotated[float, Field(ge=0.0, le=365.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Strict):
    """One documented figure: its value and why it is what it is."""

    value: Annotated[float, Field(ge=0.0)]
    unit: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    basis: Literal["practice", "assumption", "calibrated"]
    source: str = Field(min_length=10)
    check: bool = False  # remembered, not read (DOMAIN.md [check]): confirm with the bank


def _at_least(info: ValidationInfo, value: Figure, before: str, strict: bool = False) -> None:
    """Refuse ``value`` below (or, strict, equal to) the figure ``before`` of the same group.

    A field validator, not a model one, so that the error points at the offending figure's
    line rather than at the top of its group.
    """
    prior = info.data.get(before)
    if isinstance(prior, Figure) and (value.value < prior.value
                                      or (strict and value.value == prior.value)):
        relation = "more than" if strict else "at least"
        raise ValueError(f"{info.field_name} must take {relation} {before} "
                         f"({value.value} vs {prior.value})")


class Approvers(_Strict):
    headcount: Figure
    minutes_per_day: Figure

    @field_validator("headcount")
    @classmethod
    def _whole(cls, value: Figure) -> Figure:
        if value.value < 1 or value.value != int(value.value):
            raise ValueError("headcount must be a whole number ≥ 1")
        return value

    @field_validator("minutes_per_day")
    @classmethod
    def _day(cls, value: Figure) -> Figure:
        if not 0 < value.value <= 24 * 60:
            raise ValueError("minutes_per_day must be in (0, 1440]")
        return value


class ReviewerMinutes(_Strict):
    """Minutes per decision by mode. The machine's pre-assessment exists to save the reviewer
    time: if it did not, the "human with machine support" mode would be a free pass."""

    automatic: Figure
    human_assisted: Figure
    human: Figure

    @field_validator("human_assisted")
    @classmethod
    def _assisted(cls, value: Figure, info: ValidationInfo) -> Figure:
        _at_least(info, value, "automatic")
        return value

    @field_validator("human")
    @classmethod
    def _human(cls, value: Figure, info: ValidationInfo) -> Figure:
        _at_least(info, value, "human_assisted", strict=True)
        return value


class Manager(_Strict):
    hours_per_year: Figure
    customer_work_share: Figure

    @field_validator("hours_per_year")
    @classmethod
    def _year(cls, value: Figure) -> Figure:
        if not 0 < value.value <= 366 * 24:
            raise ValueError("hours_per_year must be in (0, 8784]")
        return value

    @field_validator("customer_work_share")
    @classmethod
    def _share(cls, value: Figure) -> Figure:
        if not 0 < value.value <= 1:
            raise ValueError("customer_work_share must be in (0, 1]")
        return value


class DdHours(_Strict):
    """Hours per due diligence; a deeper level never takes less time than a lighter one."""

    none: Figure
    light: Figure
    standard: Figure
    deep: Figure

    @field_validator("light", "standard", "deep")
    @classmethod
    def _ordered(cls, value: Figure, info: ValidationInfo) -> Figure:
        assert info.field_name is not None
        _at_least(info, value, DD_LEVELS[DD_LEVELS.index(info.field_name) - 1])
        return value


class InspectionHours(_Strict):
    offsite: Figure
    onsite: Figure

    @field_validator("onsite")
    @classmethod
    def _ordered(cls, value: Figure, info: ValidationInfo) -> Figure:
        _at_least(info, value, "offsite")
        return value


class TraditionalPractice(_Strict):
    """Not capacity: how today's process uses it, as the simulator runs it (counts only)."""

    dd_level: DdLevel
    onsite_inspections_per_year: Count
    offsite_inspections_per_year: Count
    maintenance_visits_per_year: Count
    collection_actions_per_late_instalment: Count
    collection_actions_per_default: Count


class Capacity(_Strict):
    """The whole capacity table (``capacity.yaml``)."""

    version: Annotated[int, Field(ge=1, strict=True)]
    approvers: Approvers
    reviewer_minutes: ReviewerMinutes
    manager: Manager
    dd_hours: DdHours
    inspection_hours: InspectionHours
    maintenance_visit_hours: Figure
    collection_action_hours: Figure
    servicing_hours_per_customer_year: Figure
    traditional: TraditionalPractice

    def minutes_for(self, mode: str) -> float:
        """Reviewer minutes one decision in ``mode`` takes."""
        if mode not in DECISION_MODES:
            raise ValueError(f"decision mode {mode!r} is not one of {list(DECISION_MODES)}")
        return float(getattr(self.reviewer_minutes, mode).value)

    def dd_hours_for(self, level: str) -> float:
        """Manager hours one due diligence at ``level`` takes."""
        if level not in DD_LEVELS:
            raise ValueError(f"DD level {level!r} is not one of {list(DD_LEVELS)}")
        return float(getattr(self.dd_hours, level).value)

    @property
    def manager_customer_hours(self) -> float:
        """Hours a manager has for customers in a year."""
        return self.manager.hours_per_year.value * self.manager.customer_work_share.value

    def figures(self) -> dict[str, Figure]:
        """Every figure by dotted key (for the docs table and for reports)."""
        out: dict[str, Figure] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Figure):
                out[name] = value
            elif isinstance(value, BaseModel):
                for sub in type(value).model_fields:
                    item = getattr(value, sub)
                    if isinstance(item, Figure):
                        out[f"{name}.{sub}"] = item
        return out


DEFAULT_FILE = "capacity.yaml"


def load_capacity(path: Path | str | None = None) -> Capacity:
    """The table from ``path``, or the packaged ``capacity.yaml``; ``DataFileError`` if wrong."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text("utf-8")
        name = DEFAULT_FILE
    else:
        path = Path(path)
        text, name = path.read_text("utf-8"), path.name
    return capacity_from_text(text, name)


def capacity_from_text(text: str, name: str = DEFAULT_FILE) -> Capacity:
    """The table from YAML text (tests, an editor's preview before saving)."""
    return validate_loaded(Capacity, parse_yaml(text, name))
