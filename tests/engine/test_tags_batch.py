"""Batch runs: values against an independent oracle, the long layout, the tag contract,
bound inputs, and DuckDB and Spark agreeing to the fingerprint."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest

from xiaowei.engine.tags import SCHEMA, Catalogue, TagRunError, load_catalogue, run_duckdb
from xiaowei.engine.tags.batch import DuckDBTagRunner
from xiaowei.engine.tags.layout import fingerprint

AS_OF = dt.date(2024, 3, 1)


def oracle(tables, as_of: dt.date) -> dict[str, dict[str, object]]:
    """order_count_30d, order_amount_30d and last_order_date computed by hand in Python."""
    out: dict[str, dict[str, object]] = defaultdict(dict)
    orders = tables["orders"].to_pylist()
    known = [o for o in orders if o["known_at"].date() <= as_of and o["ordered_on"] <= as_of]
    for o in known:
        shop = out[o["shop_id"]]
        shop["last_order_date"] = max(shop.get("last_order_date", o["ordered_on"]), o["ordered_on"])
        if o["ordered_on"] > as_of - dt.timedelta(days=30):
            shop["order_count_30d"] = shop.get("order_count_30d", 0) + 1
            shop["order_amount_30d"] = shop.get("order_amount_30d", Decimal(0)) + o["amount"]
    return out


@pytest.mark.parametrize("as_of", [dt.date(2024, 1, 20), AS_OF, dt.date(2024, 5, 1)])
def test_batch_values_match_an_oracle(catalogue, toy_sources, toy_data, as_of) -> None:
    result = run_duckdb(
        catalogue, toy_sources, as_of, ["order_count_30d", "order_amount_30d", "last_order_date"]
    )
    got: dict[str, dict[str, object]] = defaultdict(dict)
    for row in result.table.to_pylist():
        value = next(
            row[c] for c in ("value_int", "value_decimal", "value_date") if row[c] is not None
        )
        got[row["entity_id"]][row["tag"]] = value
    assert dict(got) == dict(oracle(toy_data, as_of))
    assert "s003" not in got or as_of > dt.date(2024, 3, 1)  # s003's rows arrive 60 days late


def test_long_layout_keeps_types_and_canonical_text(catalogue, toy_sources) -> None:
    result = run_duckdb(catalogue, toy_sources, AS_OF)
    assert result.table.schema == SCHEMA
    assert result.tags == tuple(catalogue.tags)
    rows = {(r["entity_id"], r["tag"]): r for r in result.table.to_pylist()}
    amount = rows["s000", "order_amount_30d"]
    assert amount["value_text"] == f"{amount['value_decimal']:.2f}"
    assert rows["s000", "ever_refunded"]["value_text"] in ("true", "false")
    assert rows["s000", "last_order_date"]["value_text"] == str(
        rows["s000", "last_order_date"]["value_date"]
    )
    share = rows["s009", "refund_share"]  # s009's orders are all zero-amount: x / 0 is NULL
    assert share["value_float"] is None and share["value_text"] is None
    # s005 has no orders: only the tags that read shops alone have a value for it
    assert {t for e, t in rows if e == "s005"} == {"amount_rank_in_region", "region_name"}
    assert rows["s001", "region_name"]["value_string"] == "West 西部"
    # one typed column set per row, and only the one of the tag's type
    for (_, tag), row in rows.items():
        kind = catalogue.tags[tag].definition.type
        set_columns = [c for c in SCHEMA.names[3:-1] if row[c] is not None]
        assert set_columns in ([], [f"value_{'string' if kind == 'string' else kind}"])


def test_fingerprint_is_stable_and_sensitive(catalogue, toy_sources) -> None:
    seen: list[tuple[str, int, int]] = []
    first = run_duckdb(catalogue, toy_sources, AS_OF, progress=lambda *a: seen.append(a))
    again = run_duckdb(catalogue, toy_sources, AS_OF)
    assert first.fingerprint == again.fingerprint
    assert seen == [(name, i, len(catalogue.tags)) for i, name in enumerate(catalogue.tags, 1)]
    assert run_duckdb(catalogue, toy_sources, AS_OF + dt.timedelta(days=1)).fingerprint != (
        first.fingerprint
    )
    # the fingerprint reads canonical text only, and order does not matter
    shuffled = first.table.take(list(reversed(range(first.table.num_rows))))
    assert fingerprint(shuffled, AS_OF) == first.fingerprint
    changed = first.table.set_column(
        SCHEMA.get_field_index("value_text"),
        "value_text",
        pc.if_else(
            pc.equal(first.table["tag"], "order_count_30d"), "999", first.table["value_text"]
        ),
    )
    assert fingerprint(changed, AS_OF) != first.fingerprint


def test_python_and_duckdb_fingerprints_are_one_definition(catalogue, toy_sources) -> None:
    """Small tables are hashed in Python, large ones in DuckDB: the two must agree exactly."""
    import pyarrow as pa

    from xiaowei.engine.tags import layout

    result = run_duckdb(catalogue, toy_sources, AS_OF)
    big = pa.concat_tables([result.table] * (layout.SMALL_FINGERPRINT_ROWS // result.rows + 1))
    threshold = layout.SMALL_FINGERPRINT_ROWS
    try:  # the same rows through both paths
        layout.SMALL_FINGERPRINT_ROWS = big.num_rows + 1
        in_python = fingerprint(big, AS_OF)
    finally:
        layout.SMALL_FINGERPRINT_ROWS = threshold
    assert big.num_rows >= layout.SMALL_FINGERPRINT_ROWS
    assert fingerprint(big, AS_OF) == in_python
    assert in_python != result.fingerprint  # repeated rows count: it is a multiset hash
    empty = result.table.slice(0, 0)
    assert fingerprint(empty, AS_OF) == layout.seal(AS_OF, 0, 0, 0)


def test_a_run_written_to_parquet_keeps_nothing_in_memory(
    catalogue, toy_sources, tmp_path: Path
) -> None:
    from xiaowei.engine.tags import TagHistory

    in_memory = run_duckdb(catalogue, toy_sources, AS_OF)
    target = tmp_path / "runs" / "duckdb-2024-03-01"
    on_disk = run_duckdb(catalogue, toy_sources, AS_OF, output=target)
    assert on_disk.data is None and on_disk.path == target
    assert {f.stem for f in target.glob("*.parquet")} == set(in_memory.table["tag"].to_pylist())
    assert not target.with_name(target.name + ".partial").exists()
    assert on_disk.fingerprint == in_memory.fingerprint
    assert (on_disk.rows, on_disk.entities) == (in_memory.rows, in_memory.entities)
    by_key = [("entity_id", "ascending"), ("tag", "ascending")]
    assert on_disk.table.sort_by(by_key).equals(in_memory.table)  # files are per tag
    again = run_duckdb(catalogue, toy_sources, AS_OF, output=target)  # a rerun replaces it
    assert again.table.sort_by(by_key).equals(in_memory.table)
    assert on_disk.values("s000") == in_memory.values("s000") != {}
    # the history folds either form in identically
    assert on_disk.tag_fingerprint("order_count_30d") == fingerprint(
        in_memory.table.filter(pc.equal(in_memory.table["tag"], "order_count_30d")), AS_OF
    )
    from_file, from_memory = TagHistory(), TagHistory()
    assert from_file.apply(on_disk) == from_memory.apply(in_memory) > 0
    assert from_file.as_of(AS_OF).equals(from_memory.as_of(AS_OF))
    assert from_file.apply(on_disk) == 0  # idempotent from the file too


def test_a_tag_with_two_values_for_one_entity_is_refused(toy_sources, tmp_path: Path) -> None:
    text = (Path(__file__).parent / "data" / "toy_catalogue.yaml").read_text("utf-8")
    text += """
  - name: every_amount
    label: {zh: 金额, en: amount}
    category: fact
    entity: shop
    type: decimal
    unit: yuan
    cadence: daily
    owner: data-team
    version: 1
    description: Wrong on purpose, one row per order.
    sql: SELECT shop_id AS entity_id, amount AS value FROM orders
