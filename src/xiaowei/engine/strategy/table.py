"""Decision tables: input columns, rows of unary-test cells, outputs, and a hit policy.

A table is the reviewable form of many rules: each row says "when these columns meet these
tests, give these outputs". Hit policies (from DMN):

* ``first`` — the first matching row, in table order;
* ``collect`` — every matching row, in table order;
* ``priority`` — the matching row whose outputs rank highest in a declared order
  (``priority={"action": ["stop", "review", "pass"]}``: earlier is higher); ties go to the
  earlier row.

Why compiled to bit masks: a row's cells are tests on a handful of columns. For each column,
every constant cell is a union of intervals; the table turns a column into sorted breakpoints
and, for each elementary region between and at the breakpoints, the bit mask of rows whose
cell the region meets. At evaluation a column costs one binary search (one dict lookup for
categories), rows are ANDed as integers, and the first hit is the lowest set bit — so a
50-row table costs about as much as five column look-ups, whatever row matches. Cells whose
ends depend on other inputs keep a per-cell test. The trace (inputs used, all matching rows,
outputs, microseconds) is optional and measured separately, because it allocates.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from xiaowei.engine.strategy.expr import (
    ExprError,
    Expression,
    FunctionRegistry,
    Schema,
    compile_expression,
)
from xiaowei.engine.strategy.expr.cells import Cell, compile_cell
from xiaowei.engine.strategy.expr.check import check_schema
from xiaowei.engine.strategy.expr.compiler import _is_constant
from xiaowei.engine.strategy.expr.errors import Problems as _Problems
from xiaowei.engine.strategy.expr.functions import DEFAULT_FUNCTIONS
from xiaowei.engine.strategy.expr.masks import column_mask
from xiaowei.engine.strategy.expr.nodes import Name
from xiaowei.entities.datafiles import KeyPath, LoadedYaml

HIT_POLICIES = ("first", "collect", "priority")
Inputs = Mapping[str, Any]


@dataclass(frozen=True)
class Row:
    """One rule: an id, one cell per input column, and outputs (expression text or a value)."""

    id: str
    when: Sequence[str]
    then: Mapping[str, Any]


@dataclass(frozen=True)
class Hit:
    """A matching row: its id, its position in the table (0-based) and its outputs."""

    row: str
    index: int
    outputs: Mapping[str, Any]


@dataclass(frozen=True)
class Trace:
    """What one evaluation used and found: for logging every decision node."""

    table: str
    inputs: Mapping[str, Any]
    matched: tuple[str, ...]
    outputs: tuple[Mapping[str, Any], ...]
    micros: float


@dataclass(frozen=True)
class Result:
    """The hits (none, one, or several for ``collect``) and the trace when asked for."""

    hits: tuple[Hit, ...]
    trace: Trace | None = None

    @property
    def first(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def outputs(self) -> Mapping[str, Any] | None:
        """Outputs of the first hit (the only one under ``first``/``priority``), or None."""
        return self.hits[0].outputs if self.hits else None


class TableError(ValueError):
    """The table is refused; one line per problem, ``[file:line:col: ]key: message``."""

    def __init__(self, name: str, problems: list[tuple[str, str]]) -> None:
        self.table = name
        self.problems = problems
        super().__init__("\n".join(f"{where}: {msg}" for where, msg in problems))


class DecisionTable:
    """A compiled decision table; build with :meth:`compile` or :meth:`from_spec`."""

    def __init__(self, name: str, policy: str, columns: list[str], rows: list[Row],
                 evaluate_mask: Callable[[Inputs], int], getters: list[Callable[[Inputs], Any]],
                 finish: Callable[[int, Inputs], tuple[Hit, ...]]) -> None:
        self.name = name
        self.hit_policy = policy
        self.columns = columns
        self.rows = rows
        self._mask = evaluate_mask
        self._getters = getters
        self._finish = finish
        self._results: dict[int, Result] = {}

    def evaluate(self, inputs: Inputs, *, trace: bool = False) -> Result:
        """The hits for ``inputs`` (a dict name → value); ``trace=True`` adds a :class:`Trace`."""
        if trace:
            return self._traced(inputs)
        return Result(self._finish(self._mask(inputs), inputs))

    __call__ = evaluate

    def _traced(self, inputs: Inputs) -> Result:
        start = time.perf_counter_ns()
        mask = self._mask(inputs)
        hits = self._finish(mask, inputs)
        used = {c: g(inputs) for c, g in zip(self.columns, self._getters, strict=True)}
        matched = tuple(self.rows[i].id for i in self._bits_in_row_order(mask))
        micros = (time.perf_counter_ns() - start) / 1000
        trace = Trace(self.name, used, matched, tuple(h.outputs for h in hits), micros)
        return Result(hits, trace)

    def _bits_in_row_order(self, mask: int) -> list[int]:
        order = getattr(self._finish, "order", None)
        out = []
        while mask:
            low = mask & -mask
            bit = low.bit_length() - 1
            out.append(order[bit] if order is not None else bit)
            mask ^= low
        return sorted(out)

    @classmethod
    def compile(
        cls,
        *,
        name: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        rows: Sequence[Row],
        schema: Schema,
        hit_policy: str = "first",
        priority: Mapping[str, Sequence[Any]] | None = None,
        functions: FunctionRegistry | None = None,
        source: tuple[LoadedYaml, Sequence[str]] | None = None,
        path: KeyPath = (),
    ) -> DecisionTable:
        """Check and compile; raise :class:`TableError` listing every problem found.

        ``inputs`` are expressions (usually names); each row has one cell per input and a
        value for each output (text is an expression: quote strings, ``"'pass'"``).
        ``source`` (the parsed YAML and its lines) and ``path`` (the table's key path in
        it) turn positions into ``file:line:column``.
        """
        problems = _Problems(source, path)
        registry = functions or DEFAULT_FUNCTIONS
        schema = check_schema(schema)
        if hit_policy not in HIT_POLICIES:
            problems.add(("hit_policy",), f"unknown hit policy {hit_policy!r}; use one of "
                                          f"{', '.join(HIT_POLICIES)}")
        getters: list[Callable[[Inputs], Any]] = []
        kinds: list[str] = []
        for i, text in enumerate(inputs):
            try:
                column = compile_expression(text, schema, functions=registry)
            except ExprError as exc:
                problems.add(("inputs", i), exc)
                column = None
            kinds.append(column.type if column else "")
            getters.append(_getter(column))
        cells: list[list[Cell]] = [[] for _ in inputs]
        results: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for r, row in enumerate(rows):
            if row.id in seen:
                problems.add(("rows", r, "id"), f"duplicate row id {row.id!r} (row {seen[row.id]})")
            seen[row.id] = r
            if len(row.when) != len(inputs):
                problems.add(("rows", r, "when"),
                             f"{len(row.when)} cells for {len(inputs)} input columns")
            for c, kind in enumerate(kinds):
                text = str(row.when[c]) if c < len(row.when) else "-"
                try:
                    cell = compile_cell(text, kind, schema, registry) if kind else _ANY
                except ExprError as exc:
                    problems.add(("rows", r, "when", c), exc)
                    cell = _ANY
                cells[c].append(cell)
            results.append(_outputs(row, outputs, schema, registry, problems, r))
        ranks = _ranks(priority, outputs, results, rows, hit_policy, problems)
        if problems.found:
            raise TableError(name, problems.found)
        order = _bit_order(results, ranks, hit_policy)
        bits = [0] * len(rows)
        for bit, r in enumerate(order):
            bits[r] = bit
        masks = [m for m in (column_mask(g, col, bits) for g, col in zip(
            getters, cells, strict=True)) if m is not None]
        finish = _finisher(rows, results, order, hit_policy, ranks, priority)
        return cls(name, hit_policy, list(inputs), list(rows), _and_masks(masks, len(rows)),
                   getters, finish)

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, Any],
        schema: Schema,
        *,
        functions: FunctionRegistry | None = None,
        source: tuple[LoadedYaml, Sequence[str]] | None = None,
        path: KeyPath = (),
    ) -> DecisionTable:
        """Compile the YAML shape ``{name, hit_policy, inputs, outputs, priority, rows}``;
        each row is ``{id, when: [cell, ...], then: {output: expression}}``."""
        rows = [Row(str(r.get("id", i + 1)), list(r.get("when", [])), dict(r.get("then", {})))
                for i, r in enumerate(spec.get("rows", []))]
        return cls.compile(name=str(spec.get("name", "table")), inputs=list(spec["inputs"]),
                           outputs=list(spec["outputs"]), rows=rows, schema=schema,
                           hit_policy=str(spec.get("hit_policy", "first")),
                           priority=spec.get("priority"), functions=functions, source=source,
                           path=path)


_ANY = Cell("-", True, True, False, (), lambda v, inputs: True)


def _getter(column: Expression | None) -> Callable[[Inputs], Any]:
    if column is None:
        return lambda inputs: None
    if isinstance(column.tree, Name):
        return operator.methodcaller("get", column.tree.name)
    return column.fn


def _outputs(row: Row, outputs: Sequence[str], schema: dict[str, str],
             registry: FunctionRegistry, problems: _Problems, r: int) -> dict[str, Any]:
    """name → constant value, or name → compiled Expression when it reads inputs."""
    out: dict[str, Any] = {}
    extra = set(row.then) - set(outputs)
    if extra:
        problems.add(("rows", r, "then"), f"unknown outputs {sorted(extra)}; "
                                          f"declared: {list(outputs)}")
    for name in outputs:
        if name not in row.then:
            problems.add(("rows", r, "then"), f"output {name!r} has no value")
            continue
        value = row.then[name]
        if not isinstance(value, str):
            out[name] = value
            continue
        try:
            expr = compile_expression(value, schema, functions=registry)
        except ExprError as exc:
            problems.add(("rows", r, "then", name), exc)
            continue
        out[name] = expr.fn({}) if _is_constant(expr.tree, registry) else expr
    return out


def _ranks(priority: Mapping[str, Sequence[Any]] | None, outputs: Sequence[str],
           results: list[dict[str, Any]], rows: Sequence[Row], policy: str,
           problems: _Problems) -> list[tuple[int, ...]] | None:
    """Per row, its outputs' positions in the declared order (None if not ``priority``)."""
    if policy != "priority":
        if priority:
            problems.add(("priority",), "a priority order needs hit_policy: priority")
        return None
    if not priority:
        problems.add(("priority",), "hit_policy priority needs a priority order of outputs")
        return None
    for name in priority:
        if name not in outputs:
            problems.add(("priority", name), f"{name!r} is not an output")
    ranks = []
    for r, res in enumerate(results):
        key = []
        for name, order in priority.items():
            value = res.get(name)
            if isinstance(value, Expression):
                key.append(-1)  # ranked at evaluation time
            elif value in order:
                key.append(list(order).index(value))
            else:
                problems.add(("rows", r, "then", name),
                             f"{value!r} is not in the priority order {list(order)}")
            ranks.append(tuple(key))
    return ranks


