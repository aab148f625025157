"""Every refusal happens at load, says why, and points at line and column."""

from __future__ import annotations

import pytest

from xiaowei.engine.strategy.expr import ExprError, compile_expression, locate, validate_inputs
from xiaowei.entities.datafiles import parse_yaml

SCHEMA = {"tag.tax_sales_12m": "number", "tag.grade": "string", "app.amount": "decimal",
          "flag": "bool", "day": "date", "codes": "list[string]"}


def refuse(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expression(text, SCHEMA)
    return info.value


def test_unknown_name_suggests_the_closest() -> None:
    err = refuse("tag.tax_sale_12m > 3")
    assert (err.line, err.column) == (1, 1)
    assert "unknown name 'tag.tax_sale_12m'" in err.message
    assert "did you mean 'tag.tax_sales_12m'?" in err.message
    err = refuse("1 + zzz")
    assert err.column == 5 and "did you mean" not in err.message


@pytest.mark.parametrize(("text", "column", "words"), [
    ("'a' > 3", 5, "cannot compare string with number"),
    ("tag.grade + 1", 1, "'+' needs decimal or number"),
    ("flag < true", 6, "'<' needs numbers, strings or dates"),
    ("not app.amount", 5, "'not' needs bool"),
    ("flag and 1", 10, "'and' needs bool"),
    ("app.amount in ['a']", 1, "cannot look for decimal in a list of string"),
    ("app.amount in [1..'z']", 19, "range end"),
    ("day in tag.grade", 8, "'in' needs a list or a range"),
    ("[1, 'a']", 5, "list items must share one type"),
    ("days_between(day, 3)", 19, "argument 2 must be date"),
    ("min(1, 'a')", 8, "min() argument 2 is string"),
    ("date(tag.grade)", 1, "date() takes a literal"),
    ("date('2025-02-30')", 1, "cannot evaluate constant"),
])
def test_type_mismatches_are_refused(text: str, column: int, words: str) -> None:
    err = refuse(text)
    assert words in err.message, err.message
    assert (err.line, err.column) == (1, column)


@pytest.mark.parametrize(("text", "words"), [
    ("round(1, 2, 3)", "round() takes 1 to 2 argument(s), 3 given"),
    ("abs()", "abs() takes 1 argument(s), 0 given"),
    ("coalesce(1)", "coalesce() takes at least 2 argument(s), 1 given"),
    ("mni(1, 2)", "unknown function 'mni' (did you mean 'min'?)"),
    ("system('x')", "unknown function 'system'"),
])
def test_arity_and_unknown_functions(text: str, words: str) -> None:
    assert words in refuse(text).message


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("1 +", 1, 4, "expected a value"),
    ("a < b < c", 1, 7, "comparisons do not chain"),
    ("(1 + 2", 1, 7, "expected ')'"),
    ("'open", 1, 1, "unexpected character"),
    ("x.__class__ ; 1", 1, 13, "unexpected character ';'"),
    ("a is 3", 1, 6, "expected 'null'"),
    ("", 1, 1, "empty"),
    ("tag.grade ==\n  'A' and\n  (flag or\n   ", 4, 4, "expected a value"),
    ("flag and\n  tag.grade in ['A'\n  'B']", 3, 3, "expected ',' or ']'"),
    ("[1..2]", 1, 3, "a range needs 'in'"),
])
def test_syntax_errors_carry_line_and_column(text: str, line: int, column: int,
                                             words: str) -> None:
    err = refuse(text)
    assert words in err.message, err.message
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"{line}:{column}: ")


def test_multi_line_type_error_points_into_the_right_line() -> None:
    err = refuse("tag.grade == 'A'\n  and tag.tax_sales_12m > 'big'")
    assert (err.line, err.column) == (2, 25)  # the operator


def test_expected_type_is_enforced() -> None:
    with pytest.raises(ExprError, match="expected a bool expression, but this is number"):
        compile_expression("tag.tax_sales_12m * 2", SCHEMA, expect="bool")
    assert compile_expression("flag", SCHEMA, expect="bool").type == "bool"


def test_schema_types_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown type 'money'"):
        compile_expression("x", {"x": "money"})


def test_yaml_location_of_plain_and_block_expressions() -> None:
    text = ("rules:\n"
            "  - name: first\n"
            "    when: tag.grade == 'A' and tag.tax_sale_12m > 3\n"
            "  - name: second\n"
            "    when: |\n"
            "      tag.grade == 'A'\n"
            "        and flag > 2\n")
    loaded = parse_yaml(text, "rules.yaml")
    lines = text.splitlines()
    for path, expected in [((("rules", 0, "when")), "rules.yaml:3:32: unknown name"),
                           ((("rules", 1, "when")), "rules.yaml:7:18: cannot compare")]:
        source = loaded.data["rules"][path[1]]["when"]
        with pytest.raises(ExprError) as info:
            compile_expression(source, SCHEMA)
        located = locate(loaded, lines, path, info.value)
        assert str(located).startswith(expected), str(located)


def test_validate_inputs_reports_wrong_python_types() -> None:
    problems = validate_inputs(SCHEMA, {"tag.tax_sales_12m": "12", "flag": 1, "tag.grade": "A"})
    assert len(problems) == 2
    assert any(p.startswith("tag.tax_sales_12m: expected number") for p in problems)
    assert validate_inputs(SCHEMA, {"tag.tax_sales_12m": 1.5, "flag": True}) == []
