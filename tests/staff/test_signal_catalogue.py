"""The staff behaviour-signal catalogue: the shipped file loads, and every kind of mistake is
refused with the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.staff.signal_catalogue import (
    PARAMS,
    StaffSignalCatalogue,
    load_signal_catalogue,
)

SHIPPED = Path(__file__).parents[2] / "src/xiaowei/staff/signals.yaml"


def test_the_shipped_catalogue_covers_every_computation() -> None:
    cat = load_signal_catalogue()
    assert isinstance(cat, StaffSignalCatalogue)
    assert {s.name for s in cat.signals} == set(PARAMS)
    assert {s.category for s in cat.signals} == {
        "location", "cadence", "operations", "threshold_gaming", "collusion"}
    # Shared identifiers alone never say red: rings also apply through honest managers.
    assert cat.signal("shared_identifier_groups").red is None
    assert cat.signal("collusion_suspected").red is not None
    for s in cat.signals:
        assert s.zh and s.en and len(s.logic) > 40


def test_an_unknown_signal_is_named() -> None:
    with pytest.raises(KeyError, match="no staff signal 'nope'"):
        load_signal_catalogue().signal("nope")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text("utf-8")
    assert old in text, old
    path = tmp_path / "signals.yaml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    yellow: {at: 0.08, min_events: 3}\n    orange: {at: 0.15, min_events: 4}\n",
     "    yellow: {at: 0.15, min_events: 3}\n    orange: {at: 0.08, min_events: 4}\n",
     "strictly higher"),
    ("    orange: {at: 0.15, min_events: 4}\n", "    orange: {at: 0.15, min_events: 1}\n",
     "fewer events"),
    ("    red: {at: 0.30, min_events: 6}\n", "    red: {at: 3.0, min_events: 6}\n", r"\(0, 1\]"),
    ("      radius_m: 300                  # DOMAIN", "      radius: 300                  # D",
     "missing"),
    ("  - name: geofence_miss\n", "  - name: geofence_mess\n", "no computation"),
    ("    category: location\n", "    category: places\n", "category"),
    ("      min_rows: 500", "      min_rows: -5", "above 0"),
    ("      identifiers: [phone, device, address, guarantor, legal_rep]",
     "      identifiers: [phone, email]", "identifiers"),
    ("    window_days: 90\n", "    window_days: 90\n    window_days: 30\n", "duplicate key"),
])
def test_a_mistake_is_refused_with_its_line(tmp_path: Path, old: str, new: str,
                                            message: str) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(DataFileError, match=message) as refused:
        load_signal_catalogue(path)
    text = str(refused.value)
    assert text.startswith("signals.yaml:")
    line = int(text.split(":")[1])
    edited = path.read_text("utf-8")
    # The reported line is the edit's own line or the start of the signal that holds it.
    start = edited.rindex("  - name:", 0, edited.index(new) + len(new))
    assert _line_of(edited, edited[start:start + 9]) <= line <= _line_of(edited, new) + 2


def test_the_verdict_needs_the_signals_whose_figures_it_reads(tmp_path: Path) -> None:
    text = SHIPPED.read_text("utf-8")
    start = text.index("  - name: back_dated_entries")
    end = text.index("  - name: bulk_exports")
    path = tmp_path / "signals.yaml"
    path.write_text(text[:start] + text[end:], "utf-8")
    with pytest.raises(DataFileError, match="back_dated_entries") as refused:
        load_signal_catalogue(path)
    assert str(refused.value).startswith("signals.yaml:")
