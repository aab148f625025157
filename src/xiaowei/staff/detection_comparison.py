"""Finding colluding managers: the digital staff batch against results-only management.

The bank's question (issue 9): how many colluding managers does process-level management find,
how soon after their first colluding application, and how many honest managers does it bother?
Both sides read the same simulated bank; only this module and the tests read the simulator's
``truth/`` (SIMULATOR.md §1: KPI comparisons only) — the batch itself never does.

* **digital** — the nightly staff batch (:func:`xiaowei.staff.run.run_staff`, signals and
  alerts only) run on every checkpoint of the window (twice a month: the 15th and the
  month-end); a manager is *found* on the first checkpoint with the collusion verdict
  (:data:`~xiaowei.staff.run.COLLUSION_VERDICT`: ``collusion_suspected`` at red) on or after
  the first colluding application;
* **traditional** — results-only management: nobody looks at behaviour; a colluding manager
  is found when one of the loans they arranged for a fraud ring defaults in the records (an
  instalment more than 90 days unpaid), the day it reaches 90 days past due.

Figures (``to_json``): ``collusion_recall`` = colluders found within :data:`DETECTION_DAYS` of
their first colluding application ÷ colluders whose first colluding application is at least
that long before the window's end; ``collusion_precision`` = colluders among the managers with
the verdict; ``honest_alert_rate`` = honest managers given the verdict in the window ÷ honest
managers (``detail.honest_any_alert_rate``: honest managers with any orange or red alert of any
kind — location, operations — which supervisors also read); ``median_detection_days`` /
``traditional_median_detection_days`` = median days from the first colluding application to
detection among colluders each side found (``None`` when it found none).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from xiaowei.staff.run import ALERT_LEVELS, COLLUSION_VERDICT, SCHEMA, run_staff

DETECTION_DAYS = 92
""""Within 3 months of the first colluding application"."""
DEFAULT_DAYS = 90
Progress = Callable[[str, int, int], None]


def checkpoints(first: dt.date, last: dt.date) -> list[dt.date]:
    """The 15th and the last day of every month between ``first`` and ``last``."""
    out: list[dt.date] = []
    y, m = first.year, first.month
    while dt.date(y, m, 1) <= last:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        for day in (dt.date(y, m, 15), nxt - dt.timedelta(days=1)):
            if first <= day <= last:
                out.append(day)
        y, m = nxt.year, nxt.month
    return out


def _truth(con: duckdb.DuckDBPyConnection, dataset: Path) -> tuple[dict[str, str],
                                                                    dict[str, dt.date]]:
    """Behaviour per manager and each colluder's first colluding application day."""
    behaviour = dict(con.execute("SELECT manager_id, behaviour FROM read_parquet(?)",
                                 [str(dataset / "truth" / "managers.parquet")]).fetchall())
    first = dict(con.execute(
        "SELECT a.manager_id, min(CAST(a.applied_at AS DATE)) FROM raw.bank_applications a "
        "JOIN read_parquet(?) t USING (application_no) WHERE t.colluding_manager GROUP BY 1",
        [str(dataset / "truth" / "applications.parquet")]).fetchall())
    return behaviour, first


def _defaults(con: duckdb.DuckDBPyConnection, dataset: Path, last: dt.date
              ) -> dict[str, dt.date]:
    """Per manager, the first day a loan they arranged for a ring reached 90 days past due
    in the records (an instalment unpaid, or paid more than 90 days late)."""
    rows = con.execute(f"""
        SELECT a.manager_id, min(r.due_date + INTERVAL {DEFAULT_DAYS} DAY)
        FROM raw.bank_repayments r JOIN raw.bank_loans l USING (loan_no)
        JOIN raw.bank_applications a USING (application_no)
        JOIN read_parquet(?) t USING (application_no)
        WHERE t.colluding_manager
          AND (r.paid_on IS NULL OR r.paid_on > r.due_date + INTERVAL {DEFAULT_DAYS} DAY)
          AND r.due_date + INTERVAL {DEFAULT_DAYS} DAY <= ?
        GROUP BY 1""", [str(dataset / "truth" / "applications.parquet"), last]).fetchall()
    return {m: d.date() if isinstance(d, dt.datetime) else d for m, d in rows}


