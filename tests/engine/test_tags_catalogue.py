"""The catalogue refuses every broken definition, naming file:line, and the lock refuses
silent redefinitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xiaowei.engine.tags import CatalogueError, check_lock, load_catalogue, lock, write_lock

BASE = """\
entities:
  - name: shop
    key: shop_id
  - name: owner
    key: owner_id
tables:
  - name: orders
    keys: [shop]
    known_at: known_at
  - name: codes
    reference: true
    known_at: known_at
  - name: ledger
    keys: {owner: owner_id}
    known_at: known_at
"""
GOOD_SQL = "SELECT shop_id AS entity_id, count(*) AS value\nFROM orders\nGROUP BY shop_id"
FIELDS = {
    "name": "orders_total",
    "label": "{zh: 订单数, en: orders}",
    "category": "fact",
    "entity": "shop",
    "type": "int",
    "unit": "orders",
    "cadence": "daily",
    "owner": "data-team",
    "version": "1",
    "description": "Orders known at as-of.",
}


def tag_yaml(sql: str = GOOD_SQL, drop: tuple[str, ...] = (), **fields: str) -> str:
    """One-tag YAML; ``fields`` override or add keys, ``drop`` removes them."""
    merged = {**FIELDS, **fields}
    lines = ["# tags under test", "tags:"]
    for i, (key, value) in enumerate((k, v) for k, v in merged.items() if k not in drop):
        lines.append(f"{'  - ' if i == 0 else '    '}{key}: {value}")
    lines.append("    sql: |")
    lines.extend(f"      {line}" for line in sql.splitlines())
    return "\n".join(lines) + "\n"


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line containing ``marker``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


@pytest.fixture
def write(tmp_path: Path):
    """Write base.yaml and tags.yaml into a fresh catalogue dir; return (dir, tags file)."""

    def _write(tags_text: str, base: str = BASE) -> tuple[Path, Path]:
        folder = tmp_path / "cat"
        folder.mkdir(exist_ok=True)
        (folder / "base.yaml").write_text(base, "utf-8")
        (folder / "tags.yaml").write_text(tags_text, "utf-8")
        return folder, folder / "tags.yaml"

    return _write


def refused(folder: Path) -> str:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(folder)
    return str(info.value)


def test_toy_catalogue_loads_with_every_type(catalogue) -> None:
    types = {t.definition.type for t in catalogue.tags.values()}
    assert types == {"int", "float", "decimal", "bool", "string", "date"}
    assert catalogue.tags["order_amount_30d"].reads == ("orders",)
    assert catalogue.tags["region_name"].reads == ("regions", "shops")
    assert catalogue.key_of("orders", "shop") == "shop_id"


def test_a_good_tag_loads(write) -> None:
    folder, _ = write(tag_yaml())
    assert list(load_catalogue(folder).tags) == ["orders_total"]


@pytest.mark.parametrize(
    ("text", "marker", "fragment"),
    [
        (tag_yaml(unti="days"), "unti:", "tags.0.unti: Extra inputs are not permitted"),
        (tag_yaml(category="other"), "category:", "tags.0.category"),
        (tag_yaml(name="Bad-Name"), "name: Bad-Name", "tags.0.name"),
        (tag_yaml(version="0"), "version:", "tags.0.version"),
        (tag_yaml(type="money"), "type:", "tags.0.type"),
        (tag_yaml(scale="2"), "name:", "scale applies to decimal tags only"),
        (tag_yaml(type="decimal", scale="11"), "scale:", "tags.0.scale"),
        (tag_yaml(drop=("owner",)), "name:", "tags.0.owner: Field required"),
        (tag_yaml(entity="merchant"), "entity:", "entity 'merchant' is not declared"),
        (tag_yaml(name='x"; DROP TABLE orders; --'), "name: x", "tags.0.name"),
    ],
)
def test_bad_fields_are_refused_with_file_and_line(write, text, marker, fragment) -> None:
    folder, file = write(text)
    message = refused(folder)
    assert f"{file}:{line_of(text, marker)}:" in message
    assert fragment in message


@pytest.mark.parametrize(
    ("sql", "bad_line", "fragment"),
    [
        ("SELECT shop_id AS entity_id,\n  count( AS value\nFROM orders", 2, "syntax error"),
        (
            "SELECT shop_id AS entity_id, 1 AS value\nFROM orders\nJOIN secrets USING (shop_id)",
            3,
            "table 'secrets' is not declared",
        ),
        ("DELETE FROM orders", 1, "must be a SELECT"),
        (
            "SELECT 1 AS entity_id, 2 AS value;\nSELECT 3 AS entity_id, 4 AS value",
            1,
            "exactly one statement",
        ),
        (
            "SELECT shop_id, count(*) AS value FROM orders GROUP BY 1",
            1,
            "exactly two named columns",
        ),
        ("SELECT * FROM orders", 1, "exactly two named columns"),
        (
            "SELECT shop_id AS entity_id, count(*) AS value FROM orders\n"
            "WHERE ordered_on <= current_date GROUP BY 1",
            2,
            "not allowed",
        ),
        ("SELECT shop_id AS entity_id, now() AS value FROM orders", 1, "now() is not allowed"),
        (
            "SELECT shop_id AS entity_id, 1 AS value\nFROM read_parquet('/etc/x.parquet')",
            2,
            "read_parquet() is not allowed",
        ),
        (
            "SELECT shop_id AS entity_id, 1 AS value\nFROM orders, range(10) AS r",
            2,
            "table functions",
        ),
        ("SELECT shop_id AS entity_id, 1 AS value FROM other_db.orders", 1, "qualified table"),
        (
            "SELECT shop_id AS entity_id, 1 AS value FROM orders WHERE x > :since",
            1,
            "only the parameter :as_of",
        ),
        (
            "SELECT shop_id AS entity_id, 1 AS value FROM orders\nWHERE x > ?",
            2,
            "only the parameter :as_of",
        ),
        (
            "WITH orders AS (SELECT 1 AS shop_id)\nSELECT shop_id AS entity_id, 1 AS value "
            "FROM orders",
            1,
            "hides a declared or reserved table",
        ),
        (
            "SELECT owner_id AS entity_id, 1 AS value FROM ledger",
            1,
            "table 'ledger' has no key for entity 'shop'",
        ),
    ],
)
def test_broken_sql_is_refused_at_the_yaml_line(write, sql, bad_line, fragment) -> None:
    text = tag_yaml(sql)
    folder, file = write(text)
    message = refused(folder)
    sql_starts = line_of(text, "sql: |") + 1
    assert f"{file}:{sql_starts + bad_line - 1}: tags.0.sql:" in message
    assert fragment in message


def test_population_scope_may_read_a_table_without_the_entity_key(write) -> None:
    sql = "SELECT owner_id AS entity_id, count(*) AS value FROM ledger GROUP BY 1"
    folder, _ = write(tag_yaml(sql, scope="population"))
    assert load_catalogue(folder).tags["orders_total"].reads == ("ledger",)


def test_duplicate_tag_across_files_names_both_places(write) -> None:
    folder, file = write(tag_yaml())
    (folder / "zz_more.yaml").write_text(tag_yaml(), "utf-8")
    message = refused(folder)
    assert f"{folder / 'zz_more.yaml'}:3: tags.0.name: duplicate tag 'orders_total'" in message
    assert f"(first at {file}:3)" in message


def test_table_declaration_errors(write) -> None:
    base = (
        BASE + "  - name: loose\n    known_at: known_at\n  - name: bad\n"
        "    keys: [shop]\n    known_at: 'known_at\" OR 1=1 --'\n"
    )
    folder, _ = write(tag_yaml(), base=base)
    message = refused(folder)
    assert f"{folder / 'base.yaml'}:16: tables.3: Value error, declare 'keys'" in message
    assert f"{folder / 'base.yaml'}:20: tables.4.known_at: String should match" in message


def test_yaml_syntax_and_duplicate_keys_are_refused(write) -> None:
    folder, file = write(tag_yaml() + "    owner: again\n")
    assert f"{file}:" in refused(folder) and "duplicate key 'owner'" in refused(folder)
    folder, file = write("tags:\n  - name: [unclosed\n")
    assert f"{file}:" in refused(folder)


def test_every_problem_is_reported_at_once(write) -> None:
    folder, _ = write(tag_yaml(category="x"))
    (folder / "two.yaml").write_text(
        tag_yaml("SELECT 1 AS entity_id FROM nowhere", name="other"), "utf-8"
    )
    message = refused(folder)
    assert "tags.0.category" in message and "two.yaml" in message


def test_lock_refuses_a_changed_definition_without_a_new_version(write, tmp_path) -> None:
    folder, file = write(tag_yaml())
    lock_file = write_lock(load_catalogue(folder), tmp_path / "tags.lock.json")
    assert json.loads(lock_file.read_text())["tags"]["orders_total"]["version"] == 1

    # A new description or label is not a new version.
    folder, _ = write(tag_yaml(description="Orders the bank knows of at as-of."))
    assert check_lock(load_catalogue(folder), lock_file) == []

    changed = GOOD_SQL.replace("FROM orders", "FROM orders\nWHERE amount > 100")
    text = tag_yaml(changed)
    folder, file = write(text)
    with pytest.raises(CatalogueError) as info:
        check_lock(load_catalogue(folder), lock_file)
    message = str(info.value)
    assert f"{file}:{line_of(text, 'version:')}: tags.0.version:" in message
    assert "must be 2" in message

    folder, _ = write(tag_yaml(changed, version="2"))
    assert check_lock(load_catalogue(folder), lock_file) == ["orders_total"]

    # Formatting and comments do not change the content hash.
    folder, _ = write(
        tag_yaml(
            "select shop_id as entity_id,  COUNT(*) as value -- n\nfrom orders group by shop_id"
        )
    )
    assert check_lock(load_catalogue(folder), lock(load_catalogue(folder))) == []
    assert check_lock(load_catalogue(folder), lock_file) == []


def test_lock_refuses_a_version_bump_without_a_change(write) -> None:
    folder, _ = write(tag_yaml())
    previous = lock(load_catalogue(folder))
    folder, _ = write(tag_yaml(version="2"))
    with pytest.raises(CatalogueError, match="unchanged but its version moved from 1 to 2"):
        check_lock(load_catalogue(folder), previous)
