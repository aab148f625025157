"""Unary tests: the cells of a decision table, each a test on one column's value.

Syntax of a cell (borrowed from DMN's unary tests)::

    cell  := "" | "-"                      -- any value, null included
           | "not" "(" tests ")"           -- any non-null value the tests reject
           | tests
    tests := test ("," test)*              -- met when any one test is met
    test  := "null"                        -- the value is null
           | ("<"|"<="|">"|">="|"="|"=="|"!="|"<>") sum
           | range                         -- [18..65], (0..1], [0..1), (a..b)
           | sum                           -- equal to it: "C", 3, date('2025-01-01')

A null value meets only ``-``/empty cells and cells with a ``null`` test: every other test on
null is unknown, and unknown is "not met" (also under ``not(...)``).

Why intervals: when the ends are constants, every test is a union of intervals of an ordered
type. The table compiles a column's cells into sorted breakpoints, so the rows a value meets
are found with one binary search instead of one call per cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xiaowei.engine.strategy.expr.check import ORDERED, Checker, unify
from xiaowei.engine.strategy.expr.compiler import Compiler, Inputs
from xiaowei.engine.strategy.expr.errors import ExprError
from xiaowei.engine.strategy.expr.functions import FunctionRegistry
from xiaowei.engine.strategy.expr.nodes import COMPARISONS, Literal, Node, Range, unparse
from xiaowei.engine.strategy.expr.parser import Parser

ORDERABLE = ORDERED | {"bool"}


@dataclass(frozen=True)
class Interval:
    """Values between ``low`` and ``high`` (None: unbounded), each end included or not."""

    low: Any
    high: Any
    low_closed: bool
    high_closed: bool

    def contains(self, v: Any) -> bool:
        lo, hi = self.low, self.high
        above = lo is None or lo < v or (self.low_closed and lo == v)
        return above and (hi is None or v < hi or (self.high_closed and v == hi))


@dataclass(frozen=True)
class Cell:
    """A compiled cell. ``intervals`` is None when an end depends on the inputs."""

    text: str
    any: bool
    null: bool
    negated: bool
    intervals: tuple[Interval, ...] | None
    predicate: Callable[[Any, Inputs], bool]

    def matches(self, value: Any, inputs: Inputs) -> bool:
        """Reference semantics of the cell (the table uses a faster equivalent)."""
        return self.predicate(value, inputs)


def _tests(parser: Parser, close: str) -> list[tuple[str, Node]]:
    tests: list[tuple[str, Node]] = []
    while True:
        tok = parser.peek
        if tok.kind in COMPARISONS:
            parser.next()
            tests.append((tok.kind, parser.sum()))
        elif tok.kind in ("[", "("):
            start = parser.pos
            parser.next()
            first = parser.expression()
            if parser.accept(".."):
                tests.append(("range", parser.range_rest(tok, first)))
            else:
                parser.pos = start
                tests.append(("==", parser.sum()))
        else:
            tests.append(("==", parser.sum()))
        if parser.accept(close):
            return tests
        parser.expect(",", f"',' or {'the end of the cell' if close == 'end' else repr(close)}")


def parse_cell(text: str) -> tuple[bool, list[tuple[str, Node]]]:
    """(negated, [(operator or 'range', node)]); an empty list means any value."""
    if text.strip() in ("", "-"):
        return False, []
    parser = Parser(text)
    if parser.peek.kind == "not" and parser.tokens[1].kind == "(":
        parser.pos = 2
        tests = _tests(parser, ")")
        parser.finish(tests[-1][1])
        return True, tests
    return False, _tests(parser, "end")


_BOUNDS = {
    "<": lambda v: Interval(None, v, False, False),
    "<=": lambda v: Interval(None, v, False, True),
    ">": lambda v: Interval(v, None, False, False),
    ">=": lambda v: Interval(v, None, True, False),
    "==": lambda v: Interval(v, v, True, True),
}


def compile_cell(
    text: str,
    kind: str,
    schema: dict[str, str],
    functions: FunctionRegistry,
) -> Cell:
    """Parse, check against the column type ``kind``, and compile one cell."""
    negated, tests = parse_cell(text)
    if not tests:
        return Cell(text, True, True, False, (), lambda v, inputs: True)
    checker = Checker(text, schema, functions)
    compiler = Compiler(text, functions)
    null = False
    intervals: list[Interval] | None = []
    runners: list[Callable[[Any, Inputs], Any]] = []
    for op, node in tests:
        if isinstance(node, Literal) and node.value is None:
            if op != "==":
                raise checker.fail(node, "write null alone to test for null")
            null = True
            continue
        ends = [node.low, node.high] if isinstance(node, Range) else [node]
        for end in ends:
            got = checker.check(end)
            joined = unify(kind, got)
            ordered = op not in ("==", "!=")
            if joined is None or (ordered and joined not in ORDERED):
                raise checker.fail(end, f"this column is {kind}; {unparse(end)} is {got}"
                                   + (" and cannot be ordered" if joined else ""))
            checker._adopt(end, kind)
        if isinstance(node, Range):
            runners.append(compiler.range_test(node))
            lo_c, lo = compiler.constant(node.low)
            hi_c, hi = compiler.constant(node.high)
            if intervals is not None and lo_c and hi_c and None not in (lo, hi):
                intervals.append(Interval(lo, hi, node.low_closed, node.high_closed))
            else:
                intervals = None
            continue
        runners.append(_comparison(compiler, op, node))
        is_const, value = compiler.constant(node)
        if is_const and value is None:
            raise checker.fail(node, "write null alone to test for null")
        if intervals is not None and is_const and kind in ORDERABLE:
            if op == "!=":
                intervals += [_BOUNDS["<"](value), _BOUNDS[">"](value)]
            else:
                intervals.append(_BOUNDS[op](value))
        else:
            intervals = None
    frozen = tuple(intervals) if intervals is not None else None
    return Cell(text, False, null, negated, frozen, _predicate(runners, null, negated))


def _comparison(compiler: Compiler, op: str, node: Node) -> Callable[[Any, Inputs], Any]:
    from xiaowei.engine.strategy.expr.compiler import _OPS

    fn = _OPS[op]
    end = compiler.compile(node)

    def test(v: Any, inputs: Inputs) -> Any:
        e = end(inputs)
        return None if e is None else fn(v, e)
    return test


def _predicate(
    runners: list[Callable[[Any, Inputs], Any]], null: bool, negated: bool
) -> Callable[[Any, Inputs], bool]:
    def predicate(v: Any, inputs: Inputs) -> bool:
        if v is None:
            return null and not negated
        unknown = False
        for run in runners:
            got = run(v, inputs)
            if got is True:
                return not negated
            unknown = unknown or got is None
        return False if unknown else negated
    return predicate


__all__ = ["Cell", "ExprError", "Interval", "compile_cell", "parse_cell"]