@dataclass(frozen=True)
class DetectionComparison:
    first: dt.date
    last: dt.date
    checkpoints: int
    managers: int
    colluders: list[str]
    judged: list[str]  # colluders whose first colluding application leaves 3 months to judge
    honest: int
    digital_found: dict[str, int]  # colluder → days to detection
    traditional_found: dict[str, int]
    alerted: set[str]  # managers given the collusion verdict
    honest_alerted: int  # honest managers given the verdict
    honest_any_alert: int  # honest managers with any orange/red alert
    careless: int
    careless_alerted: int

    def to_json(self) -> dict[str, Any]:
        within = [m for m in self.judged if self.digital_found.get(m, DETECTION_DAYS + 1)
                  <= DETECTION_DAYS]
        alerted_colluders = [m for m in self.alerted if m in self.colluders]

        def median(values: list[int]) -> float | None:
            return float(statistics.median(values)) if values else None

        return {
            "collusion_recall": round(len(within) / len(self.judged), 4)
            if self.judged else None,
            "collusion_precision": round(len(alerted_colluders) / len(self.alerted), 4)
            if self.alerted else None,
            "honest_alert_rate": round(self.honest_alerted / self.honest, 4)
            if self.honest else None,
            "median_detection_days": median(list(self.digital_found.values())),
            "traditional_median_detection_days": median(list(self.traditional_found.values())),
            "detail": {
                "window": {"first": self.first.isoformat(), "last": self.last.isoformat()},
                "checkpoints": self.checkpoints, "managers": self.managers,
                "colluders": len(self.colluders), "colluders_judged": len(self.judged),
                "found_within_3_months": len(within),
                "digital_found": dict(sorted(self.digital_found.items())),
                "traditional_found": dict(sorted(self.traditional_found.items())),
                "managers_with_collusion_alert": len(self.alerted),
                "honest_managers": self.honest, "honest_alerted": self.honest_alerted,
                "honest_any_alert": self.honest_any_alert,
                "honest_any_alert_rate": round(self.honest_any_alert / self.honest, 4)
                if self.honest else None,
                "careless_managers": self.careless, "careless_alerted": self.careless_alerted,
                "method": "digital: staff batch on the 15th and month-end, found = first "
                          "collusion verdict (collusion_suspected red) on or after the first "
                          "colluding application; traditional: found when a loan arranged "
                          "for a ring is 90 days past due in the records"}}


def compare_detection(con: duckdb.DuckDBPyConnection, dataset_dir: Path | str, first: dt.date,
                      last: dt.date, *, progress: Progress | None = None
                      ) -> DetectionComparison:
    """Run the staff batch over the window's checkpoints (signals and alerts, stored) and
    compare with results-only management (module docstring)."""
    dataset = Path(dataset_dir)
    if first > last:
        raise ValueError(f"empty window {first} – {last}")
    days = checkpoints(first, last)
    for i, day in enumerate(days):
        if progress:
            progress("staff", i, len(days))
        run_staff(con, day, rate=False)
    if progress:
        progress("staff", len(days), len(days))
    behaviour, first_app = _truth(con, dataset)
    levels = list(ALERT_LEVELS)
    marks = ", ".join("?" for _ in levels)
    any_alert = {m for (m,) in con.execute(
        f"SELECT DISTINCT manager_id FROM {SCHEMA}.alert WHERE as_of BETWEEN ? AND ? "
        f"AND level IN ({marks})", [first, last, *levels]).fetchall()}
    collusion: dict[str, list[dt.date]] = {}
    for m, day in con.execute(
            f"SELECT manager_id, as_of FROM {SCHEMA}.signal WHERE as_of BETWEEN ? AND ? "
            f"AND signal = ? AND level = ? ORDER BY as_of",
            [first, last, *COLLUSION_VERDICT]).fetchall():
        collusion.setdefault(m, []).append(day)
    colluders = sorted(m for m, b in behaviour.items() if b == "colluding" and m in first_app)
    judged = [m for m in colluders
              if first <= first_app[m] <= last - dt.timedelta(days=DETECTION_DAYS)]
    digital = {}
    for m in colluders:
        hits = [d for d in collusion.get(m, []) if d >= first_app[m]]
        if hits:
            digital[m] = (min(hits) - first_app[m]).days
    traditional = {m: (d - first_app[m]).days for m, d in _defaults(con, dataset, last).items()
                   if m in first_app and d >= first_app[m]}
    honest = [m for m, b in behaviour.items() if b == "honest"]
    careless = [m for m, b in behaviour.items() if b == "careless"]
    return DetectionComparison(
        first, last, len(days), len(behaviour), colluders, judged, len(honest), digital,
        traditional, set(collusion), sum(m in collusion for m in honest),
        sum(m in any_alert for m in honest), len(careless),
        sum(m in any_alert for m in careless))


__all__ = ["DETECTION_DAYS", "DetectionComparison", "checkpoints", "compare_detection"]
