"""Dates as the sources write them → ``datetime.date``; an impossible date is refused.

Accepted forms (after ``clean_text`` and with spaces removed): ``2024-03-05``, ``2024/3/5``,
``2024.03.05`` (one separator throughout), ``2024年3月5日`` and ``20240305``. Why not a
general date parser: '03/05/2024' means 5 March to one clerk and 3 May to another, and a
standardiser that guesses turns a typing error into a wrong fact. A date that cannot exist
(2023-02-29, month 13, year 0) is refused with the reason, never moved to a nearby day.

Both runtimes take the same two steps: recognise the form with the patterns below and rewrite
it as ``Y-M-D``, then ask the calendar whether that day exists.
"""

from __future__ import annotations

import datetime as dt
import re

from xiaowei.data.govern.standardise.outcome import MISSING, Standardised, refused, sql_text
from xiaowei.data.govern.standardise.text import clean_text

# Whole-text patterns (full match in both runtimes); no backreferences, which RE2 lacks.
ONE_SEPARATOR = (
    "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"
    "|[0-9]{4}\\.[0-9]{1,2}\\.[0-9]{1,2}"
)
ANY_SEPARATORS = "[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
CHINESE_FORM = "[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"
COMPACT_FORM = "[0-9]{8}"
_ONE_SEPARATOR = re.compile(ONE_SEPARATOR)
_ANY_SEPARATORS = re.compile(ANY_SEPARATORS)
_CHINESE_FORM = re.compile(CHINESE_FORM)
_COMPACT_FORM = re.compile(COMPACT_FORM)
_TO_DASHES = str.maketrans("/.年月", "----", "日")

REASON_FORM = "not a date in a known form (2024-03-05, 2024/3/5, 20240305, 2024年3月5日)"
REASON_SEPARATORS = "mixed separators in a date"
REASON_IMPOSSIBLE = "no such date"


def _as_year_month_day(compact: str) -> str | None:
    """The text rewritten as 'Y-M-D' when it is in an accepted form."""
    if _ONE_SEPARATOR.fullmatch(compact) or _CHINESE_FORM.fullmatch(compact):
        return compact.translate(_TO_DASHES)
    if _COMPACT_FORM.fullmatch(compact):
        return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"
    return None


def date_text(value: str | None) -> Standardised[dt.date]:
    """The date a source meant, or the reason it cannot be read without guessing."""
    cleaned = clean_text(value)
    if cleaned is None:
        return MISSING  # type: ignore[return-value]
    compact = cleaned.replace(" ", "")
    ymd = _as_year_month_day(compact)
    if ymd is None:
        if _ANY_SEPARATORS.fullmatch(compact):
            return refused(REASON_SEPARATORS)
        return refused(REASON_FORM)
    year, month, day = (int(part) for part in ymd.split("-"))
    try:
        return Standardised(dt.date(year, month, day))
    except ValueError:
        return refused(REASON_IMPOSSIBLE)


def sql_macros() -> list[str]:
    """``std_date_text(s) → STRUCT(value DATE, reason VARCHAR)`` from the same patterns."""
    return [
        f"""CREATE OR REPLACE MACRO std_date_ymd(t) AS CASE
            WHEN regexp_full_match(t, {sql_text(ONE_SEPARATOR)})
              OR regexp_full_match(t, {sql_text(CHINESE_FORM)})
            THEN translate(t, '/.年月日', '----')
            WHEN regexp_full_match(t, {sql_text(COMPACT_FORM)})
            THEN t[1:4] || '-' || t[5:6] || '-' || t[7:8] END""",
        # Year 0 does not exist in the Gregorian calendar Python uses; strptime would take it.
        """CREATE OR REPLACE MACRO std_date_of(ymd) AS CASE WHEN ymd[1:4] <> '0000'
            THEN try_strptime(ymd, '%Y-%m-%d')::DATE END""",
        f"""CREATE OR REPLACE MACRO std_date_compact(t) AS list_transform([t], lambda t:
            CASE WHEN t IS NULL THEN {{'value': NULL::DATE, 'reason': NULL::VARCHAR}}
            ELSE list_transform([std_date_ymd(t)], lambda ymd: CASE
              WHEN ymd IS NULL AND regexp_full_match(t, {sql_text(ANY_SEPARATORS)})
              THEN {{'value': NULL::DATE, 'reason': {sql_text(REASON_SEPARATORS)}}}
              WHEN ymd IS NULL THEN {{'value': NULL::DATE, 'reason': {sql_text(REASON_FORM)}}}
              ELSE list_transform([std_date_of(ymd)], lambda d: CASE
                WHEN d IS NULL
                THEN {{'value': NULL::DATE, 'reason': {sql_text(REASON_IMPOSSIBLE)}}}
                ELSE {{'value': d, 'reason': NULL::VARCHAR}} END)[1] END)[1] END)[1]""",
        """CREATE OR REPLACE MACRO std_date_text(s) AS
            std_date_compact(replace(std_clean_text(s::VARCHAR), ' ', ''))""",
    ]
