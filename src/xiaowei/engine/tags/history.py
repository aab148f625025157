"""Tag history: daily snapshots stored as intervals, read back as of any date, and change events.

Why intervals: post-loan strategies refresh every tag of every entity daily, and most values do
not change from one day to the next. Storing one row per value *run* — ``valid_from`` (first
as-of the value was seen), ``valid_to`` (the as-of it was first seen different or gone; NULL
while current) and ``known_at`` (when the run was recorded) — keeps a year of daily snapshots
close to the size of one, answers "what was tag T on D" with a range filter, and turns "what
changed" into the interval boundaries. Values are compared by canonical text, so float noise
never reads as a change. Applying the same as-of twice changes nothing; an earlier as-of than
one already applied, or the same as-of with a different result, is refused: history is
append-only, and a correction is a new run, not an edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from xiaowei.engine.tags.latest import LatestSnapshot
from xiaowei.engine.tags.layout import (
    SCHEMA,
    VALUE_COLUMNS,
    TagResult,
    fingerprint_parts_sql,
    seal,
)
from xiaowei.store.analytic import memory_limit, quote_identifier, spill_directory

_VALUES = ", ".join(name for name, _, _ in VALUE_COLUMNS.values())
_VALUE_DDL = ", ".join(f"{name} {sql}" for name, sql, _ in VALUE_COLUMNS.values())


@dataclass(frozen=True)
class TagChange:
    """Tag ``tag`` of ``entity_id`` went from ``old`` to ``new`` (canonical text) on ``on``."""

    entity_id: str
    tag: str
    on: dt.date
    old: str | None
    new: str | None
    kind: Literal["changed", "appeared", "disappeared"]

    def describe(self) -> str:
        """One line for people and logs."""
        subject = f"tag {self.tag} of entity {self.entity_id}"
        if self.kind == "appeared":
            return f"{subject} appeared as {self.new} on {self.on}"
        if self.kind == "disappeared":
            return f"{subject} ({self.old}) disappeared on {self.on}"
        return f"{subject} changed from {self.old} to {self.new} on {self.on}"


class TagHistory:
    """Interval history of tag values in DuckDB (a database file, ``:memory:``, a connection).

    ``schema`` names the DuckDB schema holding ``history`` and ``runs``; it is validated and
    quoted, every value is bound.
    """

    def __init__(
        self,
        database: str | Path | duckdb.DuckDBPyConnection = ":memory:",
        *,
        schema: str = "tags",
    ) -> None:
        if isinstance(database, duckdb.DuckDBPyConnection):
            self._con, self._owned = database, False
        else:
            self._con, self._owned = duckdb.connect(str(database)), True
            # DuckDB would otherwise take 80% of the machine for a bank's history.
            self._con.execute("SET memory_limit = ?", [memory_limit()])
            self._con.execute("SET temp_directory = ?", [str(spill_directory())])
        s = quote_identifier(schema, "schema")
        self._history, self._runs = f"{s}.history", f"{s}.runs"
        self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {self._history} (entity_id VARCHAR NOT NULL, "
            f"tag VARCHAR NOT NULL, {_VALUE_DDL}, value_text VARCHAR, valid_from DATE NOT NULL, "
            "valid_to DATE, known_at TIMESTAMP NOT NULL)"
        )
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {self._runs} (as_of DATE NOT NULL, tag VARCHAR NOT NULL,"
            " fingerprint VARCHAR NOT NULL, known_at TIMESTAMP NOT NULL, PRIMARY KEY (as_of, tag))"
        )
        self._latest: LatestSnapshot | None = None

    def close(self) -> None:
        if self._owned:
            self._con.close()

    def apply(self, result: TagResult, known_at: dt.datetime | None = None) -> int:
        """Fold one as-of run into the history; return the intervals opened or closed.

        The rows are read where the result keeps them (its Parquet file or its Arrow table)
        by DuckDB itself, so a whole bank's run is folded in without passing through Python.
        """
        known = known_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con = self._con
        incoming = "tag_history_incoming"
        files = [] if result.path is None else sorted(Path(result.path).glob("*.parquet"))
        if files:
            con.read_parquet([str(f) for f in files]).create_view(incoming, replace=True)
        else:
            con.register(incoming, SCHEMA.empty_table() if result.data is None else result.data)
        try:
            return self._fold(result, incoming, known)
        finally:
            if files:
                con.execute(f"DROP VIEW IF EXISTS {incoming}")
            else:
                con.unregister(incoming)
            self._latest = None

    def _fold(self, result: TagResult, incoming: str, known: dt.datetime) -> int:
        con = self._con
        parts = result.parts
        if parts is None:  # a result made elsewhere: hash its rows here
            parts = {row[0]: row[1:] for row in con.execute(
                fingerprint_parts_sql(incoming, group_by="tag")).fetchall()}
        to_apply: list[str] = []
        prints: dict[str, str] = {}
        for tag in result.tags:
            prints[tag] = seal(result.as_of, *parts.get(tag, (0, 0, 0)))
            found = con.execute(
                f"SELECT as_of, fingerprint FROM {self._runs} WHERE tag = $t "
                "ORDER BY as_of DESC LIMIT 1",
                {"t": tag},
            ).fetchall()
            last = found[0] if found else None
            if last is None or last[0] < result.as_of:
                to_apply.append(tag)
            elif last[0] > result.as_of:
                raise ValueError(
                    f"tag {tag!r} already has history up to {last[0]}; "
                    f"cannot apply the earlier as-of {result.as_of}"
                )
            elif last[1] != prints[tag]:
                raise ValueError(
                    f"tag {tag!r} as of {result.as_of} was already applied with a "
                    "different result; history is append-only"
                )
        if not to_apply:
            return 0
        chosen = f"(SELECT * FROM {incoming} WHERE list_contains($tags, tag))"
        con.begin()
        try:
            closed = con.execute(
                f"UPDATE {self._history} AS h SET valid_to = $as_of WHERE h.valid_to IS NULL "
                f"AND list_contains($tags, h.tag) AND NOT EXISTS (SELECT 1 FROM {chosen} AS n "
                "WHERE n.entity_id = h.entity_id AND n.tag = h.tag "
                "AND n.value_text IS NOT DISTINCT FROM h.value_text)",
                {"as_of": result.as_of, "tags": to_apply},
            ).fetchall()
            opened = con.execute(
                f"INSERT INTO {self._history} SELECT n.entity_id, n.tag, {_VALUES}, n.value_text,"
                f" $as_of, NULL, $known FROM {chosen} AS n WHERE NOT EXISTS (SELECT 1 "
                f"FROM {self._history} AS h WHERE h.valid_to IS NULL AND h.entity_id = "
                "n.entity_id AND h.tag = n.tag)",
                {"as_of": result.as_of, "known": known, "tags": to_apply},
            ).fetchall()
            con.executemany(
                f"INSERT INTO {self._runs} VALUES ($as_of, $tag, $fp, $known)",
                [
                    {"as_of": result.as_of, "tag": t, "fp": prints[t], "known": known}
                    for t in to_apply
                ],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return int(closed[0][0] if closed else 0) + int(opened[0][0] if opened else 0)

    def as_of(self, day: dt.date, tags: Iterable[str] | None = None) -> pa.Table:
        """Every entity's tag values as they stood on ``day``, in the long layout."""
        where, params = self._tag_filter(tags, {"d": day})
        return self._arrow(
            f"SELECT entity_id, tag, CAST($d AS DATE) AS as_of, {_VALUES}, value_text "
            f"FROM {self._history} WHERE valid_from <= $d AND (valid_to IS NULL OR valid_to > $d)"
            f"{where} ORDER BY entity_id, tag",
            params,
        ).cast(SCHEMA)

    def latest(self, entity_id: str) -> dict[str, Any]:
        """One entity's current tag values (Python types), from the open intervals.

        Served from an in-memory snapshot (see ``latest.py``) built on first use and after
        each ``apply``; ``refresh()`` rebuilds it when another process has written.
        """
        snapshot = self.refresh() if self._latest is None else self._latest
        return snapshot.get(str(entity_id))

    def refresh(self) -> LatestSnapshot:
        """Rebuild (and return) the in-memory latest snapshot from the open intervals."""
        self._latest = LatestSnapshot(
            self._arrow(
                f"SELECT entity_id, tag, {_VALUES} FROM {self._history} WHERE valid_to IS NULL",
                {},
            )
        )
        return self._latest

    def changes(
        self, since: dt.date, until: dt.date, tags: Iterable[str] | None = None
    ) -> list[TagChange]:
        """Events with ``since <= on <= until``, ordered by date, entity and tag."""
        where, params = self._tag_filter(tags, {"s": since, "u": until})
        rows = self._con.execute(
            "WITH opened AS (SELECT entity_id, tag, valid_from AS d, value_text AS v "
            f"FROM {self._history} WHERE valid_from BETWEEN $s AND $u{where}), "
            "closed AS (SELECT entity_id, tag, valid_to AS d, value_text AS v "
            f"FROM {self._history} WHERE valid_to BETWEEN $s AND $u{where}) "
            "SELECT coalesce(o.entity_id, c.entity_id) AS e, coalesce(o.tag, c.tag) AS t, "
            "coalesce(o.d, c.d) AS d, c.v, o.v, c.entity_id IS NULL, o.entity_id IS NULL "
            "FROM opened AS o FULL OUTER JOIN closed AS c "
            "ON o.entity_id = c.entity_id AND o.tag = c.tag AND o.d = c.d ORDER BY d, e, t",
            params,
        ).fetchall()
        return [
            TagChange(
                e, t, d, old, new, "appeared" if appeared else "disappeared" if gone else "changed"
            )
            for e, t, d, old, new, appeared, gone in rows
        ]

    def entity_history(self, entity_id: str, tags: Iterable[str] | None = None
                       ) -> list[tuple[str, dt.date, dt.date | None, str | None]]:
        """One entity's intervals — (tag, valid_from, valid_to, value as canonical text) —
        ordered by tag and date: how each of its tags moved, for a person reading one file."""
        where, params = self._tag_filter(tags, {"e": entity_id})
        return [(t, f, u, v) for t, f, u, v in self._con.execute(
            f"SELECT tag, valid_from, valid_to, value_text FROM {self._history} "
            f"WHERE entity_id = $e{where} ORDER BY tag, valid_from", params).fetchall()]

    def run_days(self) -> dict[str, dt.date]:
        """Each tag's latest applied as-of: how fresh its open interval (``latest``) is."""
        rows = self._con.execute(f"SELECT tag, max(as_of) FROM {self._runs} GROUP BY tag")
        return {str(tag): day for tag, day in rows.fetchall()}

    def row_count(self) -> int:
        """Stored intervals (to show how compact the history is)."""
        return int(self._con.execute(f"SELECT count(*) FROM {self._history}").fetchall()[0][0])

    @staticmethod
    def _tag_filter(tags: Iterable[str] | None, params: dict[str, Any]) -> tuple[str, dict]:
        if tags is None:
            return "", params
        return " AND list_contains($tags, tag)", {**params, "tags": list(tags)}

    def _arrow(self, sql: str, params: dict[str, Any]) -> pa.Table:
        return self._con.sql(sql, params=params or None).to_arrow_table()
