from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.entities.datafiles import DataFileError, packaged_text
from xiaowei.entities.size_class import (
    DATA_FILE,
    SizeClass,
    build_rule,
    classify_size,
    size_group_of,
    size_rule,
)

L, M, S, U = SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO

GROUPS = {
    "农林牧渔业", "工业", "建筑业", "批发业", "零售业", "交通运输业", "仓储业", "邮政业", "住宿业",
    "餐饮业", "信息传输业", "软件和信息技术服务业", "房地产开发经营", "物业管理",
    "租赁和商务服务业", "其他未列明行业",
}  # fmt: skip


def test_all_sixteen_groups_of_the_regulation() -> None:
    assert set(size_rule().groups) == GROUPS


def test_labels() -> None:
    assert [c.zh for c in SizeClass] == ["大型", "中型", "小型", "微型"]
    assert SizeClass("micro") is U


# (industry code, employees, revenue 万元, assets 万元, expected) — each row sits exactly on,
# or one unit below, a threshold, so an off-by-one (> instead of >=) fails a row.
BOUNDARIES = [
    # 工业: medium emp≥300 & rev≥2000; small emp≥20 & rev≥300; large emp≥1000 & rev≥40000
    ("13", 300, 2000, None, M),
    ("13", 299, 2000, None, S),
    ("13", 300, "1999.99", None, S),
    ("C", 20, 300, None, S),
    ("3311", 19, 300, None, U),
    ("3311", 20, "299.99", None, U),
    ("44", 1000, 40000, None, L),
    ("44", 999, 40000, None, M),
    ("44", 1000, 39999, None, M),
    ("06", 5000, 100, None, U),  # many staff but tiny revenue: micro
    # 建筑业: revenue & assets; medium 6000 & 5000; small 300 & 300; large 80000 & 80000
    ("47", None, 6000, 5000, M),
    ("48", None, 6000, 4999, S),
    ("E", None, 300, 300, S),
    ("50", None, 299, 300, U),
    ("49", None, 80000, 80000, L),
    ("49", None, 80000, 79999, M),
    # 批发业: medium 20 & 5000; small 5 & 1000; large 200 & 40000
    ("51", 20, 5000, None, M),
    ("51", 19, 5000, None, S),
    ("5131", 5, 1000, None, S),
    ("51", 4, 1000, None, U),
    ("51", 200, 40000, None, L),
    # 零售业: medium 50 & 500; small 10 & 100; large 300 & 20000
    ("52", 50, 500, None, M),
    ("52", 10, 100, None, S),
    ("52", 9, 100, None, U),
    ("52", 300, 20000, None, L),
    ("52", 300, 19999, None, M),
    # 交通运输业: medium 300 & 3000; small 20 & 200
    ("54", 300, 3000, None, M),
    ("58", 20, 200, None, S),
    ("54", 20, 199, None, U),
    ("5910", 20, 200, None, S),  # 装卸搬运 follows 交通运输业
    # 仓储业: medium 100 & 1000; small 20 & 100 (200 on transport's scale would be needed)
    ("59", 100, 1000, None, M),
    ("5920", 20, 100, None, S),
    ("59", 99, 1000, None, S),
    # 邮政业: medium 300 & 2000; small 20 & 100; large 1000 & 30000
    ("60", 300, 2000, None, M),
    ("60", 20, 100, None, S),
    ("60", 1000, 30000, None, L),
    # 住宿业 / 餐饮业: medium 100 & 2000; small 10 & 100; large 300 & 10000
    ("61", 100, 2000, None, M),
    ("62", 10, 100, None, S),
    ("62", 9, 5000, None, U),
    ("61", 300, 10000, None, L),
    # 信息传输业: large 2000 & 100000; medium 100 & 1000; small 10 & 100
    ("64", 2000, 100000, None, L),
    ("63", 1999, 100000, None, M),
    ("64", 100, 1000, None, M),
    ("64", 10, 100, None, S),
    # 软件和信息技术服务业: large 300 & 10000; medium 100 & 1000; small 10 & 50
    ("65", 300, 10000, None, L),
    ("65", 100, 1000, None, M),
    ("65", 10, 50, None, S),
    ("65", 10, 49, None, U),
    # 房地产开发经营: revenue & assets; large 200000 & 10000; medium 1000 & 5000; small 100 & 2000
    ("701", None, 200000, 10000, L),
    ("7010", None, 1000, 5000, M),
    ("701", None, 100, 2000, S),
    ("701", None, 100, 1999, U),
    # 物业管理: medium 300 & 1000; small 100 & 500
    ("702", 300, 1000, None, M),
    ("702", 100, 500, None, S),
    ("702", 99, 500, None, U),
    # 租赁和商务服务业: employees & assets; large 300 & 120000; medium 100 & 8000; small 10 & 100
    ("72", 300, None, 120000, L),
    ("71", 100, None, 8000, M),
    ("L", 10, None, 100, S),
    ("72", 10, None, 99, U),
    # 其他未列明行业: employees only; large 300, medium 100, small 10
    ("73", 300, None, None, L),
    ("74", 100, None, None, M),
    ("M", 10, None, None, S),
    ("80", 9, None, None, U),
    ("703", 100, None, None, M),
    # 农林牧渔业: revenue only; large 20000, medium 500, small 50
    ("01", None, 20000, None, L),
    ("A", None, 500, None, M),
    ("05", None, 50, None, S),
    ("03", None, "49.99", None, U),
]


