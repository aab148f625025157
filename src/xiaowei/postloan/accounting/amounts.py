"""Checks and rounding shared by the accounting modules: fen-precise Decimals, never floats.

Why a check instead of a conversion: the ledger must account for every fen it is given. An
amount of ``Decimal("10.005")`` or ``10.0`` (float) cannot be booked exactly, so it is refused
with the field's name rather than silently rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from xiaowei.entities.lending import MAX_ANNUAL_RATE
from xiaowei.entities.money import FEN

ZERO = Decimal("0.00")


def round_fen(value: Decimal) -> Decimal:
    """``value`` rounded half-up (四舍五入) to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def require_yuan(value: object, what: str, *, positive: bool = True) -> Decimal:
    """``value`` itself if it is a finite Decimal with at most two decimals (and > 0)."""
    if isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, not float ({value!r}): binary floats "
                        f"cannot hold most fen amounts; pass Decimal('{value}')")
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__} ({value!r})")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value}")
    if value != value.quantize(FEN):
        raise ValueError(f"{what} must be whole fen (two decimals at most), got {value}")
    if positive and value <= 0:
        raise ValueError(f"{what} must be > 0, got {value}")
    if not positive and value < 0:
        raise ValueError(f"{what} must be ≥ 0, got {value}")
    return value


def require_rate(value: object, what: str = "annual_rate") -> Decimal:
    """A Decimal annual rate as a fraction, 0 ≤ rate < ``MAX_ANNUAL_RATE``."""
    if isinstance(value, float) or not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal fraction (0.06 for 6%), "
                        f"not {type(value).__name__} ({value!r})")
    if not value.is_finite() or not Decimal(0) <= value < MAX_ANNUAL_RATE:
        raise ValueError(f"{what} must be ≥ 0 and below {MAX_ANNUAL_RATE} "
                         f"(a fraction: 0.06 for 6%), got {value}")
    return value


def require_term(value: object, what: str = "term_months", maximum: int = 120) -> int:
    """A whole number of months from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValueError(f"{what} must be an integer from 1 to {maximum}, got {value!r}")
    return value
