"""The compiled closures agree with a tiny reference interpreter on random expressions.

The reference is written here, independently: it walks a tuple tree with the documented null
rules; the tree is rendered to text with full parentheses, parsed and compiled by the package.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.engine.strategy.expr import compile_expression, parse, unparse

SCHEMA = {"x": "number", "y": "number", "z": "number", "p": "bool", "q": "bool"}
NUMS = st.one_of(st.integers(-5, 5).map(lambda v: ("lit", v)),
                 st.sampled_from([("var", "x"), ("var", "y"), ("var", "z")]))


def numeric(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return NUMS
    sub = numeric(depth - 1)
    return st.one_of(NUMS, st.tuples(st.sampled_from(["+", "-", "*", "/"]), sub, sub),
                     st.tuples(st.just("neg"), sub))


def boolean(depth: int) -> st.SearchStrategy:
    leaf = st.one_of(
        st.sampled_from([("var", "p"), ("var", "q"), ("lit", True), ("lit", None)]),
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numeric(2), numeric(2)),
        st.tuples(st.just("isnull"), numeric(1)),
        st.tuples(st.just("range"), numeric(1), st.integers(-3, 0), st.integers(0, 3)),
    )
    if depth == 0:
        return leaf
    sub = boolean(depth - 1)
    return st.one_of(leaf, st.tuples(st.sampled_from(["and", "or"]), sub, sub),
                     st.tuples(st.just("not"), sub))


def text(t: tuple) -> str:
    kind = t[0]
    if kind == "lit":
        return {True: "true", False: "false", None: "null"}.get(t[1], str(t[1])) \
            if not isinstance(t[1], int) or isinstance(t[1], bool) else f"({t[1]})"
    if kind == "var":
        return t[1]
    if kind == "neg":
        return f"(-{text(t[1])})"
    if kind == "not":
        return f"(not {text(t[1])})"
    if kind == "isnull":
        return f"({text(t[1])} is null)"
    if kind == "range":
        return f"({text(t[1])} in [{t[2]}..{t[3]}])"
    return f"({text(t[1])} {kind} {text(t[2])})"


def ref(t: tuple, env: dict) -> object:
    kind = t[0]
    if kind == "lit":
        return t[1]
    if kind == "var":
        return env.get(t[1])
    if kind == "neg":
        v = ref(t[1], env)
        return None if v is None else -v
    if kind == "not":
        v = ref(t[1], env)
        return None if v is None else not v
    if kind == "isnull":
        return ref(t[1], env) is None
    if kind == "range":
        v = ref(t[1], env)
        return None if v is None else t[2] <= v <= t[3]
    if kind in ("and", "or"):
        a, b = ref(t[1], env), ref(t[2], env)
        stop = kind == "or"  # the value that decides alone
        if a is stop or b is stop:
            return stop
        return None if a is None or b is None else not stop
    a, b = ref(t[1], env), ref(t[2], env)
    if a is None or b is None:
        return None
    if kind == "/":
        return None if b == 0 else a / b
    ops = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "<": lambda: a < b,
           "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b,
           "==": lambda: a == b, "!=": lambda: a != b}
    return ops[kind]()


ENV = st.fixed_dictionaries({}, optional={
    "x": st.integers(-4, 4), "y": st.integers(-4, 4), "z": st.integers(-4, 4),
    "p": st.booleans(), "q": st.booleans()})


@settings(max_examples=300)
@given(tree=st.one_of(numeric(3), boolean(2)), env=ENV)
def test_compiled_equals_reference(tree: tuple, env: dict) -> None:
    source = text(tree)
    compiled = compile_expression(source, SCHEMA)
    got, want = compiled.evaluate(env), ref(tree, env)
    if isinstance(want, float) and isinstance(got, float):
        assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), source
    else:
        assert got == want and type(got) is type(want), (source, env, got, want)
    # the canonical text (minimal parentheses) means the same thing
    again = compile_expression(unparse(parse(source)), SCHEMA).evaluate(env)
    assert again == got or (isinstance(got, float) and abs(again - got) < 1e-9)


def test_package_never_evaluates_text() -> None:
    """The safety rule: no eval/exec/compile() anywhere in the strategy package."""
    root = Path(__file__).resolve().parents[2] / "src" / "xiaowei" / "engine" / "strategy"
    offenders = []
    for path in root.rglob("*.py"):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"(?<![\w.])(?<!def )(eval|exec|compile)\s*\(|__import__|importlib", code):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert list(root.rglob("*.py")), "the package was not found"
    assert offenders == []
