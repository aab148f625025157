"""Money amounts as sources write them → yuan as ``Decimal`` to the fen (DECIMAL(18,2)).

Registry capital arrives as '500万元', '5,000,000元', '500万人民币' or '5000000.00'; tax
filings send a number and a unit column where 8% say 万元. Both become yuan here, by one rule:
an optional 人民币/RMB/¥ prefix, a number (thousands separators only in groups of three),
then a unit from ``UNITS``. The ``(value, unit)`` form is the same rule applied to the value's
decimal text followed by the unit, so the two forms can never disagree.

Refused, never guessed: an unknown unit ('500万美元' is not yuan), more than 8 decimal places
(finer than a 亿元 amount's fen), and amounts beyond DECIMAL(18,2). Floats from a source file
are read by their shortest decimal text (4.3626, not 4.36259999…), which is what the source
printed; rounding to the fen is half-up (四舍五入) as in ``xiaowei.entities.money``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from xiaowei.data.govern.standardise.outcome import MISSING, Standardised, refused, sql_text
from xiaowei.data.govern.standardise.text import clean_text
from xiaowei.entities.money import FEN

UNITS: dict[str, int] = {
    "": 1, "元": 1, "人民币": 1, "元人民币": 1, "人民币元": 1,
    "千元": 1_000, "千元人民币": 1_000,
    "万": 10_000, "万元": 10_000, "万人民币": 10_000, "万元人民币": 10_000,
    "亿": 100_000_000, "亿元": 100_000_000, "亿人民币": 100_000_000,
    "亿元人民币": 100_000_000,
}  # fmt: skip
AMOUNT_PATTERN = (
    "(?:人民币|RMB|CNY|¥|￥)?([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\\.([0-9]*))?([^0-9,.]*)"
)
_AMOUNT = re.compile(AMOUNT_PATTERN)
MAX_FRACTION_DIGITS = 8
MAX_INTEGER_DIGITS = 20
# DECIMAL(18,2) holds 16 integer digits; anything that rounds up to 10**16 does not fit.
LIMIT = Decimal("9999999999999999.995")

REASON_NOT_AMOUNT = "not an amount"
REASON_UNIT = "unknown unit (need 元, 千元, 万元 or 亿元)"
REASON_PRECISION = f"more than {MAX_FRACTION_DIGITS} decimal places"
REASON_TOO_LARGE = "too large for an amount in yuan (DECIMAL(18,2))"


def amount_text(value: str | None) -> Standardised[Decimal]:
    """Yuan from free text such as '500万元', '5,000,000元', '1.2亿' or '5000000.00'."""
    cleaned = clean_text(value)
    if cleaned is None:
        return MISSING  # type: ignore[return-value]
    match = _AMOUNT.fullmatch(cleaned.replace(" ", ""))
    if match is None:
        return refused(REASON_NOT_AMOUNT)
    sign, integer, fraction, unit = match.groups()
    if unit not in UNITS:
        return refused(REASON_UNIT)
    if fraction is not None and len(fraction) > MAX_FRACTION_DIGITS:
        return refused(REASON_PRECISION)
    digits = integer.replace(",", "")
    if len(digits) > MAX_INTEGER_DIGITS:
        return refused(REASON_TOO_LARGE)
    number = Decimal(f"{sign}{digits}.{fraction or '0'}") * UNITS[unit]
    if abs(number) >= LIMIT:  # checked first: quantize would overflow the decimal context
        return refused(REASON_TOO_LARGE)
    return Standardised(number.quantize(FEN, rounding=ROUND_HALF_UP))


def _decimal_text(value: Decimal | int | float | str) -> str:
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as this float, as DuckDB prints
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def amount_in_unit(
    value: Decimal | int | float | str | None, unit: str | None
) -> Standardised[Decimal]:
    """Yuan from a number and its unit column, e.g. ``(4.3626, '万元')`` → 43626.00."""
    if value is None:
        return MISSING  # type: ignore[return-value]
    return amount_text(_decimal_text(value) + (unit or ""))


def sql_macros() -> list[str]:
    """``std_amount_text(s)`` and ``std_amount_in_unit(v, u)`` → STRUCT(value DECIMAL(18,2),
    reason VARCHAR), from the same pattern and unit table."""
    unit_cases = " ".join(f"WHEN {sql_text(u)} THEN {m}" for u, m in UNITS.items())
    none = "NULL::DECIMAL(18,2)"
    return [
        f"""CREATE OR REPLACE MACRO std_amount_multiplier(u) AS CASE u {unit_cases} END""",
        f"""CREATE OR REPLACE MACRO std_amount_of(p) AS list_transform([CASE
              WHEN length(replace(p.i, ',', '')) <= {MAX_INTEGER_DIGITS}
              THEN (p.sign || replace(p.i, ',', '') || '.' || coalesce(nullif(p.f, ''), '0')
                   )::DECIMAL(38,{MAX_FRACTION_DIGITS}) * std_amount_multiplier(p.u) END],
            lambda n: CASE WHEN n IS NULL OR abs(n) >= {LIMIT}
              THEN {{'value': {none}, 'reason': {sql_text(REASON_TOO_LARGE)}}}
              ELSE {{'value': n::DECIMAL(18,2), 'reason': NULL::VARCHAR}} END)[1]""",
        f"""CREATE OR REPLACE MACRO std_amount_compact(t) AS list_transform(
            [regexp_extract(t, {sql_text("^(?:" + AMOUNT_PATTERN + ")$")},
                            ['sign', 'i', 'f', 'u'])],
            lambda p: CASE
              WHEN t IS NULL THEN {{'value': {none}, 'reason': NULL::VARCHAR}}
              WHEN p.i = '' THEN {{'value': {none}, 'reason': {sql_text(REASON_NOT_AMOUNT)}}}
              WHEN std_amount_multiplier(p.u) IS NULL
              THEN {{'value': {none}, 'reason': {sql_text(REASON_UNIT)}}}
              WHEN length(p.f) > {MAX_FRACTION_DIGITS}
              THEN {{'value': {none}, 'reason': {sql_text(REASON_PRECISION)}}}
              ELSE std_amount_of(p) END)[1]""",
        """CREATE OR REPLACE MACRO std_amount_text(s) AS
            std_amount_compact(replace(std_clean_text(s::VARCHAR), ' ', ''))""",
        f"""CREATE OR REPLACE MACRO std_amount_in_unit(v, u) AS CASE
            WHEN v IS NULL THEN {{'value': {none}, 'reason': NULL::VARCHAR}}
            ELSE std_amount_text(v::VARCHAR || coalesce(u::VARCHAR, '')) END""",
    ]
