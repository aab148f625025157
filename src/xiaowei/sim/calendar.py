"""The simulated bank's clock: 36 observed months, the last 24 with applications.

Month 0 is January 2023; the simulation ends on the last day of month 35 (2025-12-31). Risk
processes run 12 months further (to month 47) so that loans granted near the end have a
ground-truth future that the platform cannot see yet.
"""

from __future__ import annotations

import numpy as np

START_MONTH = np.datetime64("2023-01", "M")
HISTORY_MONTHS = 36
APPLICATION_FIRST_MONTH = 12
TRUTH_MONTHS = 48
SIM_END = np.datetime64("2025-12-31", "D")


def month_start(m: np.ndarray | int) -> np.ndarray:
    """First day of month index m (vectorised)."""
    return (START_MONTH + np.asarray(m, dtype="timedelta64[M]")).astype("datetime64[D]")


def month_end(m: np.ndarray | int) -> np.ndarray:
    return month_start(np.asarray(m) + 1) - np.timedelta64(1, "D")


def month_label(m: np.ndarray | int) -> np.ndarray:
    """'YYYY-MM' strings, the form tax and utility filings use for their period."""
    return np.datetime_as_string(START_MONTH + np.asarray(m, dtype="timedelta64[M]"), unit="M")


def month_of(d: np.ndarray) -> np.ndarray:
    """Month index of dates."""
    return (np.asarray(d).astype("datetime64[M]") - START_MONTH).astype(np.int64)


def add_months(d: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """Same day k months later, clipped to month end (how loan due dates fall)."""
    d = np.asarray(d, dtype="datetime64[D]")
    m = d.astype("datetime64[M]")
    day = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = (m + np.asarray(k, dtype="timedelta64[M]"))
    first = target.astype("datetime64[D]")
    last = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64) - 1
    return target.astype("datetime64[D]") + np.minimum(day, last).astype("timedelta64[D]")
