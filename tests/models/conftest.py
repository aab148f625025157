"""Synthetic applicant books for the scorecard tests, as fixtures (never imported).

Why synthetic: the truth is known — which features carry risk, in which direction, which
are noise or duplicates — so a test can say what the scorecard *must* find.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

Book = tuple[dict[str, np.ndarray], np.ndarray]


def _book(n: int = 4000, seed: int = 7) -> Book:
    """Columns with known roles and a 0/1 target (1 = bad).

    income      numeric, risk falls as it rises; 8% missing (riskier); -999 in 3% (riskiest)
    utilisation numeric, risk rises with it
    industry    categorical: six common levels of different risk, plus rare levels
    noise       numeric, unrelated to the target
    income_copy income times 1.001 plus a whisker of noise (a near-duplicate)
    """
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9.0, 0.6, n)
    utilisation = rng.uniform(0.0, 1.2, n)
    common = np.array(["retail", "catering", "transport", "farming", "tech", "building"])
    industry = common[rng.integers(0, len(common), n)].astype(object)
    rare = rng.random(n) < 0.02
    industry[rare] = np.array([f"rare{i}" for i in range(12)], dtype=object)[
        rng.integers(0, 12, int(rare.sum()))
    ]
    industry_risk = {"retail": 0.0, "catering": 0.6, "transport": 0.3, "farming": -0.4,
                     "tech": -0.8, "building": 0.9}
    log_odds = (
        -2.0
        - 1.2 * (np.log(income) - 9.0)
        + 2.0 * (utilisation - 0.6)
        + np.array([industry_risk.get(v, 0.0) for v in industry])
    )
    missing = rng.random(n) < 0.08
    special = (~missing) & (rng.random(n) < 0.03)
    log_odds[missing] += 0.8
    log_odds[special] += 2.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-log_odds))).astype(np.int64)
    income_seen = income.copy()
    income_seen[missing] = np.nan
    income_seen[special] = -999.0
    copy = income_seen * 1.001 + rng.normal(0.0, 1.0, n)
    copy[special] = -999.0
    return (
        {
            "income": income_seen,
            "utilisation": utilisation,
            "industry": industry,
            "noise": rng.normal(0.0, 1.0, n),
            "income_copy": copy,
        },
        y,
    )


@pytest.fixture(scope="session")
def book() -> Callable[..., Book]:
    """``book(n=4000, seed=7)`` → (columns, y); see ``_book`` for the roles of the columns."""
    return _book


@pytest.fixture(scope="session")
def rows() -> Callable[[dict[str, np.ndarray], int], list[dict[str, Any]]]:
    """``rows(columns, k)`` → the first ``k`` rows as plain dicts (NaN kept as NaN)."""

    def take(columns: dict[str, np.ndarray], k: int) -> list[dict[str, Any]]:
        return [{name: values[i] for name, values in columns.items()} for i in range(k)]

    return take
