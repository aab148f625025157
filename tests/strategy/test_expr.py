"""The rule language: precedence, null logic, arithmetic and functions as documented."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xiaowei.engine.strategy.expr import compile_expression, parse, unparse
from xiaowei.engine.strategy.expr.nodes import Binary, Unary

SCHEMA = {
    "a": "number", "b": "number", "c": "number", "p": "bool", "q": "bool",
    "app.amount": "decimal", "tag.grade": "string", "d1": "date", "d2": "date",
    "codes": "list[string]",
}


def ev(text: str, **inputs: object) -> object:
    return compile_expression(text, SCHEMA).evaluate(
        {k.replace("__", "."): v for k, v in inputs.items()})


@pytest.mark.parametrize(("text", "tree"), [
    ("1 + 2 * 3", "1 + 2 * 3"),
    ("(1 + 2) * 3", "(1 + 2) * 3"),
    ("a - b - c", "a - b - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("a / b * c", "a / b * c"),
    ("a / (b * c)", "a / (b * c)"),
    ("not p and q", "not p and q"),
    ("not (p and q)", "not (p and q)"),
    ("p or q and p", "p or q and p"),
    ("(p or q) and p", "(p or q) and p"),
    ("-a * b", "-a * b"),
    ("-(a * b)", "-(a * b)"),
    ("a + 1 > b * 2 and not a is null", "a + 1 > b * 2 and not a is null"),
])
def test_canonical_text_shows_precedence(text: str, tree: str) -> None:
    assert unparse(parse(text)) == tree


def test_operators_associate_left_and_bind_as_documented() -> None:
    t = parse("a - b - c")
    assert isinstance(t, Binary) and t.op == "-" and isinstance(t.left, Binary)
    t = parse("p or q and p")
    assert isinstance(t, Binary) and t.op == "or" and isinstance(t.right, Binary)
    t = parse("not a > b")
    assert isinstance(t, Unary) and t.op == "not" and isinstance(t.operand, Binary)
    assert ev("10 - 4 - 3") == 3
    assert ev("2 + 3 * 4") == 14
    assert ev("24 / 4 / 2") == 3


T, F, N = True, False, None


@pytest.mark.parametrize(("p", "q", "and_", "or_"), [
    (T, T, T, T), (T, F, F, T), (T, N, N, T),
    (F, T, F, T), (F, F, F, F), (F, N, F, N),
    (N, T, N, T), (N, F, F, N), (N, N, N, N),
])
def test_three_valued_logic_truth_table(p: object, q: object, and_: object, or_: object) -> None:
    assert ev("p and q", p=p, q=q) is and_
    assert ev("p or q", p=p, q=q) is or_
    assert ev("not p", p=p) is (None if p is None else not p)


def test_null_propagates_through_arithmetic_comparison_in_and_calls() -> None:
    for text in ("a + 1", "a * 2", "-a", "a > 1", "a == 1", "a in [1, 2]", "a in [1..3]",
                 "abs(a)", "round(a, 1)", "days_between(d1, d2)", "len(codes)"):
        assert ev(text) is None, text
    assert ev("a is null") is True and ev("a is not null") is False
    assert ev("a is null", a=0) is False
    assert ev("coalesce(a, b, 7)", b=3) == 3 and ev("coalesce(a, b)") is None
    assert ev("min(a, b, 5)", b=9) == 5 and ev("max(a, 2)") == 2
    # SQL: not found in a list holding null is unknown, found is true
    assert ev("tag.grade in ['A', null]", tag__grade="B") is None
    assert ev("tag.grade in ['A', null]", tag__grade="A") is True
    assert ev("tag.grade not in ['A', null]", tag__grade="B") is None
    expr = compile_expression("a > 1", SCHEMA)
    assert expr.test({}) is False and expr.test({"a": 2}) is True


def test_division_by_zero_is_null() -> None:
    assert ev("a / b", a=1, b=0) is None
    assert ev("a / 0", a=1) is None
    assert ev("app.amount / b", app__amount=Decimal("5"), b=0) is None
    assert ev("coalesce(a / b, 0)", a=1, b=0) == 0
    assert ev("a / b", a=1, b=4) == 0.25


def test_ranges_lists_and_not_in() -> None:
    for v, inside in [(17, False), (18, True), (65, True), (66, False)]:
        assert ev("a in [18..65]", a=v) is inside
    assert ev("a in (0..1]", a=0) is False and ev("a in (0..1]", a=1) is True
    assert ev("a in [0..1)", a=1) is False and ev("a not in [0..1)", a=1) is True
    assert ev("tag.grade in ['C', 'D']", tag__grade="D") is True
    assert ev("'x' in codes", codes=["x"]) is True and ev("'y' in codes", codes=["x"]) is False
    assert ev("a in [b..c]", a=5, b=1, c=9) is True and ev("a in [b..c]", a=5, b=1) is None


def test_decimal_literals_are_exact_next_to_decimals() -> None:
    assert ev("app.amount * 0.1", app__amount=Decimal("3")) == Decimal("0.3")
    assert ev("app.amount >= 0.1", app__amount=Decimal("0.1")) is True
    assert ev("app.amount + a", app__amount=Decimal("0.1"), a=0.2) == Decimal("0.3")
    assert compile_expression("app.amount * 2", SCHEMA).type == "decimal"
    assert compile_expression("a * 0.5", SCHEMA).type == "number"
    assert ev("a * 0.5", a=3) == 1.5


def test_functions_and_dates() -> None:
    assert ev("days_between(date('2025-01-01'), date('2025-03-01'))") == 59
    assert ev("days_between(d1, d2)", d1=date(2025, 1, 31), d2=date(2025, 1, 1)) == -30
    assert ev("add_days(d1, 30)", d1=date(2025, 1, 31)) == date(2025, 3, 2)
    assert ev("d1 < date('2025-02-01')", d1=date(2025, 1, 31)) is True
    assert ev("round(2.5)") == 3 and ev("round(-2.5)") == -3  # half away from zero
    assert ev("round(app.amount, 2)", app__amount=Decimal("1.005")) == Decimal("1.01")
    assert ev("abs(-3) + len('abc') + len(codes)", codes=["a"]) == 7
    assert ev("upper(tag.grade) == 'B'", tag__grade="b") is True


def test_constants_fold_and_missing_inputs_are_null() -> None:
    expr = compile_expression("a > 2 * 3 + 1", SCHEMA)
    assert expr.names == frozenset({"a"})
    assert expr.evaluate({"a": 8}) is True and expr.evaluate({"a": 7}) is False
    assert expr.evaluate({}) is None
    assert compile_expression("1 + 1", SCHEMA).evaluate({}) == 2
