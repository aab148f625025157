"""Money as ``Decimal`` yuan to the fen (0.01), or as integer fen — never as float.

Why refuse float outright instead of converting: a binary float cannot hold most fen amounts
(0.1 + 0.2 != 0.3), and the error only surfaces later as a one-fen break in a reconciliation or
a repayment schedule that does not sum to the principal. Rejecting floats at the boundary makes
the caller choose ``Decimal("123.45")`` or the string ``"123.45"``, which are exact.

Rounding is ROUND_HALF_UP (四舍五入), the convention of Chinese bank statements, not Python's
default banker's rounding.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
WAN = Decimal(10000)

MoneyInput = Decimal | int | str

_FLOAT_MESSAGE = (
    "{what} must be Decimal, int or str, not float: binary floats cannot represent most "
    "fen amounts exactly (0.1 + 0.2 != 0.3); pass Decimal('{value!r}') or the string instead"
)


def to_decimal(value: MoneyInput, what: str = "amount") -> Decimal:
    """An exact ``Decimal`` from Decimal, int or str; float and bool are refused (TypeError)."""
    if isinstance(value, float):
        raise TypeError(_FLOAT_MESSAGE.format(what=what, value=value))
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{what} must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{what} is not a number: {value[:20]!r}") from None
    else:
        result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, got {result}")
    return result


def to_yuan(value: MoneyInput, what: str = "amount") -> Decimal:
    """Yuan rounded half-up to the fen: ``to_yuan("12.345") == Decimal("12.35")``.

    Strings may carry thousands separators (``"1,234.50"``) as printed on Chinese statements.
    """
    return to_decimal(value, what).quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(value: MoneyInput, what: str = "amount") -> int:
    """Integer fen, for stores and arithmetic that must not round: ``to_fen("1.23") == 123``."""
    return int(to_yuan(value, what) * 100)


def from_fen(fen: int) -> Decimal:
    """Yuan with two decimals from integer fen: ``from_fen(123) == Decimal("1.23")``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be an int, not {type(fen).__name__}")
    return (Decimal(fen) / 100).quantize(FEN)


def wan_to_yuan(value: MoneyInput, what: str = "amount") -> Decimal:
    """Yuan from 万元 (10,000 yuan), the unit of regulations and credit limits."""
    return (to_decimal(value, what) * WAN).quantize(FEN, rounding=ROUND_HALF_UP)


def yuan_to_wan(value: MoneyInput, what: str = "amount") -> Decimal:
    """万元 from yuan, exact (not rounded), for comparing with thresholds stated in 万元."""
    return to_decimal(value, what) / WAN
