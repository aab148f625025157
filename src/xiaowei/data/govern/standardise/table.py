"""One declarative spec per table, run on a whole table (DuckDB) or on one record (Python).

A spec maps a column to the rule that standardises it::

    {"uscc": "uscc", "name": "company_name", "registered_capital": "amount_text",
     "established": "date_text", "sales": "amount_in_unit:unit"}

The result keeps every column of the source, replaces each spec'd column by its standardised
value, adds the extra columns a rule yields (``name_display``, ``name_key``,
``address_county_code`` …) and a ``std_issues`` list of ``'column: reason'`` strings — empty
when the row is clean — on which the governance step quarantines rows. Missing values are not
issues here. Table and column names must match ``^[a-z_][a-z0-9_]*$`` and are quoted; values
never enter SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from xiaowei.data.govern.standardise import amounts, company_names, dates, identifiers, text
from xiaowei.data.govern.standardise.addresses import Region, address_region
from xiaowei.data.govern.standardise.outcome import Standardised
from xiaowei.data.govern.standardise.runtime import register

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
ISSUES = "std_issues"


@dataclass(frozen=True)
class Rule:
    """A rule's two runtimes: the DuckDB function and the Python function, and its outputs."""

    sql_function: str
    python: Callable[..., Standardised[Any]]
    extra: tuple[tuple[str, str], ...] = ()  # (column suffix, struct field or macro)
    takes_unit: bool = False


RULES: dict[str, Rule] = {
    "text": Rule("std_text", text.text),
    "person_name": Rule("std_person_name", text.person_name),
    "uscc": Rule("std_uscc", identifiers.uscc),
    "resident_id": Rule("std_resident_id", identifiers.resident_id),
    "phone": Rule("std_phone", identifiers.phone),
    "date_text": Rule("std_date_text", dates.date_text),
    "amount_text": Rule("std_amount_text", amounts.amount_text),
    "amount_in_unit": Rule("std_amount_in_unit", amounts.amount_in_unit, takes_unit=True),
    "company_name": Rule("std_company_name", company_names.company_name, (
        ("display", "std_company_display_value"), ("key", "std_company_key_value"))),
    "address": Rule("std_address_region", address_region,
                    tuple((f, f) for f in Region._fields)),
}


def _checked(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} must match ^[a-z_][a-z0-9_]*$, got {name!r}")
    return name


def _q(name: str) -> str:
    return f'"{name}"'


def parse_spec(spec: Mapping[str, str]) -> dict[str, tuple[Rule, str | None]]:
    """Column → (rule, unit column or None); a ValueError names the bad entry."""
    parsed: dict[str, tuple[Rule, str | None]] = {}
    for column, rule_text in spec.items():
        _checked(column, "column name")
        rule_name, _, unit = str(rule_text).partition(":")
        rule = RULES.get(rule_name)
        if rule is None:
            raise ValueError(f"column {column!r}: unknown rule {rule_name!r}; "
                             f"known: {', '.join(sorted(RULES))}")
        if rule.takes_unit != bool(unit):
            need = "needs 'amount_in_unit:<unit column>'" if rule.takes_unit else "takes no ':'"
            raise ValueError(f"column {column!r}: rule {rule_name!r} {need}")
        parsed[column] = (rule, _checked(unit, "unit column") if unit else None)
    return parsed


def standardise_table(con: duckdb.DuckDBPyConnection, source_table: str, target_table: str,
                      spec: Mapping[str, str]) -> int:
    """Write ``target_table`` from ``source_table`` by ``spec``; returns the rows with issues."""
    source, target = _checked(source_table, "source table"), _checked(target_table, "target table")
    if source == target:
        raise ValueError("target table must differ from the source table")
    parsed = parse_spec(spec)
    columns = {row[0] for row in con.execute(f"DESCRIBE {_q(source)}").fetchall()}
    for column, (_rule, unit) in parsed.items():
        for needed in (column, unit):
            if needed is not None and needed not in columns:
                raise ValueError(f"column {needed!r} is not in table {source!r}")
    register(con)
    computed, replaced, extra, issues = [], [], [], []
    for i, (column, (rule, unit)) in enumerate(parsed.items()):
        tmp = _q(f"__std_{i}")
        args = _q(column) + (f", {_q(unit)}" if unit else "")
        computed.append(f"{rule.sql_function}({args}) AS {tmp}")
        replaced.append(f"{tmp}.value AS {_q(column)}" if not rule.extra or rule.sql_function
                        != "std_address_region" else f"std_clean_text({_q(column)}) AS "
                        f"{_q(column)}")
        for suffix, field in rule.extra:
            expr = f"{field}({_q(column)})" if field.startswith("std_") else f"{tmp}.{field}"
            extra.append(f"{expr} AS {_q(f'{column}_{suffix}')}")
        issues.append(f"CASE WHEN {tmp}.reason IS NOT NULL THEN '{column}: ' || {tmp}.reason END")
    hidden = ", ".join(_q(f"__std_{i}") for i in range(len(parsed)))
    con.execute(
        f"CREATE OR REPLACE TABLE {_q(target)} AS SELECT * EXCLUDE ({hidden}) "
        f"REPLACE ({', '.join(replaced)}), {', '.join(extra) + ', ' if extra else ''}"
        f"list_filter([{', '.join(issues)}], lambda x: x IS NOT NULL) AS {ISSUES} "
        f"FROM (SELECT *, {', '.join(computed)} FROM {_q(source)})"
    )
    query = f"SELECT count(*) FROM {_q(target)} WHERE len({ISSUES}) > 0"
    return int(con.execute(query).fetchall()[0][0])


def standardise_record(record: Mapping[str, Any], spec: Mapping[str, str]) -> dict[str, Any]:
    """The online twin of ``standardise_table`` for one record (a dict of column → value)."""
    out = dict(record)
    issues: list[str] = []
    for column, (rule, unit) in parse_spec(spec).items():
        args = (record.get(column),) + ((record.get(unit),) if unit else ())
        result = rule.python(*args)
        if rule.sql_function == "std_address_region":
            out[column] = text.clean_text(record.get(column))
            for suffix, field in rule.extra:
                out[f"{column}_{suffix}"] = getattr(result.value, field, None)
        else:
            out[column] = result.value
            for suffix, function in rule.extra:
                extra_rule = _EXTRA_PYTHON[function]
                out[f"{column}_{suffix}"] = extra_rule(record.get(column)).value
        if result.reason is not None:
            issues.append(f"{column}: {result.reason}")
    out[ISSUES] = issues
    return out


_EXTRA_PYTHON: dict[str, Callable[[str | None], Standardised[str]]] = {
    "std_company_display_value": company_names.company_name_display,
    "std_company_key_value": company_names.company_name_key,
}