"""
    (tmp_path / "cat.yaml").write_text(text, "utf-8")
    bad = load_catalogue(tmp_path)
    with pytest.raises(TagRunError, match=r"tag 'every_amount' returned \d+ rows for entity"):
        run_duckdb(bad, toy_sources, AS_OF, ["every_amount"])


def test_source_names_and_columns_are_checked(catalogue, toy_sources, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="table must match"):
        run_duckdb(catalogue, {**toy_sources, 'orders"; DROP TABLE shops; --': "x"}, AS_OF)
    with pytest.raises(KeyError, match="not a table declared"):
        run_duckdb(catalogue, {**toy_sources, "secrets": toy_sources["orders"]}, AS_OF)
    missing = {k: v for k, v in toy_sources.items() if k != "regions"}
    with pytest.raises(KeyError, match=r"no Parquet source given for tables \['regions'\]"):
        run_duckdb(catalogue, missing, AS_OF)
    wrong = {**toy_sources, "orders": toy_sources["regions"]}
    lacks = r"'orders' lacks declared columns \['ordered_on', 'shop_id'\]"
    with pytest.raises(KeyError, match=lacks):
        run_duckdb(catalogue, wrong, AS_OF)


def test_unknown_tag_selection_is_refused(catalogue, toy_sources) -> None:
    with pytest.raises(KeyError, match="unknown tags"):
        run_duckdb(catalogue, toy_sources, AS_OF, ["no_such_tag"])


@pytest.mark.slow
def test_duckdb_and_spark_agree_to_the_fingerprint(catalogue, toy_sources, spark) -> None:
    from xiaowei.engine.tags.spark import SparkTagRunner

    runner = SparkTagRunner(catalogue, toy_sources, spark)
    assert "`orders`" in runner.sql("order_count_30d")  # Spark dialect, not DuckDB's
    for as_of in (dt.date(2024, 1, 20), dt.date(2024, 5, 1)):
        on_duckdb = run_duckdb(catalogue, toy_sources, as_of)
        on_spark = runner.run(as_of)
        assert on_spark.table.num_rows == on_duckdb.table.num_rows > 100
        # every typed column equal; doubles may differ in the last bits (summation order),
        # which the fingerprint's 10 significant digits absorb
        exact = on_duckdb.table.drop_columns(["value_float"])
        assert on_spark.table.drop_columns(["value_float"]).equals(exact)
        assert on_spark.fingerprint == on_duckdb.fingerprint


def test_a_runner_for_some_tags_needs_only_their_tables(catalogue, toy_sources) -> None:
    """Part of a catalogue runs on part of the data; asking for more is refused clearly."""
    from xiaowei.engine.tags import DuckDBTagRunner

    only_orders = [n for n, t in catalogue.tags.items() if set(t.reads) == {"orders"}]
    assert only_orders
    sources = {"orders": toy_sources["orders"]}
    with DuckDBTagRunner(catalogue, sources, tags=only_orders) as runner:
        result = runner.run(dt.date(2024, 3, 1))
        assert set(result.table.column("tag").to_pylist()) <= set(only_orders)
        others = [n for n in catalogue.tags if n not in only_orders]
        with pytest.raises(KeyError, match="were not given to this runner"):
            runner.run(dt.date(2024, 3, 1), tags=others[:1])


def test_fused_tags_keep_each_tags_own_rows_and_values(catalogue, toy_sources) -> None:
    """Tags of one table run as one query give exactly what each gives alone: its own window,
    no row where it had none (not a NULL), and a FILTER the author wrote kept as well."""
    from xiaowei.engine.tags.batch import DuckDBTagRunner
    from xiaowei.engine.tags.fusion import plan_fusion

    groups, _ = plan_fusion(catalogue.select())
    fused = {t.name for g in groups for t in g.tags}
    assert {"order_count_30d", "order_amount_30d", "last_order_date"} <= fused
    for as_of in (dt.date(2024, 1, 20), AS_OF):
        with DuckDBTagRunner(catalogue, toy_sources, fuse=False) as runner:
            plain = runner.run(as_of)
        with DuckDBTagRunner(catalogue, toy_sources) as runner:
            together = runner.run(as_of)
        assert together.table.equals(plain.table)
        assert together.fingerprint == plain.fingerprint


def test_fusion_refuses_to_read_an_unfiltered_table() -> None:
    """A fused query left reading the declared table would see rows not yet known at as-of."""
    import sqlglot

    from xiaowei.engine.tags.run_plan import redirect

    query = sqlglot.parse_one("SELECT shop_id FROM orders", read="duckdb")
    assert "pit__orders" in redirect(query, "orders", "pit__orders").sql()
    with pytest.raises(ValueError, match="refusing to run it unfiltered"):
        redirect(query, "refunds", "pit__refunds")


def test_shapes_that_cannot_fuse_run_alone(catalogue) -> None:
    """Joins, windows, HAVING, functions sqlglot does not know, and columns read outside an
    aggregate (a FILTER would not restrict them) keep a tag out of fusion."""
    import sqlglot

    from xiaowei.engine.tags.fusion import shape_of

    base = catalogue.tags["order_count_30d"]

    def shape(sql: str):
        tag = dataclasses.replace(base, query=sqlglot.parse_one(sql, read="duckdb"))
        return shape_of(tag)

    assert shape("SELECT shop_id AS entity_id, count(*) AS value FROM orders "
                 "WHERE amount > 0 GROUP BY shop_id").kind == "aggregate"
    assert shape("SELECT shop_id AS entity_id, amount AS value FROM orders").kind == "row"
    for refused in (
        "SELECT shop_id AS entity_id, count(*) AS value FROM orders GROUP BY shop_id "
        "HAVING count(*) > 2",
        "SELECT shop_id AS entity_id, sum(amount) OVER () AS value FROM orders",
        "SELECT shop_id AS entity_id, my_udf(amount) AS value FROM orders GROUP BY shop_id",
        "SELECT shop_id AS entity_id, max(amount) + amount AS value FROM orders "
        "GROUP BY shop_id, amount",
        "SELECT amount AS entity_id, count(*) AS value FROM orders GROUP BY shop_id",
    ):
        assert shape(refused) is None, refused


def _extended(tmp_path: Path, extra: str) -> Catalogue:
    text = (Path(__file__).parent / "data" / "toy_catalogue.yaml").read_text("utf-8")
    (tmp_path / "cat.yaml").write_text(text + extra, "utf-8")
    return load_catalogue(tmp_path)


_TAG_HEAD = """
  - name: {name}
    label: {{zh: 标签, en: tag}}
    category: fact
    entity: shop
    type: {type}
    unit: count
    cadence: daily
    owner: data-team
    version: 1
    description: For fusion tests.
    sql: {sql}
