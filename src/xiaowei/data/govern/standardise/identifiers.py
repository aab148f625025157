"""Identifiers as rules: canonical USCC, resident ID and phone, or NULL with the reason.

Why these run as Python UDFs in DuckDB rather than SQL macros: the checks are python-stdnum's
(GB 32100, GB 11643 with the birth-place code valid in the birth year) and phonenumbers' (the
CN number plan); re-writing them in SQL would make a second definition that could drift. The
UDF calls the very function the online path calls, so the two runtimes agree by construction;
the price is speed (a few hundred thousand rows a second, see benchmarks/).

Canonical forms: USCC 18 upper-case characters; resident ID 18 characters with an upper-case
'X'; phones E.164 (``+8613812345678``, landlines with their area code ``+8657188888888``), so
that the same phone written in two sources is one string for linking. Never guessed: a wrong
check character is refused, not corrected.
"""

from __future__ import annotations

from collections.abc import Callable

from xiaowei.data.govern.standardise.outcome import MISSING, Standardised, refused
from xiaowei.data.govern.standardise.text import clean_text
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.identifiers import validate_phone, validate_resident_id, validate_uscc


def _as_rule(
    validate: Callable[[object, str], str], field: str
) -> Callable[[str | None], Standardised[str]]:
    def rule(value: str | None) -> Standardised[str]:
        if clean_text(value) is None:
            return MISSING  # type: ignore[return-value]
        try:
            return Standardised(validate(value, field))
        except InvalidIdentifier as error:
            return refused(error.reason)

    return rule


uscc = _as_rule(validate_uscc, "uscc")
uscc.__doc__ = "The canonical unified social credit code, or why it is not one."
resident_id = _as_rule(validate_resident_id, "id_number")
resident_id.__doc__ = "The canonical resident ID number, or why it is not one."
phone = _as_rule(validate_phone, "phone")
phone.__doc__ = "The E.164 form of a mainland China phone, or why it is not one."

# UDF name in DuckDB → the rule it runs.
UDF_RULES: dict[str, Callable[[str | None], Standardised[str]]] = {
    "std_uscc": uscc,
    "std_resident_id": resident_id,
    "std_phone": phone,
}
