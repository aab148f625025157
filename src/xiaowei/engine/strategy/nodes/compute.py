"""Nodes that compute variables: decision tables, formulas, and model calls.

Why each declares what it writes (``writes: {name: type}``): later nodes' expressions are
type-checked at load against those declarations, so a formula reading ``grade`` as a number
when a table writes it as text is refused before any case runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xiaowei.engine.strategy.expr import Expression
from xiaowei.engine.strategy.expr.check import unify
from xiaowei.engine.strategy.nodes.base import Build, Context, Node, no_extra, required
from xiaowei.engine.strategy.table import DecisionTable, TableError
from xiaowei.entities.datafiles import KeyPath

_TABLE_KEYS = {"id", "kind", "writes", "hit_policy", "inputs", "outputs", "priority", "rows",
               "name", "description"}


class TableNode(Node):
    """A decision table whose hit's outputs become variables (under ``collect``: lists)."""

    kind = "table"

    def __init__(self, id: str, table: DecisionTable, reads: set[str]) -> None:
        super().__init__(id, reads, table_outputs(table))
        self._table = table
        self._collect = table.hit_policy == "collect"

    def run(self, ctx: Context) -> tuple[str, ...]:
        hits = self._table.evaluate(ctx.vars).hits
        if self._collect:
            for name in self.writes:
                ctx.vars[name] = [h.outputs[name] for h in hits]
        elif hits:
            ctx.vars.update(hits[0].outputs)
        return tuple(h.row for h in hits)


def table_outputs(table: DecisionTable) -> list[str]:
    return list(getattr(table, "output_names", ()))


def compile_table(id: str, spec: Mapping[str, Any], path: KeyPath, build: Build,
                  source: Any) -> TableNode | None:
    """A ``DecisionTable.from_spec`` spec plus ``writes`` (output types); outputs = writes."""
    no_extra(spec, _TABLE_KEYS, path, build)
    writes = spec.get("writes") or {}
    if not isinstance(writes, Mapping) or not writes:
        build.problems.add((*path, "writes"), "a table needs writes: {output: type, ...}")
        return None
    table_spec = {k: v for k, v in spec.items() if k not in ("id", "kind", "writes")}
    table_spec.setdefault("name", id)
    table_spec["outputs"] = list(writes)
    table_spec["rows"] = [_exact_rows(row, writes) for row in spec.get("rows") or []]
    if "inputs" not in spec:
        build.problems.add(path, "missing key 'inputs'")
        return None
    if spec.get("hit_policy") == "collect":
        for name, kind in writes.items():
            if not str(kind).startswith("list"):
                build.problems.add((*path, "writes", name),
                                   f"under hit_policy collect {name!r} receives a list; "
                                   f"declare it list[...], not {kind}")
    try:
        table = DecisionTable.from_spec(table_spec, build.schema, functions=build.functions,
                                        source=source, path=path)
    except TableError as exc:
        build.problems.found.extend(exc.problems)
        return None
    table.output_names = list(writes)  # type: ignore[attr-defined]
    reads: set[str] = set()
    for i, text in enumerate(table_spec["inputs"]):
        expr = build.expr(text, (*path, "inputs", i))
        if expr is not None:
            reads |= expr.names
    return TableNode(id, table, reads)


def _exact_rows(row: Any, writes: Mapping[str, Any]) -> Any:
    """YAML numbers written to a ``decimal`` output become exact Decimals (0.3, not 0.299…)."""
    if not isinstance(row, Mapping) or not isinstance(row.get("then"), Mapping):
        return row
    then = {k: Decimal(str(v)) if writes.get(k) == "decimal" and isinstance(v, int | float)
            and not isinstance(v, bool) else v for k, v in row["then"].items()}
    return {**row, "then": then}


class FormulaNode(Node):
    """Assign variables from expressions, in order (a later one may read an earlier one)."""

    kind = "formula"

    def __init__(self, id: str, assigns: list[tuple[str, Expression, bool]]) -> None:
        reads = [n for _, e, _ in assigns for n in e.names]
        super().__init__(id, reads, [n for n, _, _ in assigns])
        self._assigns = [(name, e.fn, exact) for name, e, exact in assigns]

    def run(self, ctx: Context) -> tuple[str, ...]:
        variables = ctx.vars
        for name, fn, exact in self._assigns:
            value = fn(variables)
            if exact and isinstance(value, float):
                value = Decimal(repr(value))
            variables[name] = value
        return ()


def compile_formula(id: str, spec: Mapping[str, Any], path: KeyPath,
                    build: Build) -> FormulaNode | None:
    """``{writes: {name: type}, set: {name: expression}}``; each set name must be declared."""
    no_extra(spec, {"id", "kind", "writes", "set", "description"}, path, build)
    writes = spec.get("writes") or {}
    assigns_spec = required(spec, "set", path, build) or {}
    if not isinstance(assigns_spec, Mapping):
        build.problems.add((*path, "set"), "expected a mapping name: expression")
        return None
    assigns = []
    for name, text in assigns_spec.items():
        at = (*path, "set", name)
        declared = writes.get(name) if isinstance(writes, Mapping) else None
        if declared is None:
            build.problems.add(at, f"{name!r} is not declared in writes (give its type)")
            continue
        expr = build.expr(text, at)
        if expr is None:
            continue
        if expr.type != "null" and unify(expr.type, declared) != declared:
            build.problems.add(at, f"{name!r} is declared {declared} but this is {expr.type}")
            continue
        assigns.append((str(name), expr, declared == "decimal" and expr.type != "decimal"))
    for name in writes if isinstance(writes, Mapping) else ():
        if name not in assigns_spec:
            build.problems.add((*path, "writes", name), f"{name!r} is declared but never set")
    return FormulaNode(id, assigns)


class ModelNode(Node):
    """Call a model (resolved by the caller from ``name@version``) and write its score."""

    kind = "model"

    def __init__(self, id: str, alias: str, into: str) -> None:
        super().__init__(id, (), [into])
        self.alias = alias
        self._into = into

    def run(self, ctx: Context) -> tuple[str, ...]:
        try:
            score = float(ctx.models[self.alias](ctx.vars))
        except Exception as exc:
            ctx.vars[self._into] = None
            ctx.fail("SYS_MODEL_FAILED", self.id, f"{self.alias}: {type(exc).__name__}: {exc}")
            return ("failed",)
        if not math.isfinite(score):
            ctx.vars[self._into] = None
            ctx.fail("SYS_MODEL_FAILED", self.id, f"{self.alias}: score {score}")
            return ("failed",)
        ctx.vars[self._into] = score
        ctx.scores[self.alias] = score
        return ()


def compile_model(id: str, spec: Mapping[str, Any], path: KeyPath,
                  build: Build) -> ModelNode | None:
    """``{model: alias, into: variable}``; the alias must be declared under ``models``."""
    no_extra(spec, {"id", "kind", "model", "into", "description"}, path, build)
    alias = str(required(spec, "model", path, build))
    into = required(spec, "into", path, build)
    if alias not in build.models:
        build.problems.add((*path, "model"), f"model {alias!r} is not declared under 'models'")
        return None
    if into is None:
        return None
    return ModelNode(id, alias, build.variable(into, "number", (*path, "into")))
