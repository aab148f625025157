"""The long tag table every runtime returns, its canonical value text and its fingerprint.

Layout: one row per (entity_id, tag) with ``as_of``, one typed column per tag type
(``value_int`` BIGINT, ``value_float`` DOUBLE, ``value_decimal`` DECIMAL(38,10), ``value_bool``,
``value_string``, ``value_date``; exactly one is set, or none for a NULL value) and
``value_text``, the canonical text.

Why one column per type: a strategy filters and aggregates tags by value (``risk_score > 0.7``),
which needs real types, not text; a union or struct type does not exist in the same form on
DuckDB, Spark and Arrow, whereas plain nullable columns do, and in a column store the five empty
columns of each row cost almost nothing. Why ``value_text``: history compares values to decide
whether a tag changed and change events show them to people, and the fingerprint must be equal
across engines — so canonical text is produced by *one* function (DuckDB SQL below, run on the
Spark result too): floats to 10 significant digits, decimals at the tag's scale, ISO dates,
``true``/``false``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.engine.tags.catalogue import DefinedTag

Progress = Callable[[str, int, int], None]  # tag just finished, tags done, tags in total

VALUE_COLUMNS: dict[str, tuple[str, str, pa.DataType]] = {
    "int": ("value_int", "BIGINT", pa.int64()),
    "float": ("value_float", "DOUBLE", pa.float64()),
    "decimal": ("value_decimal", "DECIMAL(38, 10)", pa.decimal128(38, 10)),
    "bool": ("value_bool", "BOOLEAN", pa.bool_()),
    "string": ("value_string", "VARCHAR", pa.string()),
    "date": ("value_date", "DATE", pa.date32()),
}
SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("tag", pa.string()),
        ("as_of", pa.date32()),
        *[(name, arrow) for name, _, arrow in VALUE_COLUMNS.values()],
        ("value_text", pa.string()),
    ]
)
# Why 10: a float aggregate (a sum of shares, a standard deviation) is summed in a different
# order, or by a different algorithm, on each engine; at a bank's size about one value in a
# million then differed in the 12th digit (measured: 15 of 60 million). Ten digits leave a
# hundredfold margin over that noise and are still far finer than any threshold a strategy uses.
FLOAT_DIGITS = 10
NULL_TEXT = "\\N"


class TagRunError(RuntimeError):
    """A tag's SQL ran but broke the tag contract (e.g. two values for one entity)."""


def configure_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    """Make DuckDB's arithmetic agree with Spark's: division by zero is NULL, not inf/error;
    and keep DuckDB within the analytic store's memory limit (not 80% of the machine),
    spilling what does not fit to xiaowei's spill folder."""
    from xiaowei.store.analytic import memory_limit, spill_directory

    con.execute("SET ieee_floating_point_ops = false")
    con.execute("SET error_on_division_by_zero = false")
    con.execute("SET memory_limit = ?", [memory_limit()])
    spill = str(spill_directory())
    # A cursor shares its database's folder, which DuckDB will not switch once used.
    if con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] != spill:
        con.execute("SET temp_directory = ?", [spill])


def columns_ddl() -> str:
    """Column list of the long table, for CREATE TABLE."""
    typed = ", ".join(f"{name} {sql}" for name, sql, _ in VALUE_COLUMNS.values())
    keys = "entity_id VARCHAR NOT NULL, tag VARCHAR NOT NULL, as_of DATE"
    return f"{keys}, {typed}, value_text VARCHAR"


def canonical_sql(tag: DefinedTag, value: str) -> str:
    """DuckDB expression turning the typed ``value`` column into canonical text."""
    kind = tag.definition.type
    if kind == "float":
        return f"printf('%.{FLOAT_DIGITS}g', {value} + 0.0)"  # + 0.0 folds -0.0 into 0
    if kind == "decimal":
        scale = int(tag.definition.decimal_scale)
        return f"CAST(CAST({value} AS DECIMAL(38, {scale})) AS VARCHAR)"
    if kind == "bool":
        return f"CASE WHEN {value} THEN 'true' WHEN NOT {value} THEN 'false' END"
    if kind == "date":
        return f"strftime(CAST({value} AS DATE), '%Y-%m-%d')"
    return f"CAST({value} AS VARCHAR)"


