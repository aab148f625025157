"""Fusion: tags that aggregate one table by its entity key run as one query over that table.

Why: a catalogue has many tags of one shape — ``SELECT key AS entity_id, <aggregates> AS value
FROM t WHERE <window> GROUP BY key`` — over the same large table (sales in 3, 6, 12 months,
their trends, counts …). Run one by one, each tag scans the table and builds its own hash
table of every entity; a person writing the batch by hand would scan once and compute every
aggregate in one GROUP BY. The engine does that rewrite itself, on the parsed tree, so authors
keep writing one small query per tag: each tag's ``WHERE`` becomes a ``FILTER`` on each of its
aggregates, the fused ``WHERE`` is the OR of them, and a per-tag presence flag
(``count(*) FILTER (WHERE <its where>) > 0``) keeps "no row" apart from "a NULL value". Tags of
the plain-projection shape (``SELECT key, expr FROM t WHERE c``, one row per source row) fuse
the same way, with ``CASE WHEN c`` instead of ``FILTER``. The results are the same by
construction (FILTER keeps exactly the rows WHERE keeps); tests compare fingerprints of fused
and unfused runs on both engines, and a runner falls back to tag-by-tag if a fused query fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from xiaowei.engine.tags.catalogue import DefinedTag
from xiaowei.engine.tags.sql import ENTITY, RESULT_ALIAS, VALUE, value_cast

MIN_GROUP = 2  # fusing a single tag saves nothing
FUSED_ALIAS = "fused"

Kind = Literal["aggregate", "row"]


@dataclass(frozen=True)
class Shape:
    """What a fusable tag is made of, with its columns unqualified (one table, no aliases)."""

    table: str
    kind: Kind
    key: str
    value: exp.Expression
    where: exp.Expression | None


@dataclass(frozen=True)
class FusedGroup:
    """Tags fused into one query; ``query`` reads the declared table (to be redirected)."""

    table: str
    tags: tuple[DefinedTag, ...]
    query: exp.Select

    def value_column(self, i: int) -> str:
        return f"v{i}"

    def presence_column(self, i: int) -> str:
        return f"p{i}"

    def tag_query(self, i: int, source: str) -> exp.Select:
        """Tag ``i``'s (entity_id, value) rows from the fused result stored as ``source``."""
        tag = self.tags[i]
        inner = (
            exp.select(
                exp.column(ENTITY).as_(ENTITY),
                exp.column(self.value_column(i)).as_(VALUE),
            )
            .from_(exp.to_table(source))
            .where(exp.column(self.presence_column(i)))
        )
        return exp.select(
            exp.cast(exp.column(ENTITY, RESULT_ALIAS), "VARCHAR").as_(ENTITY),
            value_cast(tag.sql_type()).as_(VALUE),
        ).from_(inner.subquery(RESULT_ALIAS))


def shape_of(tag: DefinedTag) -> Shape | None:
    """The tag's fusable shape, or None when it is anything more than one-table, one-level."""
    q = tag.query
    if not isinstance(q, exp.Select) or len(tag.reads) != 1:
        return None
    for arg in ("with_", "joins", "having", "qualify", "distinct", "order", "limit", "offset"):
        if q.args.get(arg):
            return None
    source = q.args.get("from_")
    if source is None or not isinstance(source.this, exp.Table):
        return None
    if any(isinstance(n, exp.Window | exp.Subquery | exp.Lateral) for n in q.walk()):
        return None
    if any(isinstance(n, exp.Select) and n is not q for n in q.walk()):
        return None
    if any(isinstance(n, exp.Anonymous) for n in q.walk()):
        return None  # a function sqlglot does not know might be an aggregate FILTER misses
    entity, value = (_unqualified(s.unalias()) for s in q.selects)
    if not isinstance(entity, exp.Column):
        return None
    where = q.args.get("where")
    condition = _unqualified(where.this) if where is not None else None
    group = q.args.get("group")
    has_aggregate = any(isinstance(n, exp.AggFunc) for n in value.walk())
    if group is not None:
        keys = [_unqualified(k) for k in group.expressions]
        if len(keys) != 1 or not isinstance(keys[0], exp.Column) or keys[0] != entity:
            return None
        if condition is not None and any(isinstance(n, exp.AggFunc) for n in condition.walk()):
            return None
        if not _columns_inside_aggregates(value, entity):
            return None
        return Shape(tag.reads[0], "aggregate", entity.name, value, condition)
    if has_aggregate:
        return None
    return Shape(tag.reads[0], "row", entity.name, value, condition)


