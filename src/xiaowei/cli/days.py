"""The day a command works on: the date the person gave, else the loaded data's as-of date."""

from __future__ import annotations

import datetime as dt

from xiaowei.cli.output import fail
from xiaowei.data.tags.service import data_as_of
from xiaowei.store.analytic import AnalyticStore


def command_day(text: str | None, analytic: AnalyticStore, option: str = "--as-of") -> dt.date:
    """``text`` as a date (a clear error naming ``option`` when it is not one), or the as-of
    date of the governed data when ``text`` is None (a clear error when nothing is loaded)."""
    if text is None:
        try:
            return data_as_of(analytic)
        except LookupError as exc:
            fail(str(exc))
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        fail(f"{option} must be a date like 2025-12-31, got {text!r}")
    raise AssertionError  # unreachable: fail() exits


__all__ = ["command_day"]
