"""Distances and speeds between GPS fixes, in Python and as DuckDB macros of the same formula.

Why both: the behaviour signals run as SQL over whole months of check-ins, while a page that
explains one alert ("412 m from the geocoded address") computes the same figure for one pair of
points. One formula (haversine on a 6,371 km sphere — within 0.5% of the ellipsoid at these
distances, far below GPS error) keeps the two in agreement.
"""

from __future__ import annotations

import math

import duckdb

EARTH_RADIUS_M = 6_371_000.0


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def speed_kmh(metres: float, seconds: float) -> float:
    """Implied speed; moving any distance in no time at all is infinitely fast."""
    if seconds <= 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


# The same formula as SQL macros (TEMP: they live with the connection, not in the store).
MACROS = (
    f"""CREATE OR REPLACE TEMP MACRO xw_metres(lat1, lon1, lat2, lon2) AS
        2 * {EARTH_RADIUS_M} * asin(least(1.0, sqrt(
            pow(sin(radians(lat2 - lat1) / 2), 2)
            + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2))))""",
    """CREATE OR REPLACE TEMP MACRO xw_speed_kmh(metres, seconds) AS
        CASE WHEN seconds > 0 THEN metres / seconds * 3.6
             WHEN metres > 0 THEN 'infinity'::DOUBLE ELSE 0.0 END""",
)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define `xw_metres` and `xw_speed_kmh` on this connection."""
    for sql in MACROS:
        con.execute(sql)
