"""Address → province, city and county (GB/T 2260 codes and names), or the reason why not.

How: after ``clean_text`` and without spaces, read a province name, then a prefecture name,
then a county name, each the longest full or short name (``places``) found at that point, and
each constrained by the level above when there is one. So 浙江省杭州市西湖区解放路12号,
杭州西湖区…, 浙江杭州西湖… and 西湖区… in a 杭州 context all give 330106, and codes above a
county are the county's own (its first 2 and 4 digits). Short county names (西湖) are read only
under a known city, where they are unambiguous; a county name alone that several divisions carry
(西湖区: 杭州 and 南昌) is refused as ambiguous, never resolved by guessing.

Batch: a DuckDB Python UDF over the same function (a name index is no SQL expression).
"""

from __future__ import annotations

from typing import NamedTuple

from xiaowei.data.govern.standardise.outcome import MISSING, Standardised, refused
from xiaowei.data.govern.standardise.places import Place, names_by_level, place
from xiaowei.data.govern.standardise.text import clean_text

REASON_NO_PLACE = "no province, city or county name found"
REASON_AMBIGUOUS = "place name belongs to several divisions"
_LONGEST_NAME = 16


class Region(NamedTuple):
    """Where an address is: codes and names; a level the text does not reach is None."""

    province_code: str | None
    province_name: str | None
    city_code: str | None
    city_name: str | None
    county_code: str | None
    county_name: str | None


def _longest(text: str, at: int, level: str) -> tuple[str, tuple[Place, ...]] | None:
    index = names_by_level(level)
    for length in range(min(_LONGEST_NAME, len(text) - at), 1, -1):
        found = index.get(text[at : at + length])
        if found:
            return text[at : at + length], found
    return None


def _read(text: str) -> tuple[Place | None, str | None]:
    """The deepest place the text names, or a reason; short county names need a city."""
    at, deepest = 0, None
    for level in ("province", "prefecture", "county"):
        hit = _longest(text, at, level)
        if hit is None:
            continue
        name, found = hit
        if deepest is not None:
            found = tuple(p for p in found if p.code.startswith(_prefix(deepest)))
        elif level == "county":  # a county name alone: full names only (西湖 may be a lake)
            found = tuple(p for p in found if p.name == name)
        if len(found) > 1:
            return None, REASON_AMBIGUOUS
        if found:
            deepest, at = found[0], at + len(name)
    return deepest, None


def _prefix(p: Place) -> str:
    return p.code[:2] if p.level == "province" else p.code[:4]


def region_of(deepest: Place) -> Region:
    """Codes and names of every level above and at the deepest place read."""
    province = place(deepest.province_code)
    city = place(deepest.city_code) if deepest.level != "province" else None
    county = deepest if deepest.level == "county" else None
    return Region(
        province.code if province else None, province.name if province else None,
        city.code if city else None, city.name if city else None,
        county.code if county else None, county.name if county else None,
    )  # fmt: skip


def address_region(value: str | None) -> Standardised[Region]:
    """The region an address names, from its leading division names."""
    cleaned = clean_text(value)
    if cleaned is None:
        return MISSING  # type: ignore[return-value]
    deepest, reason = _read(cleaned.replace(" ", ""))
    if reason is not None:
        return refused(reason)
    if deepest is None:
        return refused(REASON_NO_PLACE)
    return Standardised(region_of(deepest))
