"""Each rule's accepted and refused forms, checked in both runtimes on the same cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from xiaowei.data.govern.standardise import (
    address_region,
    amount_in_unit,
    amount_text,
    clean_text,
    company_name,
    company_name_display,
    company_name_key,
    date_text,
    person_name,
    phone,
    register,
    resident_id,
    uscc,
)
from xiaowei.data.govern.standardise.amounts import REASON_NOT_AMOUNT, REASON_UNIT
from xiaowei.data.govern.standardise.dates import (
    REASON_FORM,
    REASON_IMPOSSIBLE,
    REASON_SEPARATORS,
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    register(connection)
    return connection


def sql(con: duckdb.DuckDBPyConnection, function: str, *args: object) -> tuple[object, object]:
    marks = ", ".join("?" for _ in args)
    result = con.execute(f"SELECT {function}({marks})", list(args)).fetchall()[0][0]
    return result["value"], result["reason"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("  ＡＢＣ　１２３（杭州）\u200b ", "ABC 123(杭州)"),
    ("店面客流正常，账实相符", "店面客流正常，账实相符"),  # Chinese punctuation stays
    ("a\t\n\u00a0 b", "a b"),
    ("\u200b\u3000 ", None),
    (None, None),
])  # fmt: skip
def test_clean_text(con: duckdb.DuckDBPyConnection, raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected
    assert sql(con, "std_text", raw) == (expected, None)


@pytest.mark.parametrize(("raw", "expected"), [
    ("张 三", ("张三", None)),
    (" 阿卜杜拉•艾则孜 ", ("阿卜杜拉·艾则孜", None)),
    ("ＭＡＲＹ　李", ("MARY李", None)),
    ("张3", (None, "a person's name contains digits")),
])  # fmt: skip
def test_person_name(con: duckdb.DuckDBPyConnection, raw: str, expected: tuple) -> None:
    assert tuple(person_name(raw)) == expected
    assert sql(con, "std_person_name", raw) == expected


@pytest.mark.parametrize(("rule", "udf", "raw", "expected"), [
    (uscc, "std_uscc", "９１３３０１１４９３４６１８３０６Ｃ", ("91330114934618306C", None)),
    (uscc, "std_uscc", " 91330114934618306c-", ("91330114934618306C", None)),
    (uscc, "std_uscc", "913301149 34618306C", ("91330114934618306C", None)),
    (uscc, "std_uscc", "91330114934618306D", (None, "checksum does not match")),
    (uscc, "std_uscc", "9133011493461830", (None, "must be 18 characters, got 16")),
    (resident_id, "std_resident_id", "33012719600223840x", ("33012719600223840X", None)),
    (resident_id, "std_resident_id", "330127196002238401", (None, "checksum does not match")),
    (phone, "std_phone", "138 1234 5678", ("+8613812345678", None)),
    (phone, "std_phone", "0571-88888888", ("+8657188888888", None)),
    (phone, "std_phone", "12345", (None, "a landline needs its area code, e.g. 0571-")),
    (phone, "std_phone", "+1 650 253 0000",
     (None, "not a mainland China number (country code +1)")),
    (phone, "std_phone", "   ", (None, None)),
])  # fmt: skip
def test_identifiers(con: duckdb.DuckDBPyConnection, rule, udf: str, raw: str,
                     expected: tuple) -> None:
    assert tuple(rule(raw)) == expected
    assert sql(con, udf, raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("500万元", ("5000000.00", None)),
    ("5,000,000元", ("5000000.00", None)),
    ("500万人民币", ("5000000.00", None)),
    ("5000000.00", ("5000000.00", None)),
    ("1.2亿", ("120000000.00", None)),
    ("人民币 3 千元", ("3000.00", None)),
    ("0.125", ("0.13", None)),  # half-up to the fen, 四舍五入
    ("５００万元", ("5000000.00", None)),
    ("500万美元", (None, REASON_UNIT)),
    ("5,00,000元", (None, REASON_NOT_AMOUNT)),
    ("约五百万", (None, REASON_NOT_AMOUNT)),
    ("1.123456789", (None, "more than 8 decimal places")),
    ("99999999999999999", (None, "too large for an amount in yuan (DECIMAL(18,2))")),
])  # fmt: skip
def test_amount_text(con: duckdb.DuckDBPyConnection, raw: str, expected: tuple) -> None:
    value = None if expected[0] is None else Decimal(expected[0])
    assert tuple(amount_text(raw)) == (value, expected[1])
    assert sql(con, "std_amount_text", raw) == (value, expected[1])


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (4.3626, "万元", ("43626.00", None)),
    (Decimal("1.5"), "亿元", ("150000000.00", None)),
    (12, "千元", ("12000.00", None)),
    ("1,234.5", "元", ("1234.50", None)),
    (5.0, "万美元", (None, REASON_UNIT)),
    (None, "元", (None, None)),
])  # fmt: skip
def test_amount_in_unit(con: duckdb.DuckDBPyConnection, value: object, unit: str,
                        expected: tuple) -> None:
    yuan = None if expected[0] is None else Decimal(expected[0])
    assert tuple(amount_in_unit(value, unit)) == (yuan, expected[1])  # type: ignore[arg-type]
    assert sql(con, "std_amount_in_unit", value, unit) == (yuan, expected[1])


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-03-05", (dt.date(2024, 3, 5), None)),
    ("2024/3/5", (dt.date(2024, 3, 5), None)),
    ("20240305", (dt.date(2024, 3, 5), None)),
    ("2024年3月5日", (dt.date(2024, 3, 5), None)),
    ("2024.03.05", (dt.date(2024, 3, 5), None)),
    ("２０２４年 ３月５日", (dt.date(2024, 3, 5), None)),
    ("2024-02-29", (dt.date(2024, 2, 29), None)),
    ("2023-02-29", (None, REASON_IMPOSSIBLE)),
    ("20241301", (None, REASON_IMPOSSIBLE)),
    ("0000-01-01", (None, REASON_IMPOSSIBLE)),
    ("2024-3/5", (None, REASON_SEPARATORS)),
    ("03/05/2024", (None, REASON_FORM)),
])  # fmt: skip
def test_date_text(con: duckdb.DuckDBPyConnection, raw: str, expected: tuple) -> None:
    assert tuple(date_text(raw)) == expected
    assert sql(con, "std_date_text", raw) == expected


@pytest.mark.parametrize(("raw", "display", "matching", "key"), [
    ("宁波（康隆）信息技术有限公司", "宁波（康隆）信息技术有限公司", "宁波（康隆）信息技术有限公司",
     "康隆信息技术"),
    ("宁波康隆信息技术有限责任公司", "宁波康隆信息技术有限责任公司", "宁波康隆信息技术有限公司",
     "康隆信息技术"),
    ("杭州市西湖区 康隆信息技术有限公司 ", "杭州市西湖区 康隆信息技术有限公司",
     "杭州市西湖区康隆信息技术有限公司", "康隆信息技术"),
    ("浙江ＡＢＣ贸易(杭州)股份有限公司", "浙江ABC贸易（杭州）股份有限公司",
     "浙江ABC贸易（杭州）股份有限公司", "ABC贸易杭州"),
    ("阿里巴巴(中国)有限公司", "阿里巴巴（中国）有限公司", "阿里巴巴（中国）有限公司",
     "阿里巴巴中国"),
    ("西湖龙井茶业有限公司", "西湖龙井茶业有限公司", "西湖龙井茶业有限公司", "西湖龙井茶业"),
    ("杭州有限公司", "杭州有限公司", "杭州有限公司", "杭州"),
])  # fmt: skip
def test_company_names(con: duckdb.DuckDBPyConnection, raw: str, display: str, matching: str,
                       key: str) -> None:
    assert company_name_display(raw).value == display
    assert company_name(raw).value == matching
    assert company_name_key(raw).value == key
    assert sql(con, "std_company_name_display", raw) == (display, None)
    assert sql(con, "std_company_name", raw) == (matching, None)
    assert sql(con, "std_company_name_key", raw) == (key, None)


@pytest.mark.parametrize(("raw", "county", "city"), [
    ("浙江省杭州市西湖区解放路12号3幢502室", "330106", "330100"),
    ("杭州西湖区解放路12号", "330106", "330100"),
    ("浙江杭州钱塘区胜利路5号", "330114", "330100"),  # created 2021
    ("杭州西湖解放路", "330106", "330100"),  # short county name under a city
    ("义乌市平胜路56号", "330782", "330700"),
    ("浙江省宁波市奉化区业环路537号", "330213", "330200"),  # a district since 2016
    ("浙江省杭州市某某路", None, "330100"),
])  # fmt: skip
def test_address_accepted(con: duckdb.DuckDBPyConnection, raw: str, county: str | None,
                          city: str) -> None:
    region = address_region(raw).value
    assert region is not None
    assert (region.county_code, region.city_code, region.province_code) == (
        county, city, "330000")
    found = con.execute("SELECT std_address_region(?)", [raw]).fetchall()[0][0]
    assert found == {**region._asdict(), "reason": None}


@pytest.mark.parametrize(("raw", "reason"), [
    ("西湖区解放路12号", "place name belongs to several divisions"),  # 杭州 and 南昌
    ("解放路12号", "no province, city or county name found"),
])  # fmt: skip
def test_address_refused(con: duckdb.DuckDBPyConnection, raw: str, reason: str) -> None:
    assert tuple(address_region(raw)) == (None, reason)
    found = con.execute("SELECT std_address_region(?)", [raw]).fetchall()[0][0]
    assert (found["county_code"], found["reason"]) == (None, reason)
