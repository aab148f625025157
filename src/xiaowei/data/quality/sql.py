"""The SQL that measures one raw source, written from its contract.

Why generated SQL and not Python over rows: at a bank's size a source has millions of rows,
and DuckDB answers every per-column count, every reason histogram, the duplicate counts and
the freshness figures in one aggregate scan. Only the identifier checks, which are Python
UDFs (python-stdnum, phonenumbers), run apart: once per *distinct* value, because the same
USCC appears on thousands of invoices.

Every reason expression follows the loader's order — type, then contract checks, then the
standardisation rule — and the first problem wins, so a value is counted invalid once.
Constants from a contract are quoted here; no row value ever becomes SQL text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xiaowei.data.quality.rules import (
    REASON_NEITHER_ID,
    TYPE_REASON,
    UDF_RULES,
    UNIT_COLUMNS,
    Thresholds,
    standard_rules,
)
from xiaowei.data.sources.contract import ColumnSpec, SourceContract
from xiaowei.store.analytic import quote_identifier

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_DUCK_TYPE = {"int": "BIGINT", "float": "DOUBLE", "decimal": "DECIMAL(18, 2)", "date": "DATE",
              "timestamp": "TIMESTAMP", "bool": "BOOLEAN"}
_TEXT_TYPES = {"VARCHAR"}
ROW_ALIAS = "source_row"


def lit(value: object) -> str:
    """A SQL literal of a contract constant (a pattern, a bound, an allowed value)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    """One contract column as it sits in the raw table."""

    spec: ColumnSpec
    raw_type: str  # DuckDB's type of the loaded column
    ref: str | None = None  # another name for the value (the distinct-value query's ``v``)

    @property
    def sql(self) -> str:
        return self.ref or quote_identifier(self.spec.name, "column")

    @property
    def is_text(self) -> bool:
        return self.raw_type in _TEXT_TYPES

    @property
    def typed(self) -> str:
        """The value in its contract type (text that will not type becomes NULL)."""
        target = _DUCK_TYPE.get(self.spec.type)
        if target is None or not self.is_text:
            return self.sql
        return f"TRY_CAST(trim({self.sql}) AS {target})"

    @property
    def present(self) -> str:
        if self.is_text:
            return f"({self.sql} IS NOT NULL AND trim({self.sql}) <> '')"
        return f"({self.sql} IS NOT NULL)"


def _contract_checks(column: Column) -> list[tuple[str, str]]:
    """(condition that is true for a bad value, reason) in the loader's order."""
    spec, value = column.spec, column.typed
    checks: list[tuple[str, str]] = []
    if spec.type == "month":
        checks.append((f"NOT regexp_matches({column.sql}, {lit(_MONTH)})", TYPE_REASON["month"]))
    elif spec.type in _DUCK_TYPE and column.is_text:
        checks.append((f"{value} IS NULL", TYPE_REASON[spec.type]))
    if spec.type == "float" and column.raw_type in {"DOUBLE", "FLOAT", "VARCHAR"}:
        checks.append((f"NOT isfinite({value})", "not a finite number"))
    if spec.regex is not None:
        checks.append((f"NOT regexp_matches({column.sql}, {lit(spec.regex)})",
                       f"does not match {spec.regex}"))
    if spec.min is not None:
        checks.append((f"{value} < {lit(spec.bound(spec.min))}", f"below the minimum {spec.min}"))
    if spec.max is not None:
        checks.append((f"{value} > {lit(spec.bound(spec.max))}", f"above the maximum {spec.max}"))
    if spec.allowed is not None:
        values = ", ".join(lit(v) for v in spec.allowed)
        checks.append((f"{value} NOT IN ({values})", "not one of the allowed values"))
    return checks


def _standard_reason(rule: str, value: str, unit: str | None) -> str:
    """SQL giving the standardisation rule's reason for refusing ``value`` (NULL if none)."""
    if rule == "uscc_or_resident_id":
        return (f"CASE WHEN (std_uscc({value})).value IS NULL AND "
                f"(std_resident_id({value})).value IS NULL THEN {lit(REASON_NEITHER_ID)} END")
    if rule == "amount_in_unit":
        return f"(std_amount_in_unit({value}, {unit or 'NULL'})).reason"
    return f"(std_{rule}({value})).reason"


def reason_expr(column: Column, rule: str | None, unit: str | None = None) -> str | None:
    """SQL giving why a present value is invalid, NULL when valid or missing; None if no
    rule applies to the column."""
    whens = [f"WHEN {condition} THEN {lit(reason)}" for condition, reason
             in _contract_checks(column)]
    if rule is not None:
        refused = _standard_reason(rule, column.sql, unit)
        whens.append(f"WHEN {refused} IS NOT NULL THEN {refused}")
    if not whens:
        return None
    return f"CASE WHEN NOT {column.present} THEN NULL " + " ".join(whens) + " END"


