"""A tag as of D sees only rows the bank knew (and that were in force) at D, whatever its SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xiaowei.engine.tags import OnlineTags, run_duckdb
from xiaowei.engine.tags.sql import render

D = dt.date


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def _write(tmp_path: Path, orders: list[tuple]) -> dict[str, Path]:
    """Two shops in one region, and the given order rows, as Parquet files."""
    shops = pa.table(
        {
            "shop_id": ["a", "b"],
            "region_code": ["east", "east"],
            "known_at": [at(D(2024, 1, 1), 0)] * 2,
        }
    )
    regions = pa.table(
        {"region_code": ["east"], "region_name": ["华东"], "known_at": [at(D(2024, 1, 1), 0)]}
    )
    schema = pa.schema(
        [
            ("shop_id", pa.string()),
            ("ordered_on", pa.date32()),
            ("amount", pa.decimal128(12, 2)),
            ("refunded", pa.bool_()),
            ("delivery_days", pa.int32()),
            ("known_at", pa.timestamp("us")),
        ]
    )
    rows = list(zip(*orders, strict=True))
    table = pa.table(dict(zip(schema.names, rows, strict=True)), schema=schema)
    paths = {}
    for name, t in {"shops": shops, "regions": regions, "orders": table}.items():
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(t, paths[name])
    return paths


ORDERS = [
    # shop, ordered_on, amount, refunded, delivery_days, known_at
    ("a", D(2024, 1, 10), Decimal("100.00"), False, 2, at(D(2024, 1, 11))),  # on time
    ("a", D(2024, 1, 20), Decimal("900.00"), True, 8, at(D(2024, 2, 15))),  # arrives late
    ("a", D(2024, 2, 5), Decimal("50.00"), False, 1, at(D(2024, 1, 25))),  # dated ahead
    ("a", D(2024, 1, 31), Decimal("7.00"), False, 4, at(D(2024, 1, 31), 23)),  # known that evening
    ("b", D(2024, 1, 15), Decimal("300.00"), False, 3, at(D(2024, 1, 15))),
]


def test_late_and_future_rows_do_not_count(catalogue, tmp_path: Path) -> None:
    sources = _write(tmp_path, ORDERS)
    before = run_duckdb(catalogue, sources, D(2024, 1, 31)).values("a")
    assert before["order_count_30d"] == 2  # 01-10 and 01-31; not the late 01-20 nor 02-05
    assert before["order_amount_30d"] == Decimal("107.00")
    assert before["ever_refunded"] is False  # the refunded order was not known yet
    assert before["last_order_date"] == D(2024, 1, 31)
    # shop b outranks shop a only while a's late order is unknown
    ranks = run_duckdb(catalogue, sources, D(2024, 1, 31), ["amount_rank_in_region"])
    assert ranks.values("a")["amount_rank_in_region"] == 2

    after = run_duckdb(catalogue, sources, D(2024, 2, 16)).values("a")
    assert after["order_count_30d"] == 3  # 01-20 (now known), 01-31 and 02-05
    assert after["ever_refunded"] is True
    assert after["last_order_date"] == D(2024, 2, 5)
    ranks = run_duckdb(catalogue, sources, D(2024, 2, 16), ["amount_rank_in_region"])
    assert ranks.values("a")["amount_rank_in_region"] == 1


def test_online_applies_the_same_point_in_time_filter(catalogue, tmp_path: Path) -> None:
    sources = _write(tmp_path, ORDERS)
    online = OnlineTags(catalogue, sources)
    assert online.values("a", D(2024, 1, 31)) == run_duckdb(
        catalogue, sources, D(2024, 1, 31)
    ).values("a")
    online.close()


def test_no_compiled_query_reads_a_governed_table_outside_its_filter(catalogue) -> None:
    for tag in catalogue.select():
        text = render(catalogue.compiled(tag), "duckdb")
        for table in tag.reads:
            # The raw table appears exactly once: inside its point-in-time CTE.
            assert text.count(f'FROM "{table}"') == 1, (tag.name, text)
            assert text.count(f'"{table}"') == 1, (tag.name, text)
        assert "$as_of" in text and ":as_of" not in text


def test_as_of_must_be_a_date(catalogue, toy_sources) -> None:
    with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
        run_duckdb(catalogue, toy_sources, dt.datetime(2024, 3, 1, 12))
    with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
        run_duckdb(catalogue, toy_sources, "2024-03-01' OR 1=1 --")  # type: ignore[arg-type]
