"""Warning precision, recall and lead time, against defaults written in the test."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.postloan.book_support import D, write_book

from xiaowei.postloan.analytics.warning_quality import defaults_from_snapshots, warning_quality
from xiaowei.postloan.loan_state import month_end_snapshots

DEFAULTS = pa.table({"party_id": ["PA", "PB", "PC", "PD"],
                     "defaulted_on": [D(2024, 6, 30), D(2024, 5, 31), D(2024, 9, 30),
                                      D(2024, 3, 31)]})
WARNINGS = pa.table({
    "party_id": ["PA", "PA", "PB", "PB", "PE", "PF", "PC", "PD"],
    "raised_on": [D(2024, 3, 1), D(2024, 5, 20), D(2024, 5, 31), D(2024, 5, 15),
                  D(2024, 2, 1), D(2024, 4, 1), D(2024, 1, 15), D(2024, 4, 10)],
    "level": ["red", "yellow", "red", "yellow", "yellow", "red", "yellow", "red"],
    "signal": ["court", "tax", "court", "tax", "tax", "court", "power", "court"],
})


def test_precision_recall_and_lead_time_by_hand() -> None:
    wq = warning_quality(WARNINGS, DEFAULTS, as_of=D(2024, 12, 31), horizon_days=180,
                         since=D(2023, 12, 1))
    rows = {r["level"]: r for r in wq.summary.to_pylist()}
    assert list(rows) == ["*", "red", "yellow"]
    # Precision counts warnings up to 12-31 − 180 d = 07-04, before the party's default:
    #   red: PA (03-01, defaults 121 d later ✓), PF (no default ✗); PB's red came on its
    #        default day and PD's after its default: neither counts → 1/2.
    #   yellow: PA (05-20, 41 d ✓), PB (05-15, 16 d ✓), PE ✗, PC (259 d > 180 ✗) → 2/4.
    assert (rows["red"]["warned_parties"], rows["red"]["precision"]) == (2, 0.5)
    assert (rows["yellow"]["warned_parties"], rows["yellow"]["precision"]) == (4, 0.5)
    assert (rows["*"]["warned_parties"], rows["*"]["precision"]) == (5, 0.4)
    # Recall counts defaults in [since + 180 = 2024-05-29, 12-31]: PA, PB, PC (not PD).
    #   red: PA (lead 121) → 1/3; yellow: PA (41), PB (16) → 2/3, median 28.5;
    #   any: PA by its first warning (121), PB (16) → 2/3, median 68.5, half ≥ 30 days.
    assert {r["defaults"] for r in rows.values()} == {3}
    assert (rows["red"]["recall"], rows["red"]["lead_median_days"]) == (pytest.approx(1 / 3),
                                                                        121.0)
    assert rows["yellow"]["recall"] == pytest.approx(2 / 3)
    assert rows["yellow"]["lead_median_days"] == 28.5
    assert rows["yellow"]["lead_share_target"] == 0.5
    assert (rows["*"]["lead_median_days"], rows["*"]["lead_share_target"]) == (68.5, 0.5)
    leads = {(r["level"], r["party_id"]): r["lead_days"] for r in wq.leads.to_pylist()}
    assert leads == {("*", "PA"): 121, ("*", "PB"): 16, ("red", "PA"): 121,
                     ("yellow", "PA"): 41, ("yellow", "PB"): 16}


def test_default_window_starts_at_the_first_warning_and_by_signal() -> None:
    wq = warning_quality(WARNINGS, DEFAULTS, as_of=D(2024, 12, 31), horizon_days=180,
                         by="signal")
    assert wq.since == D(2024, 1, 15)
    rows = {r["signal"]: r for r in wq.summary.to_pylist()}
    # Defaults from 2024-07-13 only: PC, whom no signal foresaw within 180 days.
    assert rows["*"]["defaults"] == 1 and rows["*"]["recall"] == 0.0
    assert rows["tax"]["precision"] == pytest.approx(2 / 3)  # PA, PB of PA, PB, PE
    with pytest.raises(ValueError, match="lacks"):
        warning_quality(WARNINGS.drop(["level"]), DEFAULTS, as_of=D(2024, 12, 31))


def test_defaults_from_the_month_end_states() -> None:
    con = write_book()
    snaps = month_end_snapshots(con, D(2024, 1, 1), D(2024, 8, 31))
    assert defaults_from_snapshots(con, snaps).to_pylist() == [
        {"party_id": "P3", "loan_id": "L3", "defaulted_on": D(2024, 6, 30)}]  # 102 dpd
    thirty = defaults_from_snapshots(con, snaps, dpd=30).to_pylist()
    assert [(r["party_id"], r["defaulted_on"]) for r in thirty] == [("P3", D(2024, 4, 30))]
