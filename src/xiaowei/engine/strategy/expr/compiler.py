"""Compiler: a checked syntax tree → one Python closure, composed node by node.

Why closures: they run at the speed of a few Python calls per node, need no ``eval``/``exec``
(rule text is never turned into Python source), and are built once at load. Constant
subtrees are folded at load, so ``date('2025-01-31')`` or ``-5`` cost nothing per call and a
bad constant (``date('2025-02-30')``) is refused at load.

Null semantics (SQL-like, three-valued):

* a missing input is null; arithmetic, comparison, ``in`` and function calls with a null
  operand give null (except ``coalesce``, ``min``, ``max``, which skip nulls);
* division by zero gives null (a ratio over an empty base is unknown, not an error);
* ``and``/``or``/``not`` follow Kleene logic: ``false and null`` is false, ``true or null`` is
  true, ``true and null``, ``false or null`` and ``not null`` are null;
* ``x in [a, null]`` is true if x is found, otherwise null (as in SQL);
* ``is null`` / ``is not null`` are never null; a condition that ends null counts as not met.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from xiaowei.engine.strategy.expr.errors import ExprError, position
from xiaowei.engine.strategy.expr.functions import BUILTINS, FunctionRegistry
from xiaowei.engine.strategy.expr.nodes import (
    Binary,
    Call,
    In,
    IsNull,
    ListOf,
    Literal,
    Name,
    Node,
    Range,
    Unary,
)

Inputs = Mapping[str, Any]
Fn = Callable[[Inputs], Any]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


class EvaluationError(TypeError):
    """An input did not have its declared type (e.g. text where a number was declared)."""


def _mixed(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """Retry ``a op b`` after making a float exact when the other side is a Decimal."""
    if isinstance(a, float) and isinstance(b, Decimal):
        return op(Decimal(repr(a)), b)
    if isinstance(a, Decimal) and isinstance(b, float):
        return op(a, Decimal(repr(b)))
    raise EvaluationError(f"cannot apply {op.__name__} to {a!r} and {b!r}; "
                          "an input does not have its declared type")


def constant_value(node: Literal) -> Any:
    """A literal's run-time value: exact ``Decimal`` where the checker typed it decimal."""
    v = node.value
    if isinstance(v, Decimal | int) and not isinstance(v, bool):
        if node.type == "decimal":
            return Decimal(node.text) if node.text else Decimal(v)
        return float(v) if isinstance(v, Decimal) else v
    return v