def _bit_order(results: list[dict[str, Any]], ranks: list[tuple[int, ...]] | None,
               policy: str) -> list[int]:
    """Row index of each bit: table order, or by rank when priorities are all constant."""
    n = len(results)
    if policy == "priority" and ranks is not None and all(-1 not in k for k in ranks):
        return sorted(range(n), key=lambda r: (ranks[r], r))
    return list(range(n))


def _and_masks(masks: list[Callable[[Inputs], int]], n: int) -> Callable[[Inputs], int]:
    full = (1 << n) - 1

    def matching(inputs: Inputs) -> int:
        m = full
        for mask in masks:
            m &= mask(inputs)
            if not m:
                return 0
        return m
    return matching


def _finisher(rows: Sequence[Row], results: list[dict[str, Any]], order: list[int],
              policy: str, ranks: list[tuple[int, ...]] | None,
              priority: Mapping[str, Sequence[Any]] | None,
              ) -> Callable[[int, Inputs], tuple[Hit, ...]]:
    """Mask → hits. Rows with constant outputs share one prebuilt, read-only :class:`Hit`."""
    constant = [all(not isinstance(v, Expression) for v in res.values()) for res in results]
    fixed = [Hit(rows[r].id, r, frozen(results[r])) if constant[r] else None for r in order]

    def hit(bit: int, inputs: Inputs) -> Hit:
        h = fixed[bit]
        if h is not None:
            return h
        r = order[bit]
        outs = {k: v.fn(inputs) if isinstance(v, Expression) else v
                for k, v in results[r].items()}
        return Hit(rows[r].id, r, MappingProxyType(outs))

    def first(mask: int, inputs: Inputs) -> tuple[Hit, ...]:
        if not mask:
            return ()
        return (hit((mask & -mask).bit_length() - 1, inputs),)

    def collect(mask: int, inputs: Inputs) -> tuple[Hit, ...]:
        hits = []
        while mask:
            low = mask & -mask
            hits.append(hit(low.bit_length() - 1, inputs))
            mask ^= low
        return tuple(hits)

    if policy == "priority" and priority and ranks is not None and any(-1 in k for k in ranks):
        def ranked(mask: int, inputs: Inputs) -> tuple[Hit, ...]:
            hits = collect(mask, inputs)
            return (min(hits, key=lambda h: (_rank(h, priority), h.index)),) if hits else ()
        chosen = ranked
    else:
        chosen = collect if policy == "collect" else first
    chosen.order = order  # type: ignore[attr-defined]
    return chosen


def _rank(hit: Hit, priority: Mapping[str, Sequence[Any]]) -> tuple[int, ...]:
    """Position of each output in its declared order (values not listed rank last)."""
    key = []
    for name, order in priority.items():
        value = hit.outputs.get(name)
        key.append(list(order).index(value) if value in order else len(order))
    return tuple(key)


def frozen(outputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Read-only outputs, safe to share between evaluations."""
    return MappingProxyType(dict(outputs))


__all__ = ["HIT_POLICIES", "DecisionTable", "Hit", "Result", "Row", "TableError", "Trace"]
