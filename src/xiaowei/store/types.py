"""Column types that hold the store's rules, so no caller can forget them.

- :class:`EncryptedString`: personal data is encrypted before it leaves the process.
- :class:`ExactDecimal`: money and rates are ``Decimal``, never float, and never silently
  rounded by the database — the caller rounds with the bank's rule before storing.
- :class:`UtcDateTime`: instants are stored in UTC and come back timezone-aware, because
  SQLite drops offsets silently and PostgreSQL converts them, so the same code would read
  different times on the two backends otherwise.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from xiaowei.security.pii import decrypt, encrypt

# An 8-byte float holds 15 significant decimal digits exactly; SQLite stores NUMERIC as one.
SQLITE_EXACT_DIGITS = 15

_NULL_TESTS = {operators.is_, operators.is_not, operator.eq, operator.ne}


class EncryptedString(TypeDecorator[str]):
    """Text encrypted with AES-256-GCM (see :mod:`xiaowei.security.pii`).

    Ciphertext differs on every write, so comparing the column with a value can never match:
    such comparisons raise instead of silently finding nothing. Look values up through a
    blind-index column instead.
    """

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if any(o is not None for o in other) or (other and op not in _NULL_TESTS):
                raise TypeError(
                    "an encrypted column cannot be compared with a value; "
                    "use its blind index column (e.g. party.id_number_index)"
                )
            return super().operate(op, *other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt(value)


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(precision, scale)`` that accepts only values it can store exactly."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TypeError(
                f"NUMERIC({self.precision},{self.scale}) takes Decimal or int, "
                f"got {type(value).__name__} {value!r}: money is never float"
            )
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"NUMERIC({self.precision},{self.scale}) got {number!r}")
        quantum = Decimal(1).scaleb(-self.scale)
        try:
            exact = number.quantize(quantum, context=decimal.Context(prec=60))
        except decimal.InvalidOperation as exc:  # pragma: no cover - needs > 60 digits
            raise ValueError(f"{number!r} does not fit NUMERIC({self.precision})") from exc
        if exact != number:
            raise ValueError(
                f"{number!r} has more than {self.scale} decimal places: "
                "round it with the bank's rounding rule before storing"
            )
        if abs(exact) >= Decimal(10) ** (self.precision - self.scale):
            raise ValueError(f"{number!r} does not fit NUMERIC({self.precision},{self.scale})")
        if dialect.name == "sqlite" and len(exact.as_tuple().digits) > SQLITE_EXACT_DIGITS:
            raise ValueError(
                f"{number!r} has more than {SQLITE_EXACT_DIGITS} significant digits, "
                "which SQLite cannot store exactly; use PostgreSQL"
            )
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


class Money(ExactDecimal):
    """Amounts in yuan with fen: ``NUMERIC(18, 2)``."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(18, 2)


class Rate(ExactDecimal):
    """Annual interest rates as fractions, e.g. ``Decimal('0.043500')``: ``NUMERIC(9, 6)``."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(9, 6)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant, stored as UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__} {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value!r}: pass a timezone-aware one, e.g. "
                "datetime.now(UTC) or .replace(tzinfo=ZoneInfo('Asia/Shanghai'))"
            )
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
