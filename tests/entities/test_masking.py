from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.entities.masking import mask_id_number, mask_name, mask_phone, mask_uscc, mask_value


def test_id_number_keeps_first_three_and_last_four() -> None:
    assert mask_id_number("330106199001011234") == "330***********1234"
    assert mask_id_number("33010619900101123X") == "330***********123X"


def test_first_generation_id_number_still_masked_by_the_same_rule() -> None:
    assert mask_id_number("330106900101123") == "330********1123"


@pytest.mark.parametrize("short", ["", "1", "1234567", "1234567890123"])
def test_short_id_number_is_all_stars_of_the_same_length(short: str) -> None:
    assert mask_id_number(short) == "*" * len(short)


def test_uscc_keeps_first_four_and_last_four() -> None:
    assert mask_uscc("91110000600037341L") == "9111**********341L"
    assert mask_uscc("9111") == "****"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("008613812345678", "0086138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0571-88888888", "057*****8888"),
        ("12345", "*****"),
    ],
)
def test_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("王", "*"),
        ("买买提·艾力", "买****力"),
        ("杭州西湖龙井茶业有限公司", "杭州******有限公司"),
        ("老王面馆", "老**馆"),
        ("纸箱厂", "纸*厂"),
    ],
)
def test_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_generic_value_hides_most_of_it() -> None:
    assert mask_value("330106199001011234") == "330************234"
    assert mask_value("abcd") == "****"
    assert mask_value(330106) == "3****6"


@pytest.mark.parametrize("mask", [mask_id_number, mask_uscc, mask_phone, mask_name, mask_value])
def test_none_passes_through(mask: object) -> None:
    assert mask(None) is None  # type: ignore[operator]


@given(st.text(alphabet="0123456789ABCDEFX", min_size=1, max_size=40))
def test_id_and_uscc_masks_hide_at_least_half_and_keep_length(text: str) -> None:
    for mask in (mask_id_number, mask_uscc):
        masked = mask(text)
        assert len(masked) == len(text)
        assert masked.count("*") * 2 >= len(text)
        assert masked != text


@given(st.text(min_size=1, max_size=60).filter(lambda s: "*" not in s))
def test_generic_mask_never_returns_the_value(text: str) -> None:
    masked = mask_value(text)
    assert len(masked) == len(text)
    assert masked != text
    assert masked.count("*") >= len(text) * 0.6 - 1
