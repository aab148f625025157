"""The order of a batch run: which queries run, which tables are stored, and for how long.

Why a plan: a run is a sequence of *units* — a fused group (one query for several tags over
one table) or a tag alone. A table that many units read is stored once, point-in-time
(``pit__<table>``), just before its first reader and dropped just after its last, so a whole
bank's run never holds every table at once; a table few units read is filtered inline by each
unit's query (``STAGE_MIN_SCANS`` says how many, per engine). Tags are still added, and
reported, in the order chosen. The same plan drives DuckDB and Spark through a small
``Backend``: what differs between them is only how a table is stored and how a query's rows
reach the long table.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlglot import exp

from xiaowei.engine.tags.catalogue import Catalogue, DefinedTag
from xiaowei.engine.tags.fusion import FusedGroup, fused_tags, groups_by_entity, plan_fusion
from xiaowei.engine.tags.layout import LongTable, Progress
from xiaowei.engine.tags.sql import TableRead, render, staged_name, staging_query

log = logging.getLogger(__name__)
# Queries over one table before its point-in-time rows are stored once. DuckDB reads Parquet
# fast enough that storing pays only for a table many queries read: at bank size, with
# fusion, storing every table two queries read took 60 s, four 54 s, six 47 s, none 45 s.
# Spark re-reads and re-plans each scan, so it caches from two readers.
STAGE_MIN_SCANS = {"duckdb": 6, "spark": 2}


class Backend(Protocol):
    """What a runtime does for the plan (all names are engine-made identifiers)."""

    def stage(self, table: str, sql: str) -> None:
        """Store the rows of ``sql`` (``:as_of`` bound) as ``pit__<table>``."""

    def unstage(self, table: str) -> None:
        """Drop ``pit__<table>``."""

    def single(self, tag: DefinedTag, staged: frozenset[str]) -> str:
        """Source SQL, in ``out``'s connection, of ``tag``'s (entity_id, value) rows."""

    def fused(self, group: FusedGroup, sql: str, name: str) -> None:
        """Store the rows of the fused ``sql`` as ``name`` in ``out``'s connection."""

    def release(self, name: str) -> None:
        """Drop a fused result stored under ``name``."""


def staging_sql(catalogue: Catalogue, table: str, dialect: str) -> str:
    """The query of ``table``'s rows known (and valid) at ``:as_of``."""
    t = catalogue.tables[table]
    return render(staging_query(TableRead(table, t.known_at, t.valid_from)), dialect)


def fused_sql(catalogue: Catalogue, group: FusedGroup, staged: bool, dialect: str) -> str:
    """A group's query reading ``pit__<table>``: the stored copy, or a CTE filtering inline."""
    name = staged_name(group.table)
    query = redirect(group.query, group.table, name)
    if not staged:
        t = catalogue.tables[group.table]
        body = staging_query(TableRead(group.table, t.known_at, t.valid_from))
        query = query.with_(name, as_=body)
    return render(query, dialect)


def execute(
    out: LongTable,
    catalogue: Catalogue,
    chosen: Sequence[DefinedTag],
    backend: Backend,
    *,
    dialect: str,
    fuse: bool,
    params: dict[str, Any],
    progress: Progress | None = None,
) -> None:
    """Run every chosen tag into ``out``; always leaves nothing staged or stored behind.

    A fused query that fails is not fatal: its tags run alone, and a tag that is itself
    broken then fails with its own error.
    """
    groups = plan_fusion(chosen)[0] if fuse else []
    member = fused_tags(groups)
    units: dict[int, tuple[str, ...]] = {}  # id of a group or a tag → tables it reads
    left: Counter[int] = Counter()  # tags of the unit not yet added
    for tag in chosen:
        hit = member.get(tag.name)
        key = id(hit[0]) if hit else id(tag)
        units.setdefault(key, tag.reads)
        left[key] += 1
    scans = Counter(table for reads in units.values() for table in reads)
    stage = {table for table, count in scans.items() if count >= STAGE_MIN_SCANS[dialect]}
    staged: set[str] = set()
    stored: dict[int, str | None] = {}
    made = 0  # fused results made so far: each gets a name of its own
    try:
        for done, tag in enumerate(chosen, start=1):
            hit = member.get(tag.name)
            key = id(hit[0]) if hit else id(tag)
            for table in units[key]:
                if table in stage and table not in staged:
                    backend.stage(table, staging_sql(catalogue, table, dialect))
                    staged.add(table)
            source = None
            if hit is not None:
                if key not in stored:
                    made += 1
                    stored[key] = _try_fused(catalogue, hit[0], backend, staged, dialect, made)
                name = stored[key]
                if name is not None:
                    source = f"({render(hit[0].tag_query(hit[1], name), 'duckdb')})"
            if source is None:
                source = backend.single(tag, frozenset(staged))
            out.add(tag, source, params, unique=groups_by_entity(tag))
            left[key] -= 1
            if left[key] == 0:
                _finish_unit(key, units, scans, staged, stored, backend)
            if progress is not None:
                progress(tag.name, done, len(chosen))
    finally:
        for name in [n for n in stored.values() if n is not None]:
            backend.release(name)
        for table in list(staged):
            backend.unstage(table)


def _try_fused(
    catalogue: Catalogue,
    group: FusedGroup,
    backend: Backend,
    staged: set[str],
    dialect: str,
    number: int,
) -> str | None:
    name = f"tag_fused_{number}"
    try:
        backend.fused(group, fused_sql(catalogue, group, group.table in staged, dialect), name)
    except Exception as exc:
        log.warning("fused query over %s failed (%s); its tags run alone", group.table, exc)
        return None
    return name


def _finish_unit(
    key: int,
    units: Mapping[int, tuple[str, ...]],
    scans: Counter[str],
    staged: set[str],
    stored: dict[int, str | None],
    backend: Backend,
) -> None:
    """After a unit's last tag: drop its fused result, and tables no later unit reads."""
    name = stored.pop(key, None)
    if name is not None:
        backend.release(name)
    for table in units[key]:
        scans[table] -= 1
        if scans[table] == 0 and table in staged:
            backend.unstage(table)
            staged.discard(table)


def redirect(query: exp.Select, table: str, to: str) -> exp.Select:
    """``query`` reading ``to`` wherever it read the declared ``table``.

    Refuses a query that does not read ``table``: the declared name is the raw, unfiltered
    table, and a fused query left reading it would see rows the bank did not know at as-of.
    """
    out = query.copy()
    found = [node for node in out.find_all(exp.Table) if node.name.lower() == table]
    if not found:
        raise ValueError(f"fused query does not read {table!r}; refusing to run it unfiltered")
    for node in found:
        node.set("this", exp.to_identifier(to))
    return out


def parameter_names(sql: str) -> frozenset[str]:
    """Names of the ``$name`` parameters in engine-rendered DuckDB SQL."""
    return frozenset(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))


def used_parameters(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The bound parameters DuckDB-rendered ``sql`` names (DuckDB refuses unused ones)."""
    names = parameter_names(sql)
    return {k: v for k, v in params.items() if k in names}