@dataclass(frozen=True)
class SourceSql:
    """The queries for one source and how to read their answers."""

    main: str
    outputs: list[str]  # names of the main query's columns, in order
    identifiers: str | None  # (column, reason, rows) over distinct values, or None
    checked: frozenset[str]  # columns a validity rule applies to


def _business_dates(contract: SourceContract, columns: dict[str, Column]
                    ) -> tuple[str, str] | None:
    """(first day, last day) of the period each row is about, as SQL; None if undeclared."""
    rule = contract.business_date
    if rule is None or rule.column not in columns:
        return None
    column = columns[rule.column]
    kind = column.spec.type
    if kind == "date":
        return column.typed, column.typed
    if kind == "timestamp":
        return f"CAST({column.typed} AS DATE)", f"CAST({column.typed} AS DATE)"
    if kind == "month":
        start = f"TRY_CAST({column.sql} || '-01' AS DATE)"
        return start, f"last_day({start})"
    if kind == "int":
        year = f"CASE WHEN {column.typed} BETWEEN 1 AND 9999 THEN CAST({column.typed} AS INT) END"
        return f"make_date({year}, 1, 1)", f"make_date({year}, 12, 31)"
    formats = ", ".join(lit(f) for f in rule.formats or [])
    day = f"CAST(try_strptime(trim({column.sql}), [{formats}]) AS DATE)"
    return day, day


def _known_at(contract: SourceContract, columns: dict[str, Column],
              period: tuple[str, str] | None) -> str | None:
    rule = contract.known_at
    if rule.column is not None:
        return f"CAST({columns[rule.column].typed} AS DATE)" if rule.column in columns else None
    if rule.business_date_plus_days is not None and period is not None:
        return f"({period[0]} + {int(rule.business_date_plus_days)})"
    return None  # known on load: the raw table does not keep the day


def source_sql(contract: SourceContract, raw_types: dict[str, str], as_of: dt.date,
               thresholds: Thresholds) -> SourceSql:
    """The main aggregate and the identifier query for one source's raw table."""
    table = f"raw.{quote_identifier(contract.source, 'table')}"
    columns = {s.name: Column(s, raw_types[s.name]) for s in contract.columns
               if s.name in raw_types}
    rules = standard_rules(contract)
    items: list[tuple[str, str]] = [("rows", "count(*)")]
    udf_parts: list[str] = []
    checked: set[str] = set()
    for name, column in columns.items():
        items.append((f"present:{name}", f"count(*) FILTER (WHERE {column.present})"))
        rule = rules.get(name)
        unit_name = UNIT_COLUMNS.get((contract.source, name))
        unit = columns[unit_name].sql if unit_name in columns else None
        if rule in UDF_RULES:
            reason = reason_expr(Column(column.spec, column.raw_type, "v"), rule)
            checked.add(name)
            udf_parts.append(
                f"SELECT {lit(name)} AS column_name, {reason} AS reason, sum(n) AS rows "
                f"FROM (SELECT {column.sql} AS v, count(*) AS n FROM {table} "
                f"WHERE {column.present} GROUP BY ALL) GROUP BY ALL")
            continue
        reason = reason_expr(column, rule, unit)
        if reason is not None:
            checked.add(name)
            items.append((f"reasons:{name}", f"histogram({reason})"))
    unique = [columns[n].sql for n in contract.unique if n in columns]
    if unique and len(unique) == len(contract.unique):
        items.append(("distinct_keys", f"count(DISTINCT row({', '.join(unique)}))"))
    items.append(("distinct_rows", f"count(DISTINCT {ROW_ALIAS})"))
    period = _business_dates(contract, columns)
    known = _known_at(contract, columns, period)
    # "Latest" means latest by the as-of: a row that arrives (or a period that starts) later
    # cannot make the source look current on that day.
    by_as_of = ""
    if known is not None and contract.known_at.column is not None:
        by_as_of = f" FILTER (WHERE {known} <= {lit(as_of)})"
    elif period is not None:
        by_as_of = f" FILTER (WHERE {period[0]} <= {lit(as_of)})"
    if period is not None:
        items.append(("latest_business_date", f"max({period[1]}){by_as_of}"))
    if known is not None:
        items += [("latest_known_at", f"max({known}){by_as_of}"),
                  ("known_after_as_of", f"count(*) FILTER (WHERE {known} > {lit(as_of)})")]
    if period is not None and contract.known_at.column is not None and known is not None:
        both = f"{known} IS NOT NULL AND {period[1]} IS NOT NULL"
        late = f"datediff('day', {period[1]}, {known}) > {int(thresholds.late_after_days)}"
        items += [("dated_rows", f"count(*) FILTER (WHERE {both})"),
                  ("late_rows", f"count(*) FILTER (WHERE {both} AND {late})")]
    main = ("SELECT " + ", ".join(expr for _, expr in items)
            + f" FROM {table} AS {ROW_ALIAS}")
    identifiers = " UNION ALL ".join(udf_parts) if udf_parts else None
    return SourceSql(main, [key for key, _ in items], identifiers, frozenset(checked))
