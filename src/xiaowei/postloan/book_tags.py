"""A batch tag run's long rows turned into one column per tag for the parties being monitored.

Why: a tag run stores one row per (party, tag) — the layout that keeps history small — while
the warning levels and the post-loan pack read a handful of tags for every borrower side by
side. One DuckDB aggregation over the run's Arrow rows does the turn for a million borrowers in
seconds; tag names only ever come from the checked catalogues and are quoted as identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from xiaowei.postloan.loan_state import fetch_arrow
from xiaowei.store.analytic import quote_identifier

_NUMERIC = ("value_float", "value_int", "value_decimal")


def tag_columns(rows: pa.Table, tags: Sequence[str], entities: Iterable[str]
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``entities`` (in the order given, duplicates dropped) and, per tag, a float column
    aligned with them: the tag's value (booleans 1/0), NaN where the party has none."""
    ids_in = list(dict.fromkeys(entities))
    wanted = pa.table({"entity_id": pa.array(ids_in, pa.string()),
                       "ord": pa.array(np.arange(len(ids_in), dtype=np.int64))})
    if not tags:
        return np.asarray(wanted["entity_id"].to_pylist(), dtype=object), {}
    present = set(rows.column_names)
    numeric = [c for c in _NUMERIC if c in present]
    value = "COALESCE(" + ", ".join([f"CAST({c} AS DOUBLE)" for c in numeric] + (
        ["CAST(value_bool AS DOUBLE)"] if "value_bool" in present else [])) + ")"
    picks = ", ".join(
        f"MAX({value}) FILTER (WHERE tag = $t{i}) AS {quote_identifier(t, 'tag name')}"
        for i, t in enumerate(tags))
    params = {f"t{i}": t for i, t in enumerate(tags)}
    con = duckdb.connect()
    try:
        con.register("tag_rows", rows)
        con.register("wanted", wanted)
        sql = (f"WITH w AS (SELECT entity_id, {picks} FROM tag_rows "
               f"WHERE entity_id IN (SELECT entity_id FROM wanted) GROUP BY entity_id) "
               f"SELECT wanted.entity_id, w.* EXCLUDE (entity_id) FROM wanted "
               f"LEFT JOIN w USING (entity_id) ORDER BY wanted.ord")
        table = fetch_arrow(con, sql, params)
    finally:
        con.close()
    ids = np.asarray(table["entity_id"].to_pylist(), dtype=object)
    columns = {t: np.asarray(table[t].to_numpy(zero_copy_only=False), dtype=np.float64)
               for t in tags}
    return ids, columns