def shape_sql(tag: DefinedTag, source: str) -> str:
    """SELECT turning ``source`` (columns entity_id, value) into long-table rows.

    ``source`` is engine-made SQL (a compiled tag in parentheses, or a registered Arrow name);
    the tag name is a validated snake-case identifier, so it is safe as a string literal.
    """
    target = VALUE_COLUMNS[tag.definition.type][0]
    typed = ", ".join(
        f"CAST(r.value AS {sql}) AS {name}" if name == target else f"CAST(NULL AS {sql}) AS {name}"
        for name, sql, _ in VALUE_COLUMNS.values()
    )
    return (
        f"SELECT r.entity_id, '{tag.name}' AS tag, CAST($as_of AS DATE) AS as_of, {typed}, "
        f"{canonical_sql(tag, 'r.value')} AS value_text FROM {source} AS r"
    )


@dataclass(frozen=True)
class TagResult:
    """All requested tags for the entities that have them, as of one date.

    A batch run over a whole bank writes its rows to a folder of Parquet files, one per tag
    (``path``), and keeps none in memory — tens of millions of values would not fit a bounded
    process; a small run (one applicant online, a test) carries them in ``data``. ``table``
    reads them either way.
    """

    as_of: dt.date
    tags: tuple[str, ...]
    fingerprint: str
    rows: int
    entities: int
    data: pa.Table | None = None
    path: Path | None = None
    parts: Mapping[str, tuple[int, int, int]] | None = None  # per tag: rows, hash sums

    def tag_fingerprint(self, tag: str) -> str | None:
        """One tag's fingerprint (as ``fingerprint`` of its rows), when the run kept it."""
        if self.parts is None:
            return None
        return seal(self.as_of, *self.parts.get(tag, (0, 0, 0)))

    @property
    def table(self) -> pa.Table:
        """The rows as one Arrow table (sorted by (entity_id, tag) when held in memory; tag by
        tag when read anew from ``path``)."""
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError("a TagResult needs its rows in memory or in a folder of Parquet")
        if not any(Path(self.path).glob("*.parquet")):
            return SCHEMA.empty_table()
        return pq.read_table(self.path, schema=SCHEMA)  # a folder reads as one dataset

    def values(self, entity_id: str) -> dict[str, Any]:
        """One entity's tags as Python values (Decimal, date, bool …)."""
        if self.data is not None:
            rows = self.data.filter(pc.equal(self.data["entity_id"], entity_id)).to_pylist()
        elif not any(Path(str(self.path)).glob("*.parquet")):
            rows = []
        else:
            found = pq.read_table(self.path, schema=SCHEMA,  # type: ignore[arg-type]
                                  filters=[("entity_id", "=", entity_id)])
            rows = found.to_pylist()
        return {row["tag"]: typed_value(row) for row in rows}


def typed_value(row: dict[str, Any]) -> Any:
    """The one set typed column of a long-table row (None for a NULL value)."""
    for name, _, _ in VALUE_COLUMNS.values():
        if row.get(name) is not None:
            return row[name]
    return None


# The fingerprint is a multiset hash: each row's line "entity_id US tag US value_text" is hashed
# with MD5 (stable across versions and engines, unlike DuckDB's hash()), the two 64-bit halves
# are summed over all rows, and sha256 seals (as_of, row count, both sums). A sum needs no sort,
# so DuckDB computes it in parallel over tens of millions of rows with bounded memory; MD5 is
# read as DuckDB's md5_number reads it (the digest as a little-endian 128-bit integer).
_LINE_SQL = "entity_id || chr(31) || tag || chr(31) || coalesce(value_text, '\\N')"
_MASK64 = (1 << 64) - 1
SMALL_FINGERPRINT_ROWS = 50_000  # below this, Python's hashlib beats starting a query


def fingerprint_parts_sql(source: str, group_by: str | None = None) -> str:
    """SELECT [group_by,] rows, hi, lo over ``source`` (engine-made SQL: a table or subquery)."""
    keys = f"{group_by}, " if group_by else ""
    return (
        f"SELECT {keys}count(*) AS n, "
        "coalesce(sum(CAST(h >> 64 AS UBIGINT)), 0) AS hi, "
        f"coalesce(sum(CAST(h & {_MASK64} AS UBIGINT)), 0) AS lo "
        f"FROM (SELECT {keys}md5_number({_LINE_SQL}) AS h FROM {source})"
        + (f" GROUP BY {group_by}" if group_by else "")
    )


