"""Fixtures for the tag engine: a toy catalogue (shops and orders) and its Parquet tables.

The data is small, seeded and deliberately awkward: rows that become known long after they
happened (late arrivals), shops whose only orders are zero-amount (a division by zero),
a shop with no orders, and a shop the bank learns about late.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xiaowei.engine.tags import Catalogue, load_catalogue

DATA = Path(__file__).parent / "data"
START = dt.date(2024, 1, 1)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def toy_tables(seed: int = 11, shops: int = 40) -> dict[str, pa.Table]:
    """Seeded toy governed tables: shops, orders, regions."""
    rng = random.Random(seed)
    shop_rows = {"shop_id": [], "region_code": [], "known_at": []}
    for i in range(shops):
        shop_rows["shop_id"].append(f"s{i:03d}")
        shop_rows["region_code"].append(["east", "west", "north"][i % 3])
        known = START if i != 7 else dt.date(2024, 3, 20)  # the bank learns of s007 late
        shop_rows["known_at"].append(_at(known, 9))
    orders = {
        k: [] for k in ("shop_id", "ordered_on", "amount", "refunded", "delivery_days", "known_at")
    }
    for i in range(shops):
        if i == 5:
            continue  # a shop with no orders at all
        for _ in range(rng.randint(5, 60)):
            day = START + dt.timedelta(days=rng.randint(0, 90))
            lag = rng.choice([0, 0, 1, 2, 3, 45]) if i != 3 else 60  # s003: always very late
            amount = Decimal(0) if i == 9 else Decimal(rng.randint(0, 500_000)) / 100
            orders["shop_id"].append(f"s{i:03d}")
            orders["ordered_on"].append(day)
            orders["amount"].append(amount)
            orders["refunded"].append(rng.random() < 0.1)
            orders["delivery_days"].append(rng.randint(1, 9))
            orders["known_at"].append(_at(day + dt.timedelta(days=lag), rng.randint(0, 23)))
    regions = {
        "region_code": ["east", "west", "north"],
        "region_name": ["华东", "West 西部", "north"],
        "known_at": [_at(START, 0)] * 3,
    }
    order_schema = pa.schema(
        [
            ("shop_id", pa.string()),
            ("ordered_on", pa.date32()),
            ("amount", pa.decimal128(12, 2)),
            ("refunded", pa.bool_()),
            ("delivery_days", pa.int32()),
            ("known_at", pa.timestamp("us")),
        ]
    )
    return {
        "shops": pa.table(shop_rows),
        "orders": pa.table(orders, schema=order_schema),
        "regions": pa.table(regions),
    }


def write_sources(tables: dict[str, pa.Table], folder: Path) -> dict[str, Path]:
    """Write each table to ``folder/<name>.parquet``; return name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, table in tables.items():
        out[name] = folder / f"{name}.parquet"
        pq.write_table(table, out[name])
    return out


@pytest.fixture(scope="session")
def toy_catalogue_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogue directory holding a copy of ``data/toy_catalogue.yaml``."""
    folder = tmp_path_factory.mktemp("catalogue")
    shutil.copy(DATA / "toy_catalogue.yaml", folder / "toy.yaml")
    return folder


@pytest.fixture(scope="session")
def catalogue(toy_catalogue_dir: Path) -> Catalogue:
    return load_catalogue(toy_catalogue_dir)


@pytest.fixture(scope="session")
def toy_data() -> dict[str, pa.Table]:
    return toy_tables()


@pytest.fixture(scope="session")
def toy_sources(
    toy_data: dict[str, pa.Table], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The toy governed tables as Parquet files: the one input both engines read."""
    return write_sources(toy_data, tmp_path_factory.mktemp("governed"))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for all Spark tests (the JVM start is the slow part)."""
    from xiaowei.engine.tags.spark import local_session

    session = local_session("xiaowei-tests")
    yield session
    session.stop()
