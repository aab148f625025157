"""What the review and due-diligence YAML files share: a strict base, the working calendar,
and loading a packaged or edited file with line-numbered errors.

Why here and not in the engine: the engine takes a :class:`WorkingCalendar` object; which days
the bank's approvers work is the bank's data, edited in YAML beside the rules that use it.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.engine.workflow import WorkingCalendar
from xiaowei.entities.datafiles import parse_yaml, validate_loaded

M = TypeVar("M", bound=BaseModel)


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


def load_rules(model: type[M], default_file: str, path: Path | str | None = None) -> M:
    """``model`` from ``path``, or from the packaged ``default_file``; ``DataFileError``
    (``file:line: key: problem``) if anything is wrong.

    The packaged files are read once per process: every application's intake opens matching,
    review and DD rules, and parsing them each time cost ~38 ms an application (measured by
    the API benchmark). Models are frozen, so one shared instance is safe; an edited copy at
    ``path`` is read every time.
    """
    if path is None:
        return _packaged(model, default_file)
    path = Path(path)
    return validate_loaded(model, parse_yaml(path.read_text("utf-8"), path.name))


@functools.cache
def _packaged(model: type[M], default_file: str) -> M:
    text = resources.files(__package__).joinpath(default_file).read_text("utf-8")
    return validate_loaded(model, parse_yaml(text, default_file))
