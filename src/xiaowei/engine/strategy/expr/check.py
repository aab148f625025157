"""Type checker: annotate every node with its type, or refuse the expression at load.

Why at load: a rule that names a tag that does not exist, compares a string with a number or
calls ``round`` with four arguments is wrong for every input; finding that on the first
application that reaches the rule, in production, is too late. Each refusal carries the line
and column of the offending node, and unknown names get a "did you mean" from the schema.

Types: ``number`` (int or float), ``decimal`` (exact, for money), ``string``, ``bool``,
``date``, ``list`` / ``list[T]``; ``null`` is the type of the literal ``null`` and fits any
type. A number literal next to a ``decimal`` becomes an exact ``Decimal``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from xiaowei.engine.strategy.expr.errors import ExprError, position
from xiaowei.engine.strategy.expr.functions import NUMERIC, TYPES, FunctionRegistry, _is_list_of
from xiaowei.engine.strategy.expr.nodes import (
    ARITHMETIC,
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
    unparse,
)

ORDERED = frozenset({"number", "decimal", "string", "date"})
Schema = Mapping[str, str]


def check_schema(schema: Schema) -> dict[str, str]:
    """The schema as a dict, refusing types the language does not know."""
    for name, kind in schema.items():
        if kind not in TYPES and not _is_list_of(kind):
            raise ValueError(f"schema: {name!r} has unknown type {kind!r}; use one of "
                             f"{sorted(TYPES)} or list[<type>]")
    return dict(schema)


def unify(a: str, b: str) -> str | None:
    """The common type of ``a`` and ``b`` (null fits anything), or None if they clash."""
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if {a, b} == NUMERIC:
        return "decimal"
    if a.startswith("list") and b.startswith("list"):
        return "list"
    return None


def element(kind: str) -> str:
    """Element type of a list type (``null`` — fits anything — when not declared)."""
    return kind[5:-1] if _is_list_of(kind) else "null"


class Checker:
    """Checks one expression text's tree against a schema and a function registry."""

    def __init__(self, text: str, schema: Schema, functions: FunctionRegistry) -> None:
        self.text = text
        self.schema = schema
        self.functions = functions
        self.names: set[str] = set()

    def fail(self, node: Node, message: str) -> ExprError:
        at = node.op_offset if isinstance(node, Binary) and node.op_offset else node.offset
        line, col = position(self.text, at)
        return ExprError(message, line, col, self.text)

    def check(self, node: Node) -> str:
        node.type = self._type(node)
        return node.type

    def expect(self, node: Node, allowed: frozenset[str], what: str) -> str:
        kind = self.check(node)
        if kind != "null" and kind not in allowed:
            raise self.fail(node, f"{what} needs {_one_of(allowed)}, but "
                                  f"{unparse(node)} is {kind}")
        return kind

    def _type(self, node: Node) -> str:
        if isinstance(node, Literal):
            return _literal_type(node)
        if isinstance(node, Name):
            return self._name(node)
        if isinstance(node, Unary):
            if node.op == "not":
                self.expect(node.operand, frozenset({"bool"}), "'not'")
                return "bool"
            kind = self.expect(node.operand, NUMERIC, "'-'")
            return "number" if kind == "null" else kind
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, ListOf):
            kind = "null"
            for item in node.items:
                joined = unify(kind, self.check(item))
                if joined is None:
                    raise self.fail(item, f"list items must share one type: {unparse(item)}"
                                          f" is {item.type}, earlier items are {kind}")
                kind = joined
            self._adopt_all(node.items, kind)
            return f"list[{kind}]" if kind in TYPES else "list"
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, IsNull):
            self.check(node.operand)
            return "bool"
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Range):
            raise self.fail(node, "a range stands only after 'in': write x in [lo..hi]")
        raise self.fail(node, f"unsupported expression {node!r}")

    def _name(self, node: Name) -> str:
        kind = self.schema.get(node.name)
        if kind is None:
            close = difflib.get_close_matches(node.name, list(self.schema), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise self.fail(node, f"unknown name '{node.name}'{hint}")
        self.names.add(node.name)
        return kind

    def _binary(self, node: Binary) -> str:
        if node.op in ("and", "or"):
            self.expect(node.left, frozenset({"bool"}), f"'{node.op}'")
            self.expect(node.right, frozenset({"bool"}), f"'{node.op}'")
            return "bool"
        if node.op in ARITHMETIC:
            left = self.expect(node.left, NUMERIC, f"'{node.op}'")
            right = self.expect(node.right, NUMERIC, f"'{node.op}'")
            kind = unify(left, right) or "number"
            kind = "number" if kind == "null" else kind
            self._adopt_all([node.left, node.right], kind)
            return kind
        left, right = self.check(node.left), self.check(node.right)
        joined = unify(left, right)
        if joined is None:
            raise self.fail(node, f"cannot compare {left} with {right}: {unparse(node)}")
        if node.op not in ("==", "!=") and joined not in ORDERED | {"null"}:
            raise self.fail(node, f"'{node.op}' needs numbers, strings or dates, not {joined}")
        self._adopt_all([node.left, node.right], joined)
        return "bool"

    def _in(self, node: In) -> str:
        kind = self.check(node.operand)
        box = node.container
        if isinstance(box, Range):
            for end in (box.low, box.high):
                joined = unify(kind, self.check(end))
                if joined is None or joined not in ORDERED | {"null"}:
                    raise self.fail(end, f"range end {unparse(end)} is {end.type}; "
                                         f"it cannot bound {kind}")
                kind = joined
            self._adopt_all([node.operand, box.low, box.high], kind)
            box.type = "range"
            return "bool"
        holder = self.check(box)
        if not holder.startswith("list") and holder != "null":
            raise self.fail(box, f"'in' needs a list or a range, but {unparse(box)} is {holder}")
        if unify(kind, element(holder)) is None:
            raise self.fail(node, f"cannot look for {kind} in a list of {element(holder)}")
        if isinstance(box, ListOf):
            self._adopt_all(box.items, unify(kind, element(holder)) or kind)
        return "bool"

    def _call(self, node: Call) -> str:
        func = self.functions.get(node.name)
        if func is None:
            known = self.functions.names()
            close = difflib.get_close_matches(node.name, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(known)}"
            raise self.fail(node, f"unknown function '{node.name}'{hint}")
        sig = func.signature
        n = len(node.args)
        most = None if sig.variadic else len(sig.params)
        if n < sig.required or (most is not None and n > most):
            want = (f"at least {sig.required}" if most is None else
                    f"{sig.required}" if most == sig.required else f"{sig.required} to {most}")
            raise self.fail(node, f"{node.name}() takes {want} argument(s), {n} given")
        if node.name == "date" and not (isinstance(node.args[0], Literal)
                                        and isinstance(node.args[0].value, str)):
            raise self.fail(node, "date() takes a literal such as date('2025-01-31')")
        bound: dict[str, str] = {}
        for i, arg in enumerate(node.args):
            spec = sig.params[min(i, len(sig.params) - 1)]
            kind = self.check(arg)
            if spec in ("T", "N"):
                joined = unify(bound.get(spec, "null"), kind)
                if joined is None or (spec == "N" and joined not in NUMERIC | {"null"}):
                    raise self.fail(arg, f"{node.name}() argument {i + 1} is {kind}; expected "
                                         + ("a number" if spec == "N" else bound[spec]))
                bound[spec] = joined
            elif kind != "null" and unify(kind, spec) is None and not any(
                unify(kind, part) == part for part in spec.split("|")
            ):
                raise self.fail(arg, f"{node.name}() argument {i + 1} must be {spec}, "
                                     f"but {unparse(arg)} is {kind}")
        for i, arg in enumerate(node.args):
            spec = sig.params[min(i, len(sig.params) - 1)]
            self._adopt(arg, bound.get(spec, spec))
        returns = bound.get(sig.returns, sig.returns)
        return "number" if returns in ("null", "N") else ("null" if returns == "T" else returns)

    def _adopt_all(self, nodes: list[Node], kind: str) -> None:
        for n in nodes:
            self._adopt(n, kind)

    def _adopt(self, node: Node, kind: str) -> None:
        """Make a constant numeric subtree exact when it meets a ``decimal``."""
        if kind != "decimal" or node.type != "number":
            return
        if isinstance(node, Literal):
            node.type = "decimal"
        elif isinstance(node, Unary):
            self._adopt(node.operand, kind)
            node.type = node.operand.type
        elif isinstance(node, Binary) and node.op in ARITHMETIC:
            self._adopt(node.left, kind)
            self._adopt(node.right, kind)
            if "decimal" in (node.left.type, node.right.type):
                node.type = "decimal"


def _literal_type(node: Literal) -> str:
    v = node.value
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    return "number"


def _one_of(kinds: frozenset[str]) -> str:
    names = sorted(kinds)
    return names[0] if len(names) == 1 else " or ".join(names)


def check(node: Node, text: str, schema: Schema, functions: FunctionRegistry) -> tuple[str, set]:
    """Type of ``node`` (annotating the tree) and the input names it reads."""
    checker = Checker(text, schema, functions)
    return checker.check(node), checker.names


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float, Decimal), "decimal": (Decimal, int), "string": (str,),
    "bool": (bool,), "date": (date,), "list": (list, tuple, frozenset, set),
}


def python_types(kind: str) -> tuple[type, ...]:
    """Python types an input declared ``kind`` may have (a list type by its container)."""
    return _PYTHON_TYPES["list" if kind.startswith("list") else kind]
