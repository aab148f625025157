"""The column types refuse values the store could not keep exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from xiaowei.store.database import session_factory, transaction
from xiaowei.store.tables import Party
from xiaowei.store.types import ExactDecimal, Money, Rate, UtcDateTime

PG = postgresql.dialect()
LITE = sqlite.dialect()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1234567.89, TypeError),
        (True, TypeError),
        ("1.00", TypeError),
        (Decimal("1.005"), ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (Decimal("10000000000000000.00"), ValueError),
    ],
)
def test_money_refuses_what_it_cannot_store_exactly(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        Money().process_bind_param(value, PG)


def test_money_accepts_decimals_and_whole_yuan() -> None:
    assert Money().process_bind_param(Decimal("1.5"), PG) == Decimal("1.50")
    assert str(Money().process_bind_param(7, PG)) == "7.00"
    assert Money().process_bind_param(None, PG) is None


def test_sqlite_refuses_money_beyond_fifteen_digits() -> None:
    assert Money().process_bind_param(Decimal("9999999999999.99"), LITE)
    with pytest.raises(ValueError, match="SQLite"):
        Money().process_bind_param(Decimal("99999999999999.99"), LITE)
    assert Money().process_bind_param(Decimal("9999999999999999.99"), PG)


def test_rate_has_six_decimal_places() -> None:
    assert str(Rate().process_bind_param(Decimal("0.0435"), PG)) == "0.043500"
    with pytest.raises(ValueError, match="6 decimal places"):
        Rate().process_bind_param(Decimal("0.0435001"), PG)


def test_exact_decimal_types_are_cacheable_by_precision() -> None:
    assert ExactDecimal(18, 2)._static_cache_key != ExactDecimal(9, 6)._static_cache_key


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        UtcDateTime().process_bind_param(dt.datetime(2025, 3, 1, 9, 30), PG)
    with pytest.raises(TypeError):
        UtcDateTime().process_bind_param(dt.date(2025, 3, 1), PG)


def test_encrypted_column_cannot_be_compared_with_a_value() -> None:
    with pytest.raises(TypeError, match="blind index"):
        _ = Party.name == "张三丰"
    with pytest.raises(TypeError, match="blind index"):
        Party.phone.in_(["13812345678"])


def test_encrypted_column_can_still_be_tested_for_null(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(
            Party(
                party_id="P1",
                party_type="enterprise",
                name="某公司",
                name_masked="某**",
                region_code="330106",
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    with session_factory(engine)() as session:
        assert session.scalars(select(Party.party_id).where(Party.phone.is_(None))).all() == ["P1"]
        assert session.scalars(select(Party.party_id).where(Party.phone != None)).all() == []  # noqa: E711
