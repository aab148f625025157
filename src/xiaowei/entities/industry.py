"""GB/T 4754-2017 industry codes: sections A–T and divisions 01–97, looked up and validated.

Why only sections and divisions as data: tags, segments and size classes work at division
level, and the 1,380 class names would be a maintenance burden nobody reads. Longer codes
(3-digit group, 4-digit class) still pass validation through their division prefix, so a
registry record carrying ``3311`` is accepted and grouped under division ``33``.

The data is ``data/industry_gbt4754_2017.yaml``, checked when first used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xiaowei.entities.datafiles import (
    DataFileError,
    KeyPath,
    packaged_text,
    parse_yaml,
    validate_loaded,
)
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.identifiers import normalise_text
from xiaowei.entities.masking import mask_value

DATA_FILE = "industry_gbt4754_2017.yaml"
INDUSTRY_WHAT = "GB/T 4754-2017 industry code"
_CODE_SHAPE = re.compile(r"^([A-T])?(\d{2,4})?$")

Lang = Literal["zh", "en"]


class _DivisionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^\d{2}$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _SectionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[A-T]$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    divisions: list[_DivisionEntry] = Field(min_length=1)


class _IndustryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    standard: str
    title_zh: str
    title_en: str
    sections: list[_SectionEntry] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Industry:
    """A section (``level='section'``, code 'C') or division (``level='division'``, '13')."""

    code: str
    level: Literal["section", "division"]
    section: str
    zh: str
    en: str

    def name(self, lang: Lang = "zh") -> str:
        """The official Chinese name, or our English gloss."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class IndustryCatalogue:
    """Sections and divisions by code, in file order."""

    sections: dict[str, Industry]
    divisions: dict[str, Industry]


def _check_order(parsed: _IndustryFile, file: str, line_of: dict[KeyPath, int]) -> None:
    """Sections strictly ascending by letter and divisions by number, so nothing repeats."""
    last_section, last_division = "", ""
    for s_index, section in enumerate(parsed.sections):
        if section.code <= last_section:
            path = ("sections", s_index, "code")
            problem = f"section {section.code} out of order or repeated"
            raise DataFileError(file, [(line_of.get(path, 1), "sections.code", problem)])
        last_section = section.code
        for d_index, div in enumerate(section.divisions):
            if div.code <= last_division:
                path = ("sections", s_index, "divisions", d_index, "code")
                problem = f"division {div.code} out of order or repeated"
                key = f"sections.{s_index}.divisions.{d_index}.code"
                raise DataFileError(file, [(line_of.get(path, 1), key, problem)])
            last_division = div.code


def build_catalogue(text: str, file: str = DATA_FILE) -> IndustryCatalogue:
    """Parse and check an industry data file's text (exposed so tests can feed bad files)."""
    loaded = parse_yaml(text, file)
    parsed = validate_loaded(_IndustryFile, loaded)
    _check_order(parsed, file, loaded.lines)
    sections: dict[str, Industry] = {}
    divisions: dict[str, Industry] = {}
    for section in parsed.sections:
        sections[section.code] = Industry(
            section.code, "section", section.code, section.zh, section.en
        )
        for div in section.divisions:
            divisions[div.code] = Industry(div.code, "division", section.code, div.zh, div.en)
    return IndustryCatalogue(sections, divisions)


@cache
def _catalogue() -> IndustryCatalogue:
    return build_catalogue(packaged_text(DATA_FILE))


def validate_industry(code: object, field: str = "industry_code") -> str:
    """Canonical industry code, or ``InvalidIdentifier`` naming ``field``.

    Accepts a section letter ('C'), a division ('13'), a group or class ('131', '1311') whose
    division exists, and the registry's letter-prefixed spelling ('C1311'), whose letter must
    be the division's section. Returns the letter for a section and the digits otherwise.
    """
    if not isinstance(code, str):
        raise InvalidIdentifier.from_raw(
            field, code, f"must be text, got {type(code).__name__}", INDUSTRY_WHAT
        )
    text = normalise_text(code)
    match = _CODE_SHAPE.match(text)
    if not text or match is None:
        reason = "must be a section letter A-T or 2-4 digits, e.g. 'C' or '1311'"
        raise InvalidIdentifier(field, mask_value(text), reason, INDUSTRY_WHAT)
    letter, digits = match.groups()
    catalogue = _catalogue()
    if digits is None:
        return letter
    division = catalogue.divisions.get(digits[:2])
    if division is None:
        raise InvalidIdentifier(field, text, f"no division {digits[:2]}", INDUSTRY_WHAT)
    if letter is not None and letter != division.section:
        reason = f"division {division.code} belongs to section {division.section}, not {letter}"
        raise InvalidIdentifier(field, text, reason, INDUSTRY_WHAT)
    return digits


def lookup_industry(code: str) -> Industry:
    """The section or division a code falls in (a class code gives its division)."""
    canonical = validate_industry(code)
    catalogue = _catalogue()
    if canonical.isalpha():
        return catalogue.sections[canonical]
    return catalogue.divisions[canonical[:2]]


def section_of(code: str) -> str:
    """Section letter of any valid code: '1311' → 'C', 'C' → 'C'."""
    return lookup_industry(code).section


def division_of(code: str) -> str:
    """Two-digit division of a division, group or class code; a section has none."""
    canonical = validate_industry(code)
    if canonical.isalpha():
        raise ValueError(f"section {canonical} is not a division; give 2-4 digits")
    return canonical[:2]


def industry_name(code: str, lang: Lang = "zh") -> str:
    """Name of the section or division the code falls in (group/class names are not held)."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    return lookup_industry(code).name(lang)


def all_sections() -> list[Industry]:
    """The 20 sections A–T in order."""
    return list(_catalogue().sections.values())


def all_divisions() -> list[Industry]:
    """The 97 divisions 01–97 in order."""
    return list(_catalogue().divisions.values())


def divisions_in(section: str) -> list[str]:
    """Division codes of one section, e.g. 'E' → ['47', '48', '49', '50']."""
    letter = validate_industry(section, field="section")
    if not letter.isalpha():
        raise ValueError(f"expected a section letter, got division {letter}")
    return [code for code, d in _catalogue().divisions.items() if d.section == letter]


__all__ = [
    "Industry",
    "all_divisions",
    "all_sections",
    "build_catalogue",
    "division_of",
    "divisions_in",
    "industry_name",
    "lookup_industry",
    "section_of",
    "validate_industry",
]
