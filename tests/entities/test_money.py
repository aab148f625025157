from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.entities.money import from_fen, to_decimal, to_fen, to_yuan, wan_to_yuan, yuan_to_wan


@pytest.mark.parametrize(
    ("value", "yuan"),
    [
        ("12.345", "12.35"),
        ("0.005", "0.01"),
        ("2.675", "2.68"),  # float 2.675 is 2.67499… and would round down
        ("-0.005", "-0.01"),  # half away from zero, as printed on statements
        (Decimal("1.1"), "1.10"),
        (5, "5.00"),
        (" 1,234,567.891 ", "1234567.89"),
    ],
)
def test_to_yuan_rounds_half_up_to_the_fen(value: object, yuan: str) -> None:
    result = to_yuan(value)  # type: ignore[arg-type]
    assert result == Decimal(yuan)
    assert result.as_tuple().exponent == -2


def test_float_is_refused_with_the_reason() -> None:
    with pytest.raises(TypeError, match=r"not float: binary floats cannot represent"):
        to_yuan(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="principal must be"):
        to_fen(1.5, what="principal")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wan_to_yuan(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [True, None, [1], b"1"])
def test_other_types_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        to_yuan(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "", "1.2.3", "NaN", "Infinity", Decimal("NaN")])
def test_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)  # type: ignore[arg-type]


def test_fen_conversions() -> None:
    assert to_fen("1.23") == 123
    assert to_fen("1.235") == 124
    assert to_fen(10_000_000) == 1_000_000_000
    assert from_fen(123) == Decimal("1.23")
    assert from_fen(-5) == Decimal("-0.05")
    with pytest.raises(TypeError):
        from_fen(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_fen(True)


def test_wan() -> None:
    assert wan_to_yuan("1000") == Decimal("10000000.00")
    assert wan_to_yuan("0.000001") == Decimal("0.01")
    assert yuan_to_wan("12345.67") == Decimal("1.234567")


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=4))
def test_fen_round_trip(value: Decimal) -> None:
    assert from_fen(to_fen(value)) == to_yuan(value)
    assert abs(to_yuan(value) - value) <= Decimal("0.005")
