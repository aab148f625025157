"""Decision tables: unary-test cells, hit policies, traces, load errors, plugin functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.engine.strategy import DecisionTable, Row, TableError
from xiaowei.engine.strategy.expr import ExprError, FunctionRegistry, compile_expression
from xiaowei.engine.strategy.expr.cells import compile_cell
from xiaowei.engine.strategy.expr.functions import DEFAULT_FUNCTIONS
from xiaowei.entities.datafiles import parse_yaml

SCHEMA = {"n": "number", "m": "decimal", "s": "string", "b": "bool", "d": "date",
          "lim": "number"}


def cell(text: str, kind: str = "number"):
    return compile_cell(text, kind, SCHEMA, DEFAULT_FUNCTIONS)


def one_column(cells: list[str], kind: str = "number", column: str = "n",
               policy: str = "collect") -> DecisionTable:
    rows = [Row(f"r{i}", [c], {"out": i}) for i, c in enumerate(cells)]
    return DecisionTable.compile(name="t", inputs=[column], outputs=["out"], rows=rows,
                                 schema=SCHEMA, hit_policy=policy)


def rows_met(table: DecisionTable, inputs: dict) -> list[int]:
    return [h.outputs["out"] for h in table.evaluate(inputs).hits]


@pytest.mark.parametrize(("text", "met", "unmet"), [
    ("> 10", [10.5, 11], [10, 9, None]),
    ("<= 3", [3, -1], [3.01, None]),
    ("[18..65]", [18, 40, 65], [17, 65.5, None]),
    ("(0..1]", [0.001, 1], [0, 1.01]),
    ("[0..1)", [0, 0.999], [1]),
    ("(0..1)", [0.5], [0, 1]),
    ("1, 3, [5..6]", [1, 3, 5, 6], [2, 4, 7]),
    ("!= 3", [2, 4], [3, None]),
    ("null", [None], [0]),
    ("null, > 5", [None, 6], [5]),
    ("not(1, 2)", [0, 3], [1, 2, None]),
    ("not([1..2])", [0.9, 2.1], [1, 2, None]),
    ("not(null)", [0, 7], [None]),
    ("-", [None, 0, 99], []),
    ("", [None, 0], []),
    ("-5", [-5], [5]),
    ("< lim", [1], [5, None]),
])
def test_unary_tests_on_numbers_including_range_ends(text: str, met: list, unmet: list) -> None:
    c = cell(text)
    table = one_column([text])
    for v in met:
        assert c.matches(v, {"lim": 3}) is True, (text, v)
        assert rows_met(table, {"n": v, "lim": 3}) == [0], (text, v)
    for v in unmet:
        assert c.matches(v, {"lim": 3}) is False, (text, v)
        assert rows_met(table, {"n": v, "lim": 3}) == [], (text, v)


def test_unary_tests_on_categories_dates_bools_and_decimals() -> None:
    grades = one_column(['"C","D"', 'not("X")', '"A"', "-"], "string", "s")
    assert rows_met(grades, {"s": "C"}) == [0, 1, 3]
    assert rows_met(grades, {"s": "X"}) == [3]
    assert rows_met(grades, {"s": "A"}) == [1, 2, 3]
    assert rows_met(grades, {}) == [3]
    days = one_column(["< date('2025-01-01')", "[date('2025-01-01')..date('2025-12-31')]"],
                      "date", "d")
    assert rows_met(days, {"d": date(2024, 12, 31)}) == [0]
    assert rows_met(days, {"d": date(2025, 12, 31)}) == [1]
    flags = one_column(["true", "false", "-"], "bool", "b")
    assert rows_met(flags, {"b": True}) == [0, 2] and rows_met(flags, {"b": False}) == [1, 2]
    money = one_column(["< 0.1", ">= 0.1"], "decimal", "m")
    assert rows_met(money, {"m": Decimal("0.1")}) == [1]


@pytest.mark.parametrize(("text", "kind", "words"), [
    ("> 'a'", "number", "this column is number; 'a' is string"),
    ("[1..'z']", "number", "'z' is string"),
    ("> true", "bool", "cannot be ordered"),
    ("> null", "number", "write null alone"),
    ("1 2", "number", "expected ','"),
    ("not(1", "number", "expected ',' or ')'"),
    ("> limm", "number", "did you mean 'lim'"),
])
def test_bad_cells_are_refused_with_position(text: str, kind: str, words: str) -> None:
    with pytest.raises(ExprError) as info:
        cell(text, kind)
    assert words in info.value.message
    assert info.value.line == 1 and info.value.column >= 1


ROWS = [
    Row("low", ["< 100", '"A","B"'], {"action": "'pass'", "cap": "n * 2"}),
    Row("mid", ["[100..500]", "-"], {"action": "'review'", "cap": 50}),
    Row("bad", ["-", '"E"'], {"action": "'stop'", "cap": 0}),
    Row("any", ["-", "-"], {"action": "'review'", "cap": 1}),
]


def table(policy: str, **kw: object) -> DecisionTable:
    return DecisionTable.compile(name="limits", inputs=["n", "s"], outputs=["action", "cap"],
                                 rows=ROWS, schema=SCHEMA, hit_policy=policy, **kw)


def test_first_hit_policy() -> None:
    t = table("first")
    r = t.evaluate({"n": 50, "s": "A"})
    assert [h.row for h in r.hits] == ["low"] and r.outputs == {"action": "pass", "cap": 100}
    assert t.evaluate({"n": 300, "s": "E"}).first.row == "mid"
    assert t.evaluate({"n": 900, "s": "E"}).first.row == "bad"
    assert t.evaluate({"n": 900, "s": "C"}).first.index == 3


def test_collect_returns_all_hits_in_table_order() -> None:
    t = table("collect")
    assert [h.row for h in t.evaluate({"n": 50, "s": "A"}).hits] == ["low", "any"]
    assert [h.row for h in t.evaluate({"n": 100, "s": "E"}).hits] == ["mid", "bad", "any"]


def test_priority_returns_the_highest_ranked_output() -> None:
    t = table("priority", priority={"action": ["stop", "review", "pass"]})
    assert t.evaluate({"n": 50, "s": "A"}).first.row == "any"  # review outranks pass
    assert t.evaluate({"n": 100, "s": "E"}).first.row == "bad"
    assert t.evaluate({"n": 100, "s": "A"}).first.row == "mid"  # ties go to the earlier row
    dynamic = [Row("x", ["-"], {"action": "s"}), Row("y", ["> 1"], {"action": "'stop'"})]
    t = DecisionTable.compile(name="d", inputs=["n"], outputs=["action"], rows=dynamic,
                              schema=SCHEMA, hit_policy="priority",
                              priority={"action": ["stop", "go"]})
    assert t.evaluate({"n": 0, "s": "go"}).first.row == "x"
    assert t.evaluate({"n": 2, "s": "go"}).first.row == "y"


def test_no_hit_and_null_inputs() -> None:
    t = DecisionTable.compile(name="t", inputs=["n"], outputs=["o"], hit_policy="first",
                              rows=[Row("r", ["> 1"], {"o": 1})], schema=SCHEMA)
    assert t.evaluate({"n": 0}).hits == () and t.evaluate({"n": 0}).outputs is None
    assert t.evaluate({}).first is None
    assert table("collect").evaluate({"s": None}).hits[-1].row == "any"


def test_trace_records_inputs_matches_outputs_and_time() -> None:
    t = table("first")
    r = t.evaluate({"n": 50, "s": "A", "unused": 1}, trace=True)
    assert r.trace is not None
    assert r.trace.inputs == {"n": 50, "s": "A"}
    assert r.trace.matched == ("low", "any")
    assert r.trace.outputs == ({"action": "pass", "cap": 100},)
    assert r.trace.micros > 0 and r.trace.table == "limits"
    assert t.evaluate({"n": 50, "s": "A"}).trace is None
    p = table("priority", priority={"action": ["stop", "review", "pass"]})
    assert p.evaluate({"n": 100, "s": "E"}, trace=True).trace.matched == ("mid", "bad", "any")


def test_outputs_are_read_only() -> None:
    hit = table("first").evaluate({"n": 900, "s": "E"}).first
    with pytest.raises(TypeError):
        hit.outputs["cap"] = 5  # type: ignore[index]


def test_table_problems_are_all_reported_with_file_line_column() -> None:
    text = ("tables:\n"
            "  - name: t\n"
            "    hit_policy: first\n"
            "    inputs: [n, s]\n"
            "    outputs: [o]\n"
            "    rows:\n"
            "      - id: a\n"
            "        when: ['> x1', '-']\n"
            "        then: {o: 1}\n"
            "      - id: a\n"
            "        when: ['-', '> 3']\n"
            "        then: {o: n +}\n")
    loaded = parse_yaml(text, "t.yaml")
    with pytest.raises(TableError) as info:
        DecisionTable.from_spec(loaded.data["tables"][0], SCHEMA,
                                source=(loaded, text.splitlines()), path=("tables", 0))
    lines = str(info.value).splitlines()
    assert lines[0].startswith("t.yaml:8:19: tables.0.rows.0.when.0: unknown name 'x1'")
    assert any(line.startswith("t.yaml:10: tables.0.rows.1.id: duplicate row id") for line in lines)
    assert any("t.yaml:11:" in line and "this column is string" in line for line in lines)
    assert any("t.yaml:12:" in line and "expected a value" in line for line in lines)
    assert len(lines) == 4


@pytest.mark.parametrize(("kw", "words"), [
    ({"hit_policy": "unique"}, "unknown hit policy"),
    ({"hit_policy": "priority"}, "needs a priority order"),
    ({"hit_policy": "priority", "priority": {"o": [2]}}, "1 is not in the priority order"),
    ({"hit_policy": "first", "priority": {"o": [1]}}, "needs hit_policy: priority"),
])
def test_policy_problems(kw: dict, words: str) -> None:
    with pytest.raises(TableError, match=words):
        DecisionTable.compile(name="t", inputs=["n"], outputs=["o"], schema=SCHEMA,
                              rows=[Row("r", ["-"], {"o": 1})], **kw)


def test_row_shape_problems() -> None:
    with pytest.raises(TableError) as info:
        DecisionTable.compile(name="t", inputs=["n", "s"], outputs=["o"], schema=SCHEMA,
                              rows=[Row("r", ["-"], {"p": 1})])
    message = str(info.value)
    assert "1 cells for 2 input columns" in message and "unknown outputs ['p']" in message
    assert "output 'o' has no value" in message


def test_plugin_functions_are_registered_in_code_and_otherwise_refused() -> None:
    registry = FunctionRegistry(dict(DEFAULT_FUNCTIONS._functions))

    def clamp(x: float, lo: float, hi: float) -> float:
        return max(lo, min(hi, x))

    with pytest.raises(ExprError, match="unknown function 'clamp'"):
        compile_expression("clamp(n, 0, 1)", SCHEMA, functions=registry)
    registry.register("clamp", clamp, "(number, number, number) -> number")
    expr = compile_expression("clamp(n, 0, 1)", SCHEMA, functions=registry)
    assert expr.evaluate({"n": 5}) == 1 and expr.evaluate({}) is None
    with pytest.raises(ExprError, match=r"clamp\(\) argument 2 must be number"):
        compile_expression("clamp(n, 'a', 1)", SCHEMA, functions=registry)
    with pytest.raises(ExprError, match="takes 3 argument"):
        compile_expression("clamp(n)", SCHEMA, functions=registry)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("min", clamp, "(number) -> number")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("clamp", lambda x: x, "(number) -> number")
    with pytest.raises(ValueError, match="unknown type 'money'"):
        registry.register("f", clamp, "(money) -> number")
    with pytest.raises(ExprError, match="unknown function 'clamp'"):
        compile_expression("clamp(n, 0, 1)", SCHEMA)  # the default registry is untouched
    t = DecisionTable.compile(name="t", inputs=["clamp(n, 0, 10)"], outputs=["o"],
                              schema=SCHEMA, functions=registry,
                              rows=[Row("r", ["[10..10]"], {"o": "clamp(n, 0, 3)"})])
    assert t.evaluate({"n": 50}).outputs == {"o": 3}


CELLS = ["-", "> 2", "<= -1", "[0..3]", "(0..3)", "[-2..0)", "1, 2", "not(0, 1)", "null",
         "null, >= 3", "not([1..2])", "!= 0", "< lim", "[lim..4]", "not(null)", "0"]


@settings(max_examples=150)
@given(grid=st.lists(st.lists(st.sampled_from(CELLS), min_size=2, max_size=2), min_size=1,
                     max_size=12),
       values=st.lists(st.fixed_dictionaries({}, optional={
           "n": st.one_of(st.integers(-3, 5), st.sampled_from([0.5, 2.5, -1.5])),
           "lim": st.integers(-2, 4)}), min_size=1, max_size=6),
       policy=st.sampled_from(["first", "collect"]))
def test_bit_masks_agree_with_cell_by_cell_evaluation(grid: list, values: list,
                                                      policy: str) -> None:
    rows = [Row(f"r{i}", cells, {"out": i}) for i, cells in enumerate(grid)]
    t = DecisionTable.compile(name="t", inputs=["n", "n * 1"], outputs=["out"], rows=rows,
                              schema=SCHEMA, hit_policy=policy)
    compiled = [[cell(c) for c in cells] for cells in grid]
    for inputs in values:
        v = inputs.get("n")
        want = [i for i, cs in enumerate(compiled) if all(c.matches(v, inputs) for c in cs)]
        if policy == "first":
            want = want[:1]
        assert rows_met(t, inputs) == want, (grid, inputs)