class Compiler:
    """Turns one checked tree into a closure; ``text`` is kept for error positions."""

    def __init__(self, text: str, functions: FunctionRegistry) -> None:
        self.text = text
        self.functions = functions

    def fail(self, node: Node, message: str) -> ExprError:
        line, col = position(self.text, node.offset)
        return ExprError(message, line, col, self.text)

    def constant(self, node: Node) -> tuple[bool, Any]:
        """(True, value) when ``node`` reads no input and calls only built-ins."""
        if not _is_constant(node, self.functions):
            return False, None
        if isinstance(node, Literal):
            return True, constant_value(node)
        try:
            return True, self._build(node)({})
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise self.fail(node, f"cannot evaluate constant: {exc}") from None

    def compile(self, node: Node) -> Fn:
        is_const, value = self.constant(node)
        if is_const:
            return lambda _inputs: value
        return self._build(node)

    def _build(self, node: Node) -> Fn:
        if isinstance(node, Literal):
            value = constant_value(node)
            return lambda _inputs: value
        if isinstance(node, Name):
            return operator.methodcaller("get", node.name)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            if node.op == "and":
                return _and(self.compile(node.left), self.compile(node.right))
            if node.op == "or":
                return _or(self.compile(node.left), self.compile(node.right))
            return self._binary(node)
        if isinstance(node, ListOf):
            items = [self.compile(i) for i in node.items]
            return lambda inputs: [f(inputs) for f in items]
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, IsNull):
            f = self.compile(node.operand)
            if node.negated:
                return lambda inputs: f(inputs) is not None
            return lambda inputs: f(inputs) is None
        if isinstance(node, Call):
            return self._call(node)
        raise self.fail(node, f"cannot compile {type(node).__name__}")

    def _unary(self, node: Unary) -> Fn:
        f = self.compile(node.operand)
        if node.op == "not":
            def negate(inputs: Inputs) -> Any:
                v = f(inputs)
                return None if v is None else not v
            return negate

        def minus(inputs: Inputs) -> Any:
            v = f(inputs)
            return None if v is None else -v
        return minus

    def _binary(self, node: Binary) -> Fn:
        op = _OPS[node.op]
        left = self.compile(node.left)
        right_const, c = self.constant(node.right)
        if node.op == "/":
            return _divide(left, self.compile(node.right))
        if right_const:
            if c is None:
                return lambda _inputs: None

            def with_constant(inputs: Inputs) -> Any:
                a = left(inputs)
                if a is None:
                    return None
                try:
                    return op(a, c)
                except TypeError:
                    return _mixed(op, a, c)
            return with_constant
        right = self.compile(node.right)

        def both(inputs: Inputs) -> Any:
            a = left(inputs)
            if a is None:
                return None
            b = right(inputs)
            if b is None:
                return None
            try:
                return op(a, b)
            except TypeError:
                return _mixed(op, a, b)
        return both

    def _in(self, node: In) -> Fn:
        f = self.compile(node.operand)
        box = node.container
        if isinstance(box, Range):
            test = self.range_test(box)

            def within(inputs: Inputs) -> Any:
                v = f(inputs)
                return None if v is None else test(v, inputs)
            found = within
        else:
            found = self._member(f, box)
        if not node.negated:
            return found

        def not_in(inputs: Inputs) -> Any:
            v = found(inputs)
            return None if v is None else not v
        return not_in

    def _member(self, f: Fn, box: Node) -> Fn:
        is_const, items = self.constant(box)
        if is_const and items is not None:
            has_null = None in items
            pool: frozenset[Any] | list[Any] = frozenset(i for i in items if i is not None)

            def in_constant(inputs: Inputs) -> Any:
                v = f(inputs)
                if v is None:
                    return None
                return True if v in pool else (None if has_null else False)
            return in_constant
        g = self.compile(box)

        def in_dynamic(inputs: Inputs) -> Any:
            v = f(inputs)
            seq = g(inputs)
            if v is None or seq is None:
                return None
            return True if v in seq else (None if None in seq else False)
        return in_dynamic

    def range_test(self, box: Range) -> Callable[[Any, Inputs], Any]:
        """``(value, inputs) → bool | None`` for a range; constant ends are fixed at load."""
        lo_op = operator.le if box.low_closed else operator.lt
        hi_op = operator.le if box.high_closed else operator.lt
        lo_const, lo = self.constant(box.low)
        hi_const, hi = self.constant(box.high)
        if lo_const and hi_const:
            if lo is None or hi is None:
                return lambda v, inputs: None
            return lambda v, inputs: lo_op(lo, v) and hi_op(v, hi)
        low, high = self.compile(box.low), self.compile(box.high)

        def dynamic(v: Any, inputs: Inputs) -> Any:
            a, b = low(inputs), high(inputs)
            if a is None or b is None:
                return None
            return lo_op(a, v) and hi_op(v, b)
        return dynamic

    def _call(self, node: Call) -> Fn:
        func = self.functions.get(node.name)
        if func is None:  # the checker refuses this first; kept for direct use
            raise self.fail(node, f"unknown function '{node.name}'")
        fn = func.fn
        args = [self.compile(a) for a in node.args]
        if not func.null_in_null_out:
            return lambda inputs: fn(*[a(inputs) for a in args])
        if len(args) == 1:
            only = args[0]

            def call1(inputs: Inputs) -> Any:
                v = only(inputs)
                return None if v is None else fn(v)
            return call1

        def call(inputs: Inputs) -> Any:
            values = [a(inputs) for a in args]
            return None if None in values else fn(*values)
        return call


def _divide(left: Fn, right: Fn) -> Fn:
    def divide(inputs: Inputs) -> Any:
        a = left(inputs)
        b = right(inputs)
        if a is None or b is None or b == 0:
            return None
        try:
            return a / b
        except TypeError:
            return _mixed(operator.truediv, a, b)
    return divide


def _and(left: Fn, right: Fn) -> Fn:
    def both(inputs: Inputs) -> Any:
        a = left(inputs)
        if a is False:
            return False
        b = right(inputs)
        if b is False:
            return False
        return None if a is None or b is None else True
    return both


def _or(left: Fn, right: Fn) -> Fn:
    def either(inputs: Inputs) -> Any:
        a = left(inputs)
        if a is True:
            return True
        b = right(inputs)
        if b is True:
            return True
        return None if a is None or b is None else False
    return either


def _is_constant(node: Node, functions: FunctionRegistry) -> bool:
    if isinstance(node, Name):
        return False
    if isinstance(node, Call) and BUILTINS.get(node.name) is not functions.get(node.name):
        return False  # plugins may read clocks or tables; never fold them
    return all(_is_constant(child, functions) for child in _children(node))


def _children(node: Node) -> list[Node]:
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, ListOf):
        return list(node.items)
    if isinstance(node, Range):
        return [node.low, node.high]
    if isinstance(node, In):
        return [node.operand, node.container]
    if isinstance(node, IsNull):
        return [node.operand]
    if isinstance(node, Call):
        return list(node.args)
    return []
