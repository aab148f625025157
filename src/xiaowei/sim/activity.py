"""How busy each party's business is, month by month: the hidden driver of every flow.

Tax sales, invoices, electricity and account flows are all this level times source-specific
noise. Distress lowers it from the signal month (months before a default, or with no lead
for sudden defaults); recovery brings it back (false alarms); default collapses it.
"""

from __future__ import annotations

import numpy as np

from xiaowei.sim.calendar import APPLICATION_FIRST_MONTH, HISTORY_MONTHS
from xiaowei.sim.population import Parties

SEASON = np.array([1.0, 0.68, 1.02, 1.0, 1.0, 1.03, 1.0, 0.98, 1.02, 1.04, 1.05, 1.18])


def established_month(p: Parties) -> np.ndarray:
    """Month index of establishment (negative: before the observed history)."""
    return APPLICATION_FIRST_MONTH - np.round(p["years"] * 12).astype(np.int64)


def level(p: Parties, rng: np.random.Generator, months: int = HISTORY_MONTHS) -> np.ndarray:
    """(n, months) multiplier on a party's normal monthly revenue; 0 before it existed."""
    m = np.arange(months)[None, :]
    growth = (1.0 + p["growth"][:, None]) ** ((m - APPLICATION_FIRST_MONTH) / 12.0)
    noise = np.exp(0.10 * rng.standard_normal((len(p), months)))
    lvl = growth * SEASON[m % 12] * noise
    sig, rec, dft = p["signal_m"][:, None], p["recovery_m"][:, None], p["default_m"][:, None]
    ramp = np.clip((m - sig + 1) / 3.0, 0.0, 1.0)
    heal = np.clip((m - rec + 1) / 3.0, 0.0, 1.0)
    lvl = lvl * (1.0 - p["severity"][:, None] * ramp * (1.0 - heal))
    lvl = np.where(m >= dft, lvl * 0.12, lvl)
    return np.where(m >= established_month(p)[:, None], lvl, 0.0)


def monthly_revenue_yuan(p: Parties) -> np.ndarray:
    return p["revenue_wan"] * 10_000.0 / 12.0