"""


def test_an_authors_own_filter_is_kept_when_fused(toy_sources, tmp_path: Path) -> None:
    cat = _extended(tmp_path, _TAG_HEAD.format(
        name="big_orders_30d", type="int",
        sql="SELECT shop_id AS entity_id, count(*) FILTER (WHERE amount > 2000) AS value "
            "FROM orders WHERE ordered_on > :as_of - INTERVAL 30 DAY GROUP BY shop_id"))
    names = ["big_orders_30d", "order_count_30d", "order_amount_30d"]
    with DuckDBTagRunner(cat, toy_sources, fuse=False) as runner:
        plain = runner.run(AS_OF, names)
    with DuckDBTagRunner(cat, toy_sources) as runner:
        together = runner.run(AS_OF, names)
    assert together.table.equals(plain.table)
    counts = {r["entity_id"]: r["value_int"] for r in together.table.to_pylist()
              if r["tag"] == "big_orders_30d"}
    totals = {r["entity_id"]: r["value_int"] for r in together.table.to_pylist()
              if r["tag"] == "order_count_30d"}
    assert any(0 < counts[s] < totals[s] for s in counts)  # the author's FILTER did act


def test_a_fused_row_tag_with_two_values_for_one_entity_is_still_refused(
    toy_sources, tmp_path: Path
) -> None:
    cat = _extended(tmp_path, _TAG_HEAD.format(
        name="every_amount", type="decimal",
        sql="SELECT shop_id AS entity_id, amount AS value FROM orders")
        + _TAG_HEAD.format(name="every_day", type="date",
                           sql="SELECT shop_id AS entity_id, ordered_on AS value FROM orders"))
    from xiaowei.engine.tags.fusion import plan_fusion

    groups, _ = plan_fusion(cat.select(["every_amount", "every_day"]))
    assert len(groups) == 1 and groups[0].query.args.get("group") is None
    with pytest.raises(TagRunError, match=r"tag 'every_amount' returned \d+ rows for entity"):
        run_duckdb(cat, toy_sources, AS_OF, ["every_amount", "every_day"])


def test_a_run_stores_a_table_only_while_its_readers_run(
    catalogue, toy_sources, monkeypatch
) -> None:
    """Tables read by several queries are stored once and dropped after their last reader;
    a run leaves no stored table or fused result behind."""
    from xiaowei.engine.tags import batch, run_plan

    monkeypatch.setitem(run_plan.STAGE_MIN_SCANS, "duckdb", 2)  # the toy tables are few

    events: list[tuple[str, str]] = []

    class Recording(batch._DuckDBBackend):
        def stage(self, table: str, sql: str) -> None:
            events.append(("stage", table))
            super().stage(table, sql)

        def unstage(self, table: str) -> None:
            events.append(("unstage", table))
            super().unstage(table)

    monkeypatch.setattr(batch, "_DuckDBBackend", Recording)
    with DuckDBTagRunner(catalogue, toy_sources) as runner:
        runner.run(AS_OF)
        left = runner._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert left == []
    staged = [t for kind, t in events if kind == "stage"]
    assert "orders" in staged and len(staged) == len(set(staged))
    assert sorted(t for kind, t in events if kind == "unstage") == sorted(staged)
    # regions is read by one query only: filtered inline, never stored
    assert "regions" not in staged
