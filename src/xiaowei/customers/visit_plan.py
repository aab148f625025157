"""Maintenance visits a year per customer, from the grades the customer batch stored.

Why a function over the stored day: the operations comparison and the capacity report must
price the visits the grade pack actually asks for (A every 30 days … D none), not a stated
mix; a customer the batch did not grade gets the book's average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from xiaowei.customers.customer_tables import customer_days


def visits_per_year_from_grades(con: duckdb.DuckDBPyConnection, as_of: dt.date
                                ) -> Callable[[str], float]:
    """``party_id → visits a year`` (365 ÷ the grade's visit interval; 0 where the grade asks
    for none), the average for an ungraded party."""
    day = customer_days(con, as_of, columns=("party_id", "visit_every_days"))
    per_party = {p: (365.0 / d if d else 0.0) for p, d in zip(
        day["party_id"].to_pylist(), day["visit_every_days"].to_pylist(), strict=True)}
    average = sum(per_party.values()) / len(per_party) if per_party else 0.0
    return lambda party: per_party.get(party, average)


__all__ = ["visits_per_year_from_grades"]
