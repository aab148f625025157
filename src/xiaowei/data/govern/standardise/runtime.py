"""The batch runtime: every rule installed in a DuckDB connection, under one name each.

SQL macros where SQL can say the rule (text, person names, dates, amounts, company names);
vectorised Python UDFs (Arrow in, Arrow out) where the rule is a library call or a name index
(identifiers, addresses). ``register`` is idempotent: macros are ``CREATE OR REPLACE`` and a
UDF already present is replaced, so any step may call it on a shared connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.data.govern.standardise import amounts, company_names, dates, text
from xiaowei.data.govern.standardise.addresses import Region, address_region
from xiaowei.data.govern.standardise.identifiers import UDF_RULES
from xiaowei.data.govern.standardise.outcome import Standardised

_STRUCT_TEXT = "STRUCT(value VARCHAR, reason VARCHAR)"
_REGION_FIELDS = Region._fields
_STRUCT_REGION = "STRUCT(" + ", ".join(f"{f} VARCHAR" for f in _REGION_FIELDS) + ", reason VARCHAR)"
_ARROW_TEXT = pa.struct([("value", pa.string()), ("reason", pa.string())])
_ARROW_REGION = pa.struct([(f, pa.string()) for f in (*_REGION_FIELDS, "reason")])


def _text_udf(rule: Callable[[str | None], Standardised[str]]) -> Callable[[Any], pa.Array]:
    def udf(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        out: list[dict[str, str | None]] = []
        for value in values.to_pylist():
            result = rule(value)
            out.append({"value": result.value, "reason": result.reason})
        return pa.array(out, type=_ARROW_TEXT)

    return udf


def _region_udf(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    out: list[dict[str, str | None]] = []
    empty = dict.fromkeys(_REGION_FIELDS)
    for value in values.to_pylist():
        result = address_region(value)
        row = dict(empty) if result.value is None else result.value._asdict()
        row["reason"] = result.reason
        out.append(row)
    return pa.array(out, type=_ARROW_REGION)


def macro_statements() -> Iterable[str]:
    """Every ``CREATE OR REPLACE MACRO`` in dependency order."""
    yield from text.sql_macros()
    yield from dates.sql_macros()
    yield from amounts.sql_macros()
    yield from company_names.sql_macros()


def _replace_function(con: duckdb.DuckDBPyConnection, name: str, fn: Callable[..., Any],
                      returns: str) -> None:
    # Not registered on this connection yet: nothing to remove.
    with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
        con.remove_function(name)
    con.create_function(name, fn, ["VARCHAR"], returns, type="arrow",
                        null_handling="special", side_effects=False)


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Install every standardising macro and UDF in ``con`` (safe to call again)."""
    for statement in macro_statements():
        con.execute(statement)
    for name, rule in UDF_RULES.items():
        _replace_function(con, name, _text_udf(rule), _STRUCT_TEXT)
    _replace_function(con, "std_address_region", _region_udf, _STRUCT_REGION)
