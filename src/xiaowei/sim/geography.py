"""Where the simulated bank works: the counties of Zhejiang province and their coordinates.

Division codes come from the GB/T 2260 table that python-stdnum ships (via
`xiaowei.entities.divisions`); coordinates are synthetic but stable, so that field check-ins
can be compared with business addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from xiaowei.entities.check_digits import ric_check_char
from xiaowei.entities.divisions import counties_in, division_name
from xiaowei.sim import hashing
from xiaowei.sim.vocab import CITY_SHORT

PROVINCE = "33"


@dataclass(frozen=True)
class Geography:
    counties: np.ndarray  # 6-digit codes (str)
    names: np.ndarray  # full names 浙江省杭州市西湖区
    weights: np.ndarray  # share of SMEs per county
    lat: np.ndarray
    lon: np.ndarray
    city_short: np.ndarray


@lru_cache(maxsize=8)
def geography(seed: int) -> Geography:
    codes = np.array(
        sorted(c for c in counties_in(PROVINCE) if c[:4] in CITY_SHORT and not c.endswith("00")
               and c[4:6] != "01"),
    )
    idx = np.arange(len(codes))
    # Urban districts (01–20) hold more firms than counties (21+) and county-level cities (81+).
    urban = np.array([int(c[4:6]) < 21 for c in codes])
    weights = np.exp(hashing.normal(seed, "county-size", idx) * 0.5) * np.where(urban, 2.0, 1.0)
    city_ids = np.array([int(c[2:4]) for c in codes])
    city_lat = 27.3 + hashing.uniform(0, "city-lat", city_ids) * 3.6
    city_lon = 118.3 + hashing.uniform(0, "city-lon", city_ids) * 3.9
    lat = city_lat + (hashing.uniform(0, "county-lat", idx) - 0.5) * 0.5
    lon = city_lon + (hashing.uniform(0, "county-lon", idx) - 0.5) * 0.5
    names = np.array([division_name(c) for c in codes])
    short = np.array([CITY_SHORT[c[:4]] for c in codes])
    return Geography(codes, names, weights / weights.sum(), lat, lon, short)


def metres_between(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                   ) -> np.ndarray:
    """Great-circle distance (haversine), for geofence checks of check-ins."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * np.arcsin(np.sqrt(a))


BIRTH_YEARS = range(1960, 2001)


@lru_cache(maxsize=1)
def birthplace_table() -> tuple[np.ndarray, np.ndarray]:
    """(codes, valid[code, year - 1960]): which division codes a person born that year can
    carry in their ID number. Codes change over time (districts merge, new ones appear) and
    an ID keeps the code of its issue, so validity is judged the way python-stdnum judges it.
    """
    from stdnum.cn import ric

    codes = np.array(sorted(c for c in counties_in(PROVINCE, current_only=False)
                            if c[:4] in CITY_SHORT and not c.endswith("00")))
    valid = np.zeros((len(codes), len(BIRTH_YEARS)), dtype=bool)
    for i, code in enumerate(codes):
        for j, year in enumerate(BIRTH_YEARS):
            body = f"{code}{year}0101001"
            try:
                ric.validate(body + ric_check_char(body))
                valid[i, j] = True
            except Exception:  # any refusal (stdnum raises KeyError for some codes): not valid
                pass
    return codes, valid


def birthplace(home: np.ndarray, birth_year: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """The code an ID carries: the home county if it existed at birth, else a county of
    the same city that did (chosen by `pick` in [0, 1)), else any in the province."""
    codes, valid = birthplace_table()
    year = np.clip(np.asarray(birth_year) - BIRTH_YEARS.start, 0, len(BIRTH_YEARS) - 1)
    out = np.asarray(home).astype("<U6").copy()
    pos = np.searchsorted(codes, out)
    ok = (pos < len(codes)) & (codes[np.minimum(pos, len(codes) - 1)] == out)
    ok &= valid[np.minimum(pos, len(codes) - 1), year]
    city_of_code = np.array([c[:4] for c in codes])
    bad = np.flatnonzero(~ok)
    city = np.array([c[:4] for c in out[bad]])
    # One pool per (city, birth year), not per person: thousands of people share each.
    for key in set(zip(city, year[bad], strict=True)):
        rows = bad[(city == key[0]) & (year[bad] == key[1])]
        pool = np.flatnonzero(valid[:, key[1]] & (city_of_code == key[0]))
        if len(pool) == 0:
            pool = np.flatnonzero(valid[:, key[1]])
        out[rows] = codes[pool[(np.asarray(pick)[rows] * len(pool)).astype(np.int64)]]
    return out
