"""Administrative division codes (GB/T 2260): six digits, province · prefecture · county.

Why python-stdnum's table: it already ships every code since the 1980s with the years each name
was in use (``[-2010]崇文区``, ``[1986-]房山区``), because an ID number's birth place must be
valid in its birth year. We read the same table so that a code the platform accepts today and
a code stdnum accepts in an ID number never disagree, and we keep the years so that records
carrying an abolished code (old licences, old ID numbers) can still be named.

Codes: ``PP0000`` province, ``PPCC00`` prefecture (city), ``PPCCXX`` county-level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field
from stdnum import numdb

from xiaowei.entities.datafiles import load_packaged
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.identifiers import normalise_text
from xiaowei.entities.masking import mask_value

DIVISION_WHAT = "administrative division code"

# Rows in the table that are statistical groupings, not places ("the districts of the city").
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "市区"})
_PLACEHOLDER_PATTERN = re.compile(r"直辖.*行政单位$")
_PERIOD_PATTERN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
_SIX_DIGITS = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class NamePeriod:
    """One name of a division and the years (inclusive, None = open) it was in use."""

    name: str
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Division:
    """A division code with every name it has carried."""

    code: str
    periods: tuple[NamePeriod, ...]

    @property
    def is_current(self) -> bool:
        """In use today: one of its names has no end year."""
        return any(p.end is None for p in self.periods)

    @property
    def name(self) -> str:
        """The current name, or the last one for an abolished code."""
        for period in self.periods:
            if period.end is None:
                return period.name
        return max(self.periods, key=lambda p: p.end or 0).name

    @property
    def abolished_after(self) -> int | None:
        """The last year an abolished code was in use; None while it is current."""
        if self.is_current:
            return None
        return max(p.end or 0 for p in self.periods)

    @property
    def is_placeholder(self) -> bool:
        """A grouping row (市辖区, 省直辖县级行政单位), not a place a business can be."""
        name = self.name
        return name in _PLACEHOLDER_NAMES or bool(_PLACEHOLDER_PATTERN.search(name))

    @property
    def level(self) -> str:
        """'province', 'prefecture' or 'county', read from where the zeros are."""
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"


def _parse_periods(raw: str) -> tuple[NamePeriod, ...]:
    periods = []
    for piece in raw.split(","):
        match = _PERIOD_PATTERN.match(piece)
        if match is None:
            periods.append(NamePeriod(piece, None, None))
            continue
        start, end, name = match.groups()
        periods.append(NamePeriod(name, int(start) if start else None, int(end) if end else None))
    return tuple(periods)


def _expand(low: str, high: str) -> Iterator[str]:
    if low == high:
        yield low
        return
    for number in range(int(low), int(high) + 1):
        yield str(number).zfill(len(low))


class _Addition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^\d{6}$")
    name: str = Field(min_length=1)
    start: int = Field(ge=1949)
    check: bool = False
    note: str = ""


class _Supplement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    additions: list[_Addition]


SUPPLEMENT_FILE = "divisions_supplement.yaml"


@cache
def _table() -> dict[str, Division]:
    """Every code in stdnum's cn/loc table plus our supplement, read once."""
    table: dict[str, Division] = {}
    for _length, low, high, props, children in numdb.get("cn/loc").prefixes:
        for province in _expand(low, high):
            for _clen, clow, chigh, cprops, _grandchildren in children:
                for rest in _expand(clow, chigh):
                    code = province + rest
                    table[code] = Division(code, _parse_periods(cprops["county"]))
            province_code = province + "0000"
            if province_code not in table:
                table[province_code] = Division(province_code, _parse_periods(props["province"]))
    for addition in load_packaged(_Supplement, SUPPLEMENT_FILE).additions:
        if addition.code not in table:
            period = NamePeriod(addition.name, addition.start, None)
            table[addition.code] = Division(addition.code, (period,))
    return table