def groups_by_entity(tag: DefinedTag) -> bool:
    """The tag's query groups by its entity column, so it gives at most one row per entity."""
    shape = shape_of(tag)
    return shape is not None and shape.kind == "aggregate"


def _columns_inside_aggregates(value: exp.Expression, key: exp.Column) -> bool:
    """Every column of ``value`` other than the key is read through an aggregate (so that
    adding a FILTER to each aggregate restricts everything the value sees)."""
    for column in value.find_all(exp.Column):
        if column == key:
            continue
        if column.find_ancestor(exp.AggFunc) is None:
            return False
    return True


def _unqualified(node: exp.Expression) -> exp.Expression:
    """A copy with table qualifiers dropped from columns (the query reads a single table)."""

    def strip(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.args.get("table") is not None:
            return exp.column(n.name, quoted=n.this.quoted if n.this else None)
        return n

    return node.copy().transform(strip)


def plan_fusion(tags: Iterable[DefinedTag]) -> tuple[list[FusedGroup], list[DefinedTag]]:
    """Fused groups (≥ ``MIN_GROUP`` tags of one table, kind and key), and the tags left."""
    buckets: dict[tuple[str, Kind, str], list[tuple[DefinedTag, Shape]]] = {}
    alone: list[DefinedTag] = []
    for tag in tags:
        shape = shape_of(tag)
        if shape is None:
            alone.append(tag)
        else:
            buckets.setdefault((shape.table, shape.kind, shape.key), []).append((tag, shape))
    groups = []
    for (table, kind, key), members in buckets.items():
        if len(members) < MIN_GROUP:
            alone.extend(tag for tag, _ in members)
            continue
        builder = _aggregate_query if kind == "aggregate" else _row_query
        query = builder(table, key, [shape for _, shape in members])
        groups.append(FusedGroup(table, tuple(tag for tag, _ in members), query))
    return groups, alone


def _filtered(value: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    """``value`` with every aggregate seeing only the rows ``condition`` keeps."""
    if condition is None:
        return value.copy()

    def add_filter(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Filter):
            own = node.expression.this if isinstance(node.expression, exp.Where) else None
            both = exp.and_(own, condition.copy()) if own is not None else condition.copy()
            return exp.Filter(this=node.this, expression=exp.Where(this=both))
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter):
            return exp.Filter(this=node, expression=exp.Where(this=condition.copy()))
        return node

    return value.copy().transform(add_filter, copy=False)


def _aggregate_query(table: str, key: str, shapes: list[Shape]) -> exp.Select:
    columns: list[exp.Expression] = [exp.column(key, quoted=True).as_(ENTITY)]
    for i, shape in enumerate(shapes):
        columns.append(exp.alias_(_filtered(shape.value, shape.where), f"v{i}"))
        present: exp.Expression = exp.Count(this=exp.Star())
        if shape.where is not None:
            present = exp.Filter(this=present, expression=exp.Where(this=shape.where.copy()))
        columns.append(exp.alias_(exp.GT(this=present, expression=exp.Literal.number(0)), f"p{i}"))
    query = exp.select(*columns).from_(exp.to_table(table)).group_by(
        exp.column(key, quoted=True)
    )
    return _where_any(query, shapes)


def _row_query(table: str, key: str, shapes: list[Shape]) -> exp.Select:
    columns: list[exp.Expression] = [exp.column(key, quoted=True).as_(ENTITY)]
    for i, shape in enumerate(shapes):
        value = shape.value.copy()
        if shape.where is not None:
            value = exp.Case(ifs=[exp.If(this=shape.where.copy(), true=value)])
        present = exp.true() if shape.where is None else exp.func(
            "COALESCE", shape.where.copy(), exp.false()
        )
        columns.append(exp.alias_(value, f"v{i}"))
        columns.append(exp.alias_(present, f"p{i}"))
    query = exp.select(*columns).from_(exp.to_table(table))
    return _where_any(query, shapes)


def _where_any(query: exp.Select, shapes: list[Shape]) -> exp.Select:
    """Keep rows any member keeps (all rows when one member has no condition)."""
    if any(s.where is None for s in shapes):
        return query
    return query.where(exp.or_(*(exp.paren(s.where.copy()) for s in shapes)))


def fused_tags(groups: Iterable[FusedGroup]) -> Mapping[str, tuple[FusedGroup, int]]:
    """Tag name → (its group, its index there)."""
    return {tag.name: (g, i) for g in groups for i, tag in enumerate(g.tags)}
