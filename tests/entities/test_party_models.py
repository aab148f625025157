from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from stdnum.cn import ric, uscc

from xiaowei.entities.party import (
    BusinessOwner,
    Enterprise,
    IndividualBusiness,
    Party,
    PartyType,
    TaxCreditGrade,
)
from xiaowei.entities.size_class import SizeClass


def with_ric_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def with_uscc_check(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


USCC = with_uscc_check("91330106MA2B00001")
IB_USCC = with_uscc_check("92330106MA2B00002")
REP_ID = with_ric_check("33010619900101123")


def enterprise(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "uscc": USCC,
        "name": "杭州西湖龙井茶业有限公司",
        "legal_rep_name": "张三",
        "legal_rep_id": REP_ID,
        "region_code": "330106",
        "industry_code": "C1530",
        "established_on": date(2015, 3, 1),
        "registered_capital": "1000000",
        "employees": 25,
        "annual_revenue": "3500000",
        "phone": "138 1234 5678",
    }
    record.update(changes)
    return record


def test_valid_enterprise_is_normalised_and_sized() -> None:
    e = Enterprise(**enterprise(legal_rep_id=REP_ID.lower(), region_code="３３０１０６"))
    assert e.party_type is PartyType.ENTERPRISE
    assert e.legal_rep_id == REP_ID
    assert e.region_code == "330106"
    assert e.industry_code == "1530"
    assert e.phone == "+8613812345678"
    assert e.registered_capital == Decimal("1000000.00")
    # 工业: 25 staff, 350 万元 revenue → small
    assert e.size_class is SizeClass.SMALL


def test_declared_size_class_must_agree() -> None:
    assert Enterprise(**enterprise(size_class="small")).size_class is SizeClass.SMALL
    with pytest.raises(ValidationError, match="size_class 'medium' contradicts"):
        Enterprise(**enterprise(size_class="medium"))


def test_size_class_needs_assets_for_construction() -> None:
    with pytest.raises(ValidationError, match="assets_wan"):
        Enterprise(**enterprise(industry_code="47"))
    declared = Enterprise(**enterprise(industry_code="47", size_class="micro"))
    assert declared.size_class is SizeClass.MICRO
    derived = Enterprise(**enterprise(industry_code="47", total_assets="3000000"))
    assert derived.size_class is SizeClass.SMALL  # 350 万 revenue, 300 万 assets


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("legal_rep_id", REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1")),
        ("uscc", USCC[:-1] + ("0" if USCC[-1] != "0" else "1")),
        ("phone", "+14155552671"),
        ("region_code", "330106199001011234"),
    ],
)
def test_invalid_identifier_error_names_field_masks_value_and_hides_input(
    field: str, raw: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Enterprise(**enterprise(**{field: raw}))
    text = str(caught.value)
    assert f"field '{field}'" in text
    assert "*" in text  # the masked value is there
    assert raw not in text
    assert "input_value" not in text
    assert raw not in repr(caught.value)
    assert caught.value.errors()[0]["loc"] == (field,)


def test_masked_value_shown_is_the_documented_mask() -> None:
    raw = REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        Enterprise(**enterprise(legal_rep_id=raw))
    assert f"330***********{raw[-4:]}" in str(caught.value)


def test_enterprise_cannot_use_an_individual_business_code() -> None:
    with pytest.raises(ValidationError, match="starting 91 or 93"):
        Enterprise(**enterprise(uscc=IB_USCC))


def test_individual_business_needs_a_92_code() -> None:
    record = {
        "name": "老王面馆",
        "operator_name": "王五",
        "operator_id": REP_ID,
        "region_code": "330106",
        "industry_code": "62",
        "established_on": "2019-05-01",
        "phone": "0571-88888888",
    }
    ib = IndividualBusiness(uscc=IB_USCC, **record)
    assert ib.phone == "+8657188888888"
    with pytest.raises(ValidationError, match="starting 92"):
        IndividualBusiness(uscc=USCC, **record)


def test_money_fields_refuse_float_and_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Enterprise(**enterprise(annual_revenue=3500000.0))
    assert caught.value.errors()[0]["loc"] == ("annual_revenue",)
    assert "not float" in str(caught.value)


def test_future_founding_date_refused() -> None:
    with pytest.raises(ValidationError, match="established_on"):
        Enterprise(**enterprise(established_on=date.today() + timedelta(days=1)))


def test_unknown_fields_refused_and_records_frozen() -> None:
    with pytest.raises(ValidationError, match="credit_score"):
        Enterprise(**enterprise(credit_score=700))
    e = Enterprise(**enterprise())
    with pytest.raises(ValidationError):
        e.name = "改名有限公司"  # type: ignore[misc]


def test_party_union_parses_by_type() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Party)
    owner = adapter.validate_python(
        {
            "party_type": "business_owner",
            "id_number": REP_ID,
            "name": "李四",
            "phone": "13812345678",
            "region_code": "330106",
        }
    )
    assert isinstance(owner, BusinessOwner)
    assert isinstance(adapter.validate_python(enterprise(party_type="enterprise")), Enterprise)


def test_labels() -> None:
    assert PartyType.INDIVIDUAL_BUSINESS.zh == "个体工商户"
    assert PartyType.BUSINESS_OWNER.zh == "个人经营者"
    assert PartyType.ENTERPRISE.zh == "小微企业"
    assert TaxCreditGrade("M").zh == "M级"