def seal(as_of: dt.date, rows: int, hi: int, lo: int) -> str:
    """The fingerprint from a result's row count and hash sums."""
    text = f"as_of={as_of.isoformat()}\nrows={int(rows)}\nhi={int(hi)}\nlo={int(lo)}\n"
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(table: pa.Table, as_of: dt.date) -> str:
    """Fingerprint of an Arrow long table; equal rows in any order give the same text."""
    if table.num_rows >= SMALL_FINGERPRINT_ROWS:
        con = duckdb.connect(":memory:")
        try:
            con.register("fingerprint_rows", table.select(["entity_id", "tag", "value_text"]))
            n, hi, lo = con.execute(fingerprint_parts_sql("fingerprint_rows")).fetchall()[0]
        finally:
            con.close()
        return seal(as_of, n, hi, lo)
    hi = lo = 0
    texts = table["value_text"].to_pylist()
    for entity, tag, text in zip(
        table["entity_id"].to_pylist(), table["tag"].to_pylist(), texts, strict=True
    ):
        line = f"{entity}\x1f{tag}\x1f{NULL_TEXT if text is None else text}"
        digest = hashlib.md5(line.encode(), usedforsecurity=False).digest()
        hi += int.from_bytes(digest[8:], "little")
        lo += int.from_bytes(digest[:8], "little")
    return seal(as_of, table.num_rows, hi, lo)


class LongTable:
    """Shapes each tag's rows as they come and checks, hashes and keeps them tag by tag.

    Why tag by tag: a bank's run is tens of millions of values; gathering them into one table
    before checking, hashing and writing held them all at once (memory) and made every step a
    pass over all of them (time). One tag's rows — at most one per entity — are checked for
    duplicates, hashed and written (or kept) while they are small, so memory is bounded by one
    tag and finishing is only renaming a folder.
    """

    _ROWS = "tag_rows"

    def __init__(self, con: duckdb.DuckDBPyConnection, output: Path | None = None) -> None:
        self._con = con
        self._output = Path(output) if output is not None else None
        self._parts: dict[str, tuple[int, int, int]] = {}
        self._kept: list[pa.Table] = []
        self._folder: Path | None = None
        if self._output is not None:
            self._folder = self._output.with_name(self._output.name + ".partial")
            _remove(self._folder)
            self._folder.mkdir(parents=True)

    def add(
        self, tag: DefinedTag, source: str, params: dict[str, Any], *, unique: bool = False
    ) -> None:
        """Shape, check, hash and keep ``tag``'s rows read from ``source`` (bound ``params``
        include ``as_of``). ``unique``: the caller knows the rows have one entity each (the
        tag groups by its entity key), so the duplicate check is skipped."""
        con = self._con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._ROWS} AS {shape_sql(tag, source)}", params
        )
        if not unique:
            self._refuse_duplicates(tag.name)
        n, hi, lo = con.execute(fingerprint_parts_sql(self._ROWS)).fetchall()[0]
        self._parts[tag.name] = (int(n), int(hi), int(lo))
        if self._folder is not None:
            if n:
                con.table(self._ROWS).write_parquet(
                    str(self._folder / f"{tag.name}.parquet"), compression="zstd"
                )
        else:
            self._kept.append(con.table(self._ROWS).to_arrow_table())
        con.execute(f"DROP TABLE {self._ROWS}")

    def finish(self, as_of: dt.date, tags: Sequence[str]) -> TagResult:
        """The result: rows in a folder of Parquet files, one per tag (when made with
        ``output``), or in memory as one Arrow table sorted by (entity_id, tag)."""
        parts = {tag: self._parts.get(tag, (0, 0, 0)) for tag in tags}
        n, hi, lo = (sum(part[k] for part in parts.values()) for k in range(3))
        print_ = seal(as_of, n, hi, lo)
        if self._folder is None:
            data = (pa.concat_tables(self._kept) if self._kept else SCHEMA.empty_table())
            data = data.cast(SCHEMA).sort_by([("entity_id", "ascending"), ("tag", "ascending")])
            entities = len(pc.unique(data["entity_id"])) if data.num_rows else 0
            return TagResult(as_of, tuple(tags), print_, int(n), entities, data, None, parts)
        assert self._output is not None
        files = sorted(self._folder.glob("*.parquet"))
        entities = 0
        if files:
            entities = self._con.execute(
                "SELECT count(DISTINCT entity_id) FROM read_parquet($files)",
                {"files": [str(f) for f in files]},
            ).fetchall()[0][0]
        _remove(self._output)
        self._folder.replace(self._output)  # readers never see half a run
        return TagResult(
            as_of, tuple(tags), print_, int(n), int(entities), None, self._output, parts
        )

    def _refuse_duplicates(self, tag: str) -> None:
        found = self._con.execute(
            f"SELECT entity_id, count(*) FROM {self._ROWS} GROUP BY entity_id "
            "HAVING count(*) > 1 ORDER BY entity_id LIMIT 1"
        ).fetchall()
        if found:
            raise TagRunError(
                f"tag {tag!r} returned {found[0][1]} rows for entity {found[0][0]!r}; "
                "a tag has at most one value per entity"
            )


def _remove(path: Path) -> None:
    """Delete a run's folder (or an older single file) so that a new run can take its name."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
