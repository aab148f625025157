"""The rule language: safe, typed expressions compiled once to Python closures.

Why our own language: rules are edited by risk staff, reviewed in diffs and run millions of
times. A closed grammar (no attribute access, no arbitrary calls) makes them safe; a type
checker against a declared schema refuses mistakes at load with line and column; compiling to
closures makes them fast (a comparison costs well under a microsecond), and no rule text is
ever handed to ``eval``/``exec``.

Use::

    schema = {"app.amount": "decimal", "tag.age": "number", "tag.grade": "string"}
    rule = compile_expression("app.amount <= 500000 and tag.age in [18..65]", schema)
    rule.evaluate({"app.amount": Decimal("120000"), "tag.age": 40})   # True
    rule.test({"tag.age": 40})   # amount missing → null → not met → False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xiaowei.engine.strategy.expr.check import Schema, check, check_schema, python_types, unify
from xiaowei.engine.strategy.expr.compiler import Compiler as _Compiler
from xiaowei.engine.strategy.expr.compiler import EvaluationError, Fn, Inputs
from xiaowei.engine.strategy.expr.errors import ExprError, locate, yaml_position
from xiaowei.engine.strategy.expr.functions import (
    BUILTINS,
    DEFAULT_FUNCTIONS,
    Function,
    FunctionRegistry,
    Signature,
    register_function,
)
from xiaowei.engine.strategy.expr.nodes import Node, unparse
from xiaowei.engine.strategy.expr.parser import parse


@dataclass(frozen=True)
class Expression:
    """A compiled expression: its text, checked tree, result type and the inputs it reads."""

    text: str
    tree: Node = field(repr=False)
    type: str
    names: frozenset[str]
    fn: Fn = field(repr=False, compare=False)

    def evaluate(self, inputs: Inputs) -> Any:
        """The value for ``inputs`` (a plain dict name → value); missing names are null."""
        return self.fn(inputs)

    __call__ = evaluate

    def test(self, inputs: Inputs) -> bool:
        """For conditions: True only when the value is true (null counts as not met)."""
        return self.fn(inputs) is True

    def canonical(self) -> str:
        """The expression as understood, in one spelling with minimal parentheses."""
        return unparse(self.tree)


def compile_expression(
    text: str,
    schema: Schema,
    *,
    functions: FunctionRegistry | None = None,
    expect: str | None = None,
) -> Expression:
    """Parse, type-check and compile ``text``; raise :class:`ExprError` (line:column) if wrong.

    ``expect`` (e.g. ``"bool"`` for a condition) refuses an expression of another type.
    """
    registry = functions or DEFAULT_FUNCTIONS
    schema = check_schema(schema)
    tree = parse(text)
    kind, names = check(tree, text, schema, registry)
    if expect is not None and kind != "null" and unify(kind, expect) != expect:
        raise ExprError(f"expected a {expect} expression, but this is {kind}", 1, 1, text)
    fn = _Compiler(text, registry).compile(tree)
    return Expression(text, tree, kind, frozenset(names), fn)


def validate_inputs(schema: Schema, inputs: Mapping[str, Any]) -> list[str]:
    """Problems with ``inputs`` against ``schema`` (wrong Python types); empty when fine.

    Evaluation trusts inputs for speed; call this at the boundary where inputs are assembled.
    """
    problems = []
    for name, kind in schema.items():
        value = inputs.get(name)
        wrong = isinstance(value, bool) and kind != "bool"
        if value is not None and (wrong or not isinstance(value, python_types(kind))):
            problems.append(f"{name}: expected {kind}, got {type(value).__name__} {value!r}")
    return problems


__all__ = [
    "BUILTINS",
    "DEFAULT_FUNCTIONS",
    "EvaluationError",
    "ExprError",
    "Expression",
    "Function",
    "FunctionRegistry",
    "Schema",
    "Signature",
    "compile_expression",
    "locate",
    "parse",
    "register_function",
    "unparse",
    "validate_inputs",
    "yaml_position",
]
