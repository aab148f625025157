"""What the review and due-diligence YAML files share: a strict base, the working calendar,
and loading a packaged or edited file with line-numbered errors.

Why here and not in the engine: the engine takes a :class:`WorkingCalendar` object; which days
the bank's approvers work is the bank's data, edited in YAML beside the rules that use it.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from xiaowei.engine.workflow.calendar_spec import CalendarSpec, Strict
from xiaowei.entities.datafiles import parse_yaml, validate_loaded

M = TypeVar("M", bound=BaseModel)
__all__ = ["CalendarSpec", "Strict", "load_rules"]  # the two specs live in the engine


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
