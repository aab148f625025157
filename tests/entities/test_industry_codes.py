from __future__ import annotations

import string

import pytest

from xiaowei.entities.datafiles import DataFileError, packaged_text
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.industry import (
    DATA_FILE,
    all_divisions,
    all_sections,
    build_catalogue,
    division_of,
    divisions_in,
    industry_name,
    lookup_industry,
    section_of,
    validate_industry,
)


def test_exactly_twenty_sections_a_to_t() -> None:
    assert [s.code for s in all_sections()] == list(string.ascii_uppercase[:20])


def test_exactly_ninety_seven_divisions_01_to_97() -> None:
    assert [d.code for d in all_divisions()] == [f"{n:02d}" for n in range(1, 98)]


@pytest.mark.parametrize(
    ("section", "first", "last"),
    [("A", "01", "05"), ("B", "06", "12"), ("C", "13", "43"), ("D", "44", "46"),
     ("E", "47", "50"), ("F", "51", "52"), ("G", "53", "60"), ("H", "61", "62"),
     ("I", "63", "65"), ("J", "66", "69"), ("K", "70", "70"), ("L", "71", "72"),
     ("M", "73", "75"), ("N", "76", "79"), ("O", "80", "82"), ("P", "83", "83"),
     ("Q", "84", "85"), ("R", "86", "90"), ("S", "91", "96"), ("T", "97", "97")],
)  # fmt: skip
def test_section_boundaries(section: str, first: str, last: str) -> None:
    divisions = divisions_in(section)
    assert divisions[0] == first and divisions[-1] == last
    assert len(divisions) == int(last) - int(first) + 1


@pytest.mark.parametrize(
    ("code", "zh"),
    [
        ("A", "农、林、牧、渔业"),
        ("C", "制造业"),
        ("05", "农、林、牧、渔专业及辅助性活动"),
        ("13", "农副食品加工业"),
        ("25", "石油、煤炭及其他燃料加工业"),
        ("58", "多式联运和运输代理业"),
        ("59", "装卸搬运和仓储业"),
        ("65", "软件和信息技术服务业"),
        ("70", "房地产业"),
        ("79", "土地管理业"),
        ("90", "娱乐业"),
        ("97", "国际组织"),
        ("3311", "金属制品业"),
    ],
)
def test_official_names(code: str, zh: str) -> None:
    assert industry_name(code) == zh


def test_english_gloss_and_unknown_language() -> None:
    assert industry_name("C", lang="en") == "Manufacturing"
    with pytest.raises(ValueError, match="lang"):
        industry_name("C", lang="fr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("C", "C"), ("c", "C"), ("ｃ", "C"), ("13", "13"), ("131", "131"), ("1311", "1311"),
     ("C1311", "1311"), ("c 13-11", "1311"), ("01", "01")],
)  # fmt: skip
def test_accepted_forms(typed: str, canonical: str) -> None:
    assert validate_industry(typed) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("C51", "belongs to section F"),
        ("00", "no division 00"),
        ("98", "no division 98"),
        ("9801", "no division 98"),
        ("1", "must be a section letter"),
        ("12345", "must be a section letter"),
        ("U", "must be a section letter"),
        ("", "must be a section letter"),
    ],
)
def test_rejected_codes(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_industry(raw, field="main_industry")
    assert reason in str(caught.value)
    assert "field 'main_industry'" in str(caught.value)


def test_section_and_division_of() -> None:
    assert section_of("3311") == "C"
    assert section_of("51") == "F"
    assert section_of("K") == "K"
    assert division_of("C3311") == "33"
    with pytest.raises(ValueError, match="not a division"):
        division_of("C")
    assert lookup_industry("131").level == "division"
    assert lookup_industry("h").level == "section"


# --- the data file is checked at load --------------------------------------------------------


def test_packaged_file_loads() -> None:
    catalogue = build_catalogue(packaged_text(DATA_FILE))
    assert len(catalogue.divisions) == 97


def _broken(old: str, new: str) -> str:
    text = packaged_text(DATA_FILE)
    assert old in text
    return text.replace(old, new, 1)


def test_missing_name_reports_file_line_and_key() -> None:
    text = _broken('{code: "13", zh: 农副食品加工业, ', '{code: "13", ')
    line = next(i for i, row in enumerate(text.splitlines(), 1) if 'code: "13"' in row)
    with pytest.raises(DataFileError) as caught:
        build_catalogue(text)
    assert f"{DATA_FILE}:{line}: sections.2.divisions.0.zh" in str(caught.value)


def test_unquoted_division_code_is_refused_with_its_line() -> None:
    text = _broken('{code: "13",', "{code: 13,")
    with pytest.raises(DataFileError, match=r"sections\.2\.divisions\.0\.code"):
        build_catalogue(text)


def test_repeated_division_is_refused() -> None:
    text = _broken('{code: "14",', '{code: "13",')
    with pytest.raises(DataFileError, match="division 13 out of order or repeated"):
        build_catalogue(text)


def test_unknown_key_is_refused() -> None:
    text = _broken("    zh: 制造业\n", "    zh: 制造业\n    zh_tw: 製造業\n")
    with pytest.raises(DataFileError, match="zh_tw"):
        build_catalogue(text)
