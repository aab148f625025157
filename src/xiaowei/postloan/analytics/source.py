"""Where the analytics read loan states from, and the dimensions they may group by.

Why: month-end snapshots of a 1M-loan book are millions of rows that should stay in DuckDB
(a table written by ``month_end_snapshots(into=…)``), while tests and small books pass an
Arrow table; every analytic accepts either and sees one SQL name. Group columns come from a
fixed list, because they end up in SQL text.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from xiaowei.postloan.loan_state import qualified_name

GROUPS = {"product": "product", "branch": "branch_id", "branch_id": "branch_id",
          "manager": "manager_id", "manager_id": "manager_id", "segment": "segment"}
"""What a report may be broken down by (a name people type → the state column)."""

Snapshots = str | pa.Table
"""A table (``"name"`` or ``"schema.name"``) of loan-state rows in the connection, or Arrow."""


def group_columns(by: Sequence[str] | str | None) -> list[str]:
    """State columns for ``by`` (``"product,branch"`` or a list), refusing unknown names."""
    if by is None:
        return []
    names = [b.strip() for b in (by.split(",") if isinstance(by, str) else by) if b.strip()]
    unknown = [b for b in names if b not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group by {', '.join(unknown)}; choose from "
                         f"{', '.join(sorted(set(GROUPS) - {'branch_id', 'manager_id'}))}")
    return list(dict.fromkeys(GROUPS[b] for b in names))


@contextmanager
def snapshot_source(con: duckdb.DuckDBPyConnection, snapshots: Snapshots) -> Iterator[str]:
    """A SQL name for ``snapshots``: the quoted table name, or an Arrow table registered as a
    view for the duration of the block."""
    if isinstance(snapshots, str):
        yield qualified_name(snapshots)
        return
    name = f"xw_states_{uuid.uuid4().hex[:12]}"
    con.register(name, snapshots)
    try:
        yield name
    finally:
        con.unregister(name)
