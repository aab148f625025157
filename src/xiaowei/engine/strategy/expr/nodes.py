"""The syntax tree of a rule expression, and its canonical text.

Why explicit node classes: the tree is what the type checker annotates and the compiler turns
into closures; nothing ever turns it back into code to run. ``unparse`` gives the canonical text
(one spelling, minimal parentheses) used in traces and to show reviewers what was understood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

Value = int | float | Decimal | str | bool | date | list | None


@dataclass(eq=False)
class Node:
    """Base: ``offset`` is the character where the node starts; ``type`` is set by the checker."""

    offset: int = field(default=0, kw_only=True)
    type: str = field(default="", kw_only=True)


@dataclass(eq=False)
class Literal(Node):
    """A constant; ``text`` keeps the spelling so a number can become exact ``Decimal``."""

    value: Value
    text: str = ""


@dataclass(eq=False)
class Name(Node):
    """A reference to a named input, e.g. ``tag.sales_12m``, looked up in the schema."""

    name: str


@dataclass(eq=False)
class Unary(Node):
    """``-x`` or ``not x``."""

    op: str
    operand: Node


@dataclass(eq=False)
class Binary(Node):
    """Arithmetic (``+ - * /``), comparison (``== != < <= > >=``) or logic (``and or``)."""

    op: str
    left: Node
    right: Node
    op_offset: int = field(default=0, kw_only=True)


@dataclass(eq=False)
class ListOf(Node):
    """``[a, b, c]``."""

    items: list[Node]


@dataclass(eq=False)
class Range(Node):
    """``[lo..hi]`` (both ends included), ``(lo..hi]``, ``[lo..hi)``, ``(lo..hi)``."""

    low: Node
    high: Node
    low_closed: bool = True
    high_closed: bool = True


@dataclass(eq=False)
class In(Node):
    """``x in <list | range | list-valued expression>``, or ``not in``."""

    operand: Node
    container: Node
    negated: bool = False


@dataclass(eq=False)
class IsNull(Node):
    """``x is null`` / ``x is not null`` — the only tests that never give null."""

    operand: Node
    negated: bool = False


@dataclass(eq=False)
class Call(Node):
    """``name(args)`` of a whitelisted or registered function."""

    name: str
    args: list[Node]


COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
ARITHMETIC = frozenset({"+", "-", "*", "/"})
# Binding power of each binary operator: higher binds tighter.
PRECEDENCE = {"or": 1, "and": 2, "not": 3, **dict.fromkeys(COMPARISONS, 4), "in": 4, "is": 4,
              "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return PRECEDENCE["not" if node.op == "not" else "neg"]
    if isinstance(node, In | IsNull):
        return 4
    return 9


def _wrap(node: Node, floor: int) -> str:
    text = unparse(node)
    return f"({text})" if _prec(node) < floor else text


def _literal(node: Literal) -> str:
    v = node.value
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(v, date):
        return f"date('{v.isoformat()}')"
    return node.text or str(v)


def unparse(node: Node) -> str:
    """Canonical text of ``node``: parsing it again gives the same tree."""
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        if node.op == "not":
            return "not " + _wrap(node.operand, 3)
        return "-" + _wrap(node.operand, 7)
    if isinstance(node, Binary):
        p = PRECEDENCE[node.op]
        # Left-associative; comparisons do not chain, so both sides must bind tighter.
        left_floor = p + 1 if node.op in COMPARISONS else p
        return f"{_wrap(node.left, left_floor)} {node.op} {_wrap(node.right, p + 1)}"
    if isinstance(node, ListOf):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]"
    if isinstance(node, Range):
        lo, hi = "[" if node.low_closed else "(", "]" if node.high_closed else ")"
        return f"{lo}{unparse(node.low)}..{unparse(node.high)}{hi}"
    if isinstance(node, In):
        word = "not in" if node.negated else "in"
        return f"{_wrap(node.operand, 5)} {word} {_wrap(node.container, 5)}"
    if isinstance(node, IsNull):
        return f"{_wrap(node.operand, 5)} is {'not ' if node.negated else ''}null"
    if isinstance(node, Call):
        return f"{node.name}(" + ", ".join(unparse(a) for a in node.args) + ")"
    raise TypeError(f"not an expression node: {node!r}")
