"""The capacity table: the packaged file loads, and bad files stop with file:line."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.origination.capacity import (
    DD_LEVELS,
    DECISION_MODES,
    capacity_from_text,
    load_capacity,
)


def _text() -> str:
    return resources.files("xiaowei.origination").joinpath("capacity.yaml").read_text("utf-8")


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(True), 1) if needle in line)


def test_packaged_table_loads_and_is_documented() -> None:
    cap = load_capacity()
    figures = cap.figures()
    assert len(figures) == 16
    for key, f in figures.items():
        assert f.zh and f.en and len(f.source) >= 10, key
    assert cap.minutes_for("automatic") == 0
    assert cap.minutes_for("human_assisted") < cap.minutes_for("human")
    assert [cap.dd_hours_for(x) for x in DD_LEVELS] == sorted(
        cap.dd_hours_for(x) for x in DD_LEVELS)
    assert cap.manager_customer_hours == pytest.approx(1600.0)
    assert set(DECISION_MODES) == {"automatic", "human_assisted", "human"}


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(_text().replace("value: 390", "value: 420"), "utf-8")
    assert load_capacity(path).approvers.minutes_per_day.value == 420


@pytest.mark.parametrize(("old", "new", "anchor", "expect"), [
    ("    value: 40\n", "    value: -40\n", "value: -40", "reviewer_minutes.human.value"),
    ("    value: 40\n", "    value: 10\n", "value: 10\n",
     "reviewer_minutes.human: Value error, human must take more than human_assisted"),
    ("    value: 12\n", "    value: 3\n", "value: 3\n",
     "dd_hours.deep: Value error, deep must take at least standard"),
    ("    value: 0.25\n", "    value: 2\n", "  onsite:\n",
     "inspection_hours.onsite: Value error, onsite must take at least offsite"),
    ("    value: 20\n", "    value: 20.5\n", "value: 20.5", "headcount must be a whole"),
    ("    value: 0.8\n", "    value: 1.5\n", "value: 1.5", "customer_work_share must be in"),
    ("  dd_level: standard\n", "  dd_level: thorough\n", "dd_level: thorough",
     "traditional.dd_level"),
    ("  collection_actions_per_default: 8\n", "  collection_actions_per_default: 8\n"
     "  surprise: 1\n", "surprise:", "traditional.surprise"),
    ("    basis: calibrated\n", "    basis: guessed\n", "basis: guessed", "basis"),
])
def test_bad_values_are_reported_with_their_line(old: str, new: str, anchor: str,
                                                 expect: str) -> None:
    text = _text().replace(old, new, 1)
    assert text != _text()
    with pytest.raises(DataFileError) as exc:
        capacity_from_text(text)
    message = str(exc.value)
    assert expect in message
    # An anchor "key:" names a figure: its error sits on the figure's first line.
    line = _line(text, anchor) + (1 if anchor.endswith(":\n") else 0)
    assert message.startswith(f"capacity.yaml:{line}:"), message


def test_missing_figure_and_duplicate_key() -> None:
    text = _text()
    start = text.index("maintenance_visit_hours:")
    end = text.index("collection_action_hours:")
    with pytest.raises(DataFileError, match="maintenance_visit_hours: Field required"):
        capacity_from_text(text[:start] + text[end:])
    dup = text.replace("version: 1\n", "version: 1\nversion: 2\n", 1)
    with pytest.raises(DataFileError, match=r"capacity\.yaml:\d+: version: duplicate key"):
        capacity_from_text(dup)
    with pytest.raises(DataFileError, match=r"capacity\.yaml:1:"):
        capacity_from_text("")