def _shape(code: object, field: str) -> str:
    if not isinstance(code, str):
        raise InvalidIdentifier.from_raw(
            field, code, f"must be text, got {type(code).__name__}", DIVISION_WHAT
        )
    text = normalise_text(code)
    if not _SIX_DIGITS.match(text):
        # A malformed value may be anything typed into the box (an ID number, say): mask it.
        raise InvalidIdentifier.from_raw(field, text, "must be 6 digits", DIVISION_WHAT)
    return text


def division(code: str) -> Division:
    """The division with this code, current or abolished; ``InvalidIdentifier`` if unknown."""
    text = _shape(code, "region_code")
    found = _table().get(text)
    if found is None:
        raise InvalidIdentifier("region_code", text, "no such code in GB/T 2260", DIVISION_WHAT)
    return found


def validate_division_code(code: object, field: str = "region_code") -> str:
    """The six-digit code if it names a division in use today, else ``InvalidIdentifier``.

    Well-formed codes are shown unmasked in the error: they are public classification codes,
    not personal data, and the clerk needs to see which one was refused.
    """
    text = _shape(code, field)
    found = _table().get(text)
    if found is None:
        raise InvalidIdentifier(field, text, "no such code in GB/T 2260", DIVISION_WHAT)
    if not found.is_current:
        reason = f"{found.name} was abolished; last in use in {found.abolished_after}"
        raise InvalidIdentifier(field, text, reason, DIVISION_WHAT)
    return text


def province_of(code: str) -> str:
    """The province-level code (``PP0000``) of any division code."""
    return _shape(code, "region_code")[:2] + "0000"


def city_of(code: str) -> str:
    """The prefecture-level code (``PPCC00``) of any division code."""
    return _shape(code, "region_code")[:4] + "00"


def division_name(code: str) -> str:
    """Full name from province down, e.g. 330106 → 浙江省杭州市西湖区, 110101 → 北京市东城区.

    Grouping rows (市辖区, 省直辖县级行政单位) are left out of the name, as people write it.
    Abolished codes get the last name they carried.
    """
    target = division(code)
    table = _table()
    parts: list[str] = []
    for level_code in dict.fromkeys((province_of(target.code), city_of(target.code), target.code)):
        found = table.get(level_code)
        if found is None or found.is_placeholder:
            continue
        if not parts or parts[-1] != found.name:
            parts.append(found.name)
    return "".join(parts)


def provinces() -> dict[str, str]:
    """Province-level codes in use today with their names, e.g. {'330000': '浙江省', …}."""
    return {
        code: d.name
        for code, d in sorted(_table().items())
        if d.level == "province" and d.is_current
    }


def _province_prefix(province_prefix: str) -> str:
    text = normalise_text(province_prefix)
    if len(text) == 6 and text.endswith("0000"):
        text = text[:2]
    if len(text) != 2 or not text.isdigit() or text + "0000" not in _table():
        raise InvalidIdentifier(
            "province_prefix",
            mask_value(text),
            "must be a province's 2 digits, e.g. '33'",
            DIVISION_WHAT,
        )
    return text


def counties_in(province_prefix: str, current_only: bool = True) -> list[str]:
    """County-level codes of one province, sorted: the places a business can be registered.

    Grouping rows are left out; a prefecture-level city with no counties under it (东莞市
    441900, 中山市 442000, 嘉峪关市 620200) counts as a county-level place of its own, since
    businesses there carry that code. ``current_only=False`` adds abolished codes as well.
    """
    prefix = _province_prefix(province_prefix)
    places = [
        d
        for code, d in _table().items()
        if code.startswith(prefix) and not d.is_placeholder and (d.is_current or not current_only)
    ]
    counties = {d.code for d in places if d.level == "county"}
    prefectures_with_counties = {code[:4] for code in counties}
    leaf_cities = {
        d.code
        for d in places
        if d.level == "prefecture" and d.code[:4] not in prefectures_with_counties
    }
    return sorted(counties | leaf_cities)
