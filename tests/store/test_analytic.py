"""The DuckDB analytic store: Parquet in and out, exactly, and only safe identifiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xiaowei.store.analytic import AnalyticStore, quote_identifier

ROWS = pa.table(
    {
        "party_id": ["P00000001", "P00000002", "P00000003"],
        "amount": pa.array(
            [Decimal("1234567.89"), Decimal("0.01"), None], type=pa.decimal128(18, 2)
        ),
        "as_of": [dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31)],
        "note": ["经营正常", None, "it's; DROP TABLE x"],
    }
)


@pytest.fixture
def store() -> Iterator[AnalyticStore]:
    with AnalyticStore(":memory:") as store:
        yield store


def _parquet(path: Path, table: pa.Table = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def test_import_then_export_round_trips_values_exactly(
    store: AnalyticStore, tmp_path: Path
) -> None:
    assert store.import_parquet("facts", _parquet(tmp_path / "in.parquet")) == 3
    assert store.export_parquet("facts", tmp_path / "out" / "facts.parquet") == 3
    back = pq.read_table(tmp_path / "out" / "facts.parquet")
    assert back.to_pydict() == ROWS.to_pydict()
    assert back.schema.field("amount").type == pa.decimal128(18, 2)


def test_replace_swaps_and_append_adds_by_column_name(store: AnalyticStore, tmp_path: Path) -> None:
    source = _parquet(tmp_path / "in.parquet")
    store.import_parquet("facts", source)
    assert store.import_parquet("facts", source) == 3
    assert store.row_count("facts") == 3
    reordered = _parquet(
        tmp_path / "more.parquet", ROWS.select(["note", "as_of", "amount", "party_id"])
    )
    assert store.import_parquet("facts", reordered, replace=False) == 3
    assert store.row_count("facts") == 6
    assert store.query("SELECT count(DISTINCT party_id) FROM raw.facts") == [(3,)]


def test_many_files_and_globs_load_together(store: AnalyticStore, tmp_path: Path) -> None:
    paths = [_parquet(tmp_path / "parts" / f"{i}.parquet") for i in range(3)]
    assert store.import_parquet("by_list", paths) == 9
    assert store.import_parquet("by_glob", str(tmp_path / "parts" / "*.parquet")) == 9


def test_awkward_file_names_travel_as_parameters(store: AnalyticStore, tmp_path: Path) -> None:
    odd = _parquet(tmp_path / "it's; DROP TABLE x --" / "数据 1.parquet")
    assert store.import_parquet("facts", odd, schema="staging") == 3
    assert store.tables("staging") == ["facts"]


def test_failed_import_leaves_the_old_table_untouched(store: AnalyticStore, tmp_path: Path) -> None:
    store.import_parquet("facts", _parquet(tmp_path / "in.parquet"))
    with pytest.raises(duckdb.IOException):
        store.import_parquet("facts", [tmp_path / "in.parquet", tmp_path / "missing.parquet"])
    assert store.row_count("facts") == 3
    with pytest.raises(duckdb.Error):
        store.import_parquet(
            "facts", _parquet(tmp_path / "x.parquet", pa.table({"x": [1]})), replace=False
        )
    assert store.row_count("facts") == 3


def test_empty_source_list_is_refused(store: AnalyticStore) -> None:
    with pytest.raises(ValueError, match="at least one"):
        store.import_parquet("facts", [])


@pytest.mark.parametrize(
    "name",
    ["Facts", "1facts", "facts; DROP TABLE raw.x", 'fa"cts', "raw.facts", "", "f" * 64, "表"],
)
def test_bad_identifiers_are_refused(store: AnalyticStore, tmp_path: Path, name: str) -> None:
    source = _parquet(tmp_path / "in.parquet")
    with pytest.raises(ValueError, match="table must match"):
        store.import_parquet(name, source)
    with pytest.raises(ValueError, match="schema must match"):
        store.import_parquet("facts", source, schema=name)
    with pytest.raises(ValueError, match="table must match"):
        store.row_count(name)
    with pytest.raises(ValueError, match="schema must match"):
        store.tables(name)
    assert store.tables() == []


def test_quote_identifier_quotes_good_names() -> None:
    assert quote_identifier("loan_2025") == '"loan_2025"'
    assert quote_identifier("_tmp") == '"_tmp"'


def test_tables_lists_by_schema(store: AnalyticStore, tmp_path: Path) -> None:
    source = _parquet(tmp_path / "in.parquet")
    store.import_parquet("b", source)
    store.import_parquet("a", source)
    store.import_parquet("c", source, schema="tags")
    assert store.tables("raw") == ["a", "b"]
    assert store.tables() == ["raw.a", "raw.b", "tags.c"]
    assert store.tables("nothing_here") == []


def test_arrow_and_query_bind_parameters(store: AnalyticStore, tmp_path: Path) -> None:
    store.import_parquet("facts", _parquet(tmp_path / "in.parquet"))
    table = store.arrow("SELECT party_id FROM raw.facts WHERE amount > ? ORDER BY 1", [1])
    assert isinstance(table, pa.Table)
    assert table.column("party_id").to_pylist() == ["P00000001"]
    note = "it's; DROP TABLE x"
    assert store.query("SELECT party_id FROM raw.facts WHERE note = ?", [note]) == [("P00000003",)]


def test_file_store_defaults_to_settings_and_persists(xiaowei_home: Path, tmp_path: Path) -> None:
    source = _parquet(tmp_path / "in.parquet")
    with AnalyticStore() as store:
        store.import_parquet("facts", source)
    assert (xiaowei_home / "analytic.duckdb").exists()
    with AnalyticStore(xiaowei_home / "analytic.duckdb", read_only=True) as store:
        assert store.row_count("facts") == 3


def test_memory_limit_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """DuckDB must not take 80% of a shared machine: the limit is set, and spills go to disk."""
    monkeypatch.setenv("XIAOWEI_ANALYTIC_MEMORY", "512MB")
    with AnalyticStore(tmp_path / "a.duckdb") as store:
        limit = store.query("SELECT current_setting('memory_limit')")[0][0]
        spill = store.query("SELECT current_setting('temp_directory')")[0][0]
    assert limit.replace(" ", "").upper() in {"512.0MB", "488.2MIB", "512MB", "488.2MB"}
    assert spill.endswith("duckdb-spill")


def test_memory_limit_refuses_nonsense(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_ANALYTIC_MEMORY", "lots")
    with pytest.raises(ValueError, match="XIAOWEI_ANALYTIC_MEMORY must look like 4GB"):
        AnalyticStore(tmp_path / "a.duckdb")
