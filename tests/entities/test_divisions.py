from __future__ import annotations

import pytest

from xiaowei.entities.divisions import (
    city_of,
    counties_in,
    division,
    division_name,
    province_of,
    provinces,
    validate_division_code,
)
from xiaowei.entities.errors import InvalidIdentifier


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("330106", "330106"),
        ("３３０１０６", "330106"),
        (" 330106 ", "330106"),
        ("110000", "110000"),
    ],
)
def test_current_codes_are_accepted(typed: str, code: str) -> None:
    assert validate_division_code(typed) == code


def test_abolished_code_names_the_division_and_its_last_year() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_division_code("110103", field="registered_region")
    message = str(caught.value)
    assert "field 'registered_region'" in message
    assert "崇文区" in message
    assert "2010" in message


def test_unknown_code() -> None:
    with pytest.raises(InvalidIdentifier, match="no such code"):
        validate_division_code("999999")


@pytest.mark.parametrize("garbage", ["abc", "33010", "3301066", "33-01-06x", ""])
def test_malformed_codes(garbage: str) -> None:
    with pytest.raises(InvalidIdentifier, match="must be 6 digits"):
        validate_division_code(garbage)


def test_id_number_typed_into_region_field_is_masked() -> None:
    raw = "330106199001011234"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_division_code(raw)
    assert raw not in str(caught.value)
    assert "field 'region_code'" in str(caught.value)


def test_code_must_be_text() -> None:
    with pytest.raises(InvalidIdentifier, match="must be text, got int"):
        validate_division_code(330106)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("330106", "浙江省杭州市西湖区"),
        ("330100", "浙江省杭州市"),
        ("330000", "浙江省"),
        ("110101", "北京市东城区"),  # 市辖区 grouping row left out
        ("110103", "北京市崇文区"),  # abolished: last name
        ("441900", "广东省东莞市"),
        ("469001", "海南省五指山市"),  # 省直辖县级行政单位 left out
        ("330113", "浙江省杭州市临平区"),  # from our supplement
    ],
)
def test_division_name(code: str, name: str) -> None:
    assert division_name(code) == name


def test_renamed_division_keeps_its_history() -> None:
    d = division("330402")
    assert d.name == "南湖区"
    assert [p.name for p in d.periods] == ["城区", "秀城区", "南湖区"]
    assert d.periods[0].start == 1983 and d.periods[0].end == 1992
    assert d.is_current and d.abolished_after is None
    assert division("110103").abolished_after == 2010


def test_province_and_city_of() -> None:
    assert province_of("330106") == "330000"
    assert city_of("330106") == "330100"
    assert city_of("３３０１０６") == "330100"
    with pytest.raises(InvalidIdentifier):
        province_of("33")


def test_zhejiang_counties_today() -> None:
    counties = counties_in("33")
    # 37 districts + 20 county-level cities + 33 counties since the 2021 Hangzhou changes.
    assert len(counties) == 90
    assert counties == sorted(counties)
    assert {"330106", "330113", "330114", "330382", "330383"} <= set(counties)
    assert "330103" not in counties  # 下城区, merged 2021
    assert "330101" not in counties  # 市辖区 grouping row
    assert all(c.startswith("33") and not c.endswith("00") for c in counties)
    assert all(validate_division_code(c) == c for c in counties)


def test_prefecture_city_without_counties_counts_as_a_place() -> None:
    guangdong = counties_in("44")
    assert {"441900", "442000"} <= set(guangdong)  # 东莞, 中山
    assert "440100" not in guangdong  # 广州 has districts


def test_history_adds_abolished_codes() -> None:
    current = set(counties_in("33"))
    everything = set(counties_in("330000", current_only=False))
    assert current < everything
    assert "330103" in everything


@pytest.mark.parametrize("bad", ["99", "3", "浙江", "330100"])
def test_counties_in_needs_a_province(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        counties_in(bad)


def test_provinces() -> None:
    names = provinces()
    assert len(names) == 34
    assert names["330000"] == "浙江省"
    assert names["500000"] == "重庆市"