@pytest.mark.parametrize(("code", "employees", "revenue", "assets", "expected"), BOUNDARIES)
def test_boundaries(
    code: str, employees: int | None, revenue: object, assets: object, expected: SizeClass
) -> None:
    got = classify_size(code, employees=employees, revenue_wan=revenue, assets_wan=assets)
    assert got is expected


def test_decimal_and_str_inputs_agree() -> None:
    assert classify_size("13", 300, Decimal("2000"), None) is M
    assert classify_size("13", 300, "2,000", None) is M


@pytest.mark.parametrize(
    ("code", "group"),
    [("C", "工业"), ("591", "交通运输业"), ("59", "仓储业"), ("58", "交通运输业"),
     ("701", "房地产开发经营"), ("702", "物业管理"), ("704", "其他未列明行业"),
     ("53", "其他未列明行业"), ("83", "其他未列明行业"), ("05", "农林牧渔业")],
)  # fmt: skip
def test_group_mapping(code: str, group: str) -> None:
    assert size_group_of(code).name == group


@pytest.mark.parametrize(
    ("code", "message"),
    [("70", "spans several size groups"), ("K", "spans several"), ("G", "spans several"),
     ("J", "银发〔2015〕309号"), ("6620", "not classified"), ("S", "not enterprises")],
)  # fmt: skip
def test_codes_the_rule_cannot_decide(code: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        size_group_of(code)


def test_missing_indicator_is_named() -> None:
    with pytest.raises(ValueError, match=r"assets_wan \(资产总额, 万元\) is required.*建筑业"):
        classify_size("47", revenue_wan=100)
    with pytest.raises(ValueError, match="employees"):
        classify_size("13", revenue_wan=100)


def test_unused_indicators_are_ignored() -> None:
    assert classify_size("73", employees=50, revenue_wan=10**6, assets_wan=10**6) is S


@pytest.mark.parametrize("bad", [1000.0, float("nan")])
def test_float_revenue_refused(bad: float) -> None:
    with pytest.raises(TypeError, match="float"):
        classify_size("13", employees=300, revenue_wan=bad)


def test_bad_employees_and_negative_values() -> None:
    with pytest.raises(TypeError, match="employees must be an int"):
        classify_size("13", employees=True, revenue_wan=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="employees must be an int"):
        classify_size("13", employees=30.0, revenue_wan=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="revenue_wan must not be negative"):
        classify_size("13", employees=30, revenue_wan=-1)


_ORDER = {L: 3, M: 2, S: 1, U: 0}


@given(
    code=st.sampled_from(["13", "47", "51", "52", "54", "59", "61", "64", "65", "701", "702",
                          "72", "73", "01"]),
    employees=st.integers(0, 5000),
    revenue=st.integers(0, 300000),
    assets=st.integers(0, 200000),
    more=st.integers(0, 100000),
)  # fmt: skip
def test_growing_never_makes_a_firm_smaller(
    code: str, employees: int, revenue: int, assets: int, more: int
) -> None:
    base = classify_size(code, employees, revenue, assets)
    for bigger in (
        classify_size(code, employees + more, revenue, assets),
        classify_size(code, employees, revenue + more, assets),
        classify_size(code, employees, revenue, assets + more),
    ):
        assert _ORDER[bigger] >= _ORDER[base]


# --- the data file is checked at load --------------------------------------------------------


def _broken(old: str, new: str) -> str:
    text = packaged_text(DATA_FILE)
    assert old in text
    return text.replace(old, new, 1)


def test_packaged_rule_loads_and_flags_uncertain_rows() -> None:
    assert build_rule(packaged_text(DATA_FILE)).default_group == "其他未列明行业"
    assert "check: true" in packaged_text(DATA_FILE)


def test_rising_thresholds_are_refused_with_line() -> None:
    text = _broken("small: {employees: 20, revenue: 300}", "small: {employees: 2000, revenue: 300}")
    with pytest.raises(DataFileError, match=r"sme_size_2011.yaml:\d+: groups.工业.large.employees"):
        build_rule(text)


def test_mismatched_indicators_are_refused() -> None:
    text = _broken("medium: {employees: 300, revenue: 2000}", "medium: {employees: 300}")
    with pytest.raises(DataFileError, match="indicators differ"):
        build_rule(text)


def test_unknown_group_in_mapping_is_refused() -> None:
    text = _broken("group: 批发业", "group: 批发零售业")
    with pytest.raises(DataFileError, match=r"mapping.3.group: unknown group '批发零售业'"):
        build_rule(text)


def test_code_listed_twice_is_refused() -> None:
    text = _broken('codes: ["52"]', 'codes: ["51"]')
    with pytest.raises(DataFileError, match="51 listed twice"):
        build_rule(text)


def test_invalid_code_in_mapping_is_refused() -> None:
    text = _broken('codes: ["60"]', 'codes: ["98"]')
    with pytest.raises(DataFileError, match="no division 98"):
        build_rule(text)


def test_class_codes_are_too_fine_for_the_mapping() -> None:
    text = _broken('codes: ["591"]', 'codes: ["5910"]')
    with pytest.raises(DataFileError, match="not a class"):
        build_rule(text)


def test_unknown_indicator_is_refused() -> None:
    text = _broken("large: {revenue: 20000}", "large: {turnover: 20000}")
    with pytest.raises(DataFileError, match=r"groups\.农林牧渔业\.large"):
        build_rule(text)
