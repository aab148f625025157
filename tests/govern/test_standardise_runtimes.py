"""Property tests: the online (Python) and batch (DuckDB) runtimes give identical results."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaowei.data.govern.standardise import (
    address_region,
    amount_in_unit,
    amount_text,
    company_name,
    company_name_display,
    company_name_key,
    date_text,
    person_name,
    phone,
    register,
    resident_id,
    text,
    uscc,
)
from xiaowei.data.govern.standardise.amounts import UNITS
from xiaowei.data.govern.standardise.text import NAME_DOTS, TRANSLATE_FROM, WHITESPACE, ZERO_WIDTH

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any text DuckDB can hold (no surrogates, no NUL), biased towards the characters rules touch.
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
NOISE = st.sampled_from(list(TRANSLATE_FROM + ZERO_WIDTH + WHITESPACE + NAME_DOTS))
RULE_CHARS = "0123456789,.-/+ 年月日元千万亿人民币RMB¥（）()有限责任公司股份杭州市西湖区浙江省"
DIRTY_TEXT = st.text(st.one_of(NOISE, st.sampled_from(list(RULE_CHARS)),
                               st.characters(blacklist_categories=("Cs",),
                                             blacklist_characters="\x00")), max_size=30)
DATES = st.builds(
    lambda y, m, d, form: form.format(y=y, m=m, d=d),
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32),
    st.sampled_from(["{y:04d}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y:04d}{m:02d}{d:02d}",
                     "{y}年{m}月{d}日", "{y}.{m}.{d}", "{y}-{m}/{d}"]),
)
AMOUNTS = st.builds(
    lambda sign, number, unit: f"{sign}{number}{unit}",
    st.sampled_from(["", "-", "+", "人民币", "￥"]),
    st.one_of(st.integers(0, 10).flatmap(lambda places: st.decimals(
                  allow_nan=False, allow_infinity=False, places=places)).map(
                  lambda d: format(abs(d), "f")),
              st.integers(0, 10**22).map(lambda n: f"{n:,}")),
    st.sampled_from([*UNITS, "美元", "万美元", "块"]),
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    register(connection)
    return connection


def batch(con: duckdb.DuckDBPyConnection, function: str, values: list[object]) -> list[tuple]:
    """The batch runtime over a whole column, as a table scan (not one call per value)."""
    rows = con.execute(
        f"SELECT {function}(v) FROM (SELECT unnest(?::VARCHAR[]) AS v, "
        "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [values, values]).fetchall()
    return [(r[0]["value"], r[0]["reason"]) for r in rows]


TEXT_RULES: list[tuple[str, Callable[[str | None], tuple]]] = [
    ("std_text", text),
    ("std_person_name", person_name),
    ("std_date_text", date_text),
    ("std_amount_text", amount_text),
    ("std_company_name_display", company_name_display),
    ("std_company_name", company_name),
    ("std_company_name_key", company_name_key),
    ("std_uscc", uscc),
    ("std_resident_id", resident_id),
    ("std_phone", phone),
]


@pytest.mark.parametrize(("function", "rule"), TEXT_RULES, ids=[f for f, _ in TEXT_RULES])
@SETTINGS
@given(values=st.lists(st.one_of(st.none(), ANY_TEXT, DIRTY_TEXT, DATES, AMOUNTS),
                       max_size=40))
def test_runtimes_agree_on_any_text(con: duckdb.DuckDBPyConnection, function: str,
                                    rule: Callable[[str | None], tuple],
                                    values: list[str | None]) -> None:
    assert batch(con, function, values) == [tuple(rule(v)) for v in values]


@SETTINGS
@given(values=st.lists(st.one_of(DATES, AMOUNTS), max_size=40))
def test_runtimes_agree_on_dates_and_amounts(con: duckdb.DuckDBPyConnection,
                                             values: list[str]) -> None:
    assert batch(con, "std_date_text", values) == [tuple(date_text(v)) for v in values]
    assert batch(con, "std_amount_text", values) == [tuple(amount_text(v)) for v in values]


@SETTINGS
@given(value=st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12,
                                 max_value=1e12),
                       st.decimals(allow_nan=False, allow_infinity=False, places=4,
                                   min_value=-10**12, max_value=10**12)),
       unit=st.one_of(st.none(), st.sampled_from([*UNITS, "美元"])))
def test_runtimes_agree_on_amount_in_unit(con: duckdb.DuckDBPyConnection,
                                          value: float | Decimal, unit: str | None) -> None:
    column = "DOUBLE" if isinstance(value, float) else "DECIMAL(18,4)"
    found = con.execute(f"SELECT std_amount_in_unit(?::{column}, ?)", [value, unit]
                        ).fetchall()[0][0]
    assert (found["value"], found["reason"]) == tuple(amount_in_unit(value, unit))


@SETTINGS
@given(values=st.lists(st.one_of(st.none(), DIRTY_TEXT, st.sampled_from(
    ["浙江省杭州市西湖区解放路1号", "杭州西湖解放路", "西湖区", "北京市东城区", "浙江西湖区"])),
    max_size=30))
def test_runtimes_agree_on_addresses(con: duckdb.DuckDBPyConnection,
                                     values: list[str | None]) -> None:
    rows = con.execute(
        "SELECT std_address_region(v) FROM (SELECT unnest(?::VARCHAR[]) AS v, "
        "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [values, values]).fetchall()
    for (found,), value in zip(rows, values, strict=True):
        expected = address_region(value)
        region = expected.value._asdict() if expected.value else dict.fromkeys(found)
        assert found == {**region, "reason": expected.reason}
