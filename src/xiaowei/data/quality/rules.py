"""What the data-quality report judges by: thresholds, traffic lights and validity rules.

Why one module of data: the data-governance office, not a programmer, decides when a source
is "green"; keeping every threshold and every column → standardisation-rule choice here
means one reviewable diff changes the whole report, and nothing is hidden in SQL text.

A column's validity rule comes first from its source contract (type, regex, min/max,
allowed values), then from the standardisation rule that governance applies to it: the
contract's party keys say which columns hold USCCs, resident IDs or phones; a text business
date is read by ``std_date_text``; the few free-text columns the contract only describes in
words are listed in ``STANDARD_RULES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xiaowei.data.sources.contract import SourceContract

Light = Literal["green", "amber", "red"]
StandardRule = Literal["uscc", "resident_id", "uscc_or_resident_id", "phone", "date_text",
                       "amount_text", "amount_in_unit"]

LIGHT_ZH: dict[str, str] = {"green": "绿", "amber": "黄", "red": "红"}
LIGHT_COLOUR: dict[str, str] = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}


@dataclass(frozen=True)
class Thresholds:
    """Every number the report judges by, in one place."""

    green: float = 0.98  # a source scoring at least this is green
    amber: float = 0.90  # ... at least this amber, below it red
    late_after_days: int = 35  # known more than this after its period ended: arrived late
    stale_after_days: int = 92  # nothing new for a quarter: the source has stopped
    top_reasons: int = 3  # reasons shown per column and per source

    def light(self, score: float | None) -> Light | None:
        """The traffic light of a score (None when nothing could be measured)."""
        if score is None:
            return None
        if score >= self.green:
            return "green"
        return "amber" if score >= self.amber else "red"


THRESHOLDS = Thresholds()

# Free-text columns whose contract says "free text" only in words: (source, column) → rule.
STANDARD_RULES: dict[tuple[str, str], StandardRule] = {
    ("registry_companies", "established"): "date_text",
    ("registry_companies", "registered_capital"): "amount_text",
    ("tax_filings", "sales"): "amount_in_unit",
}
# The column holding the unit of an amount checked by ``amount_in_unit``.
UNIT_COLUMNS: dict[tuple[str, str], str] = {("tax_filings", "sales"): "unit"}

# Rules that run as Python UDFs: applied once per distinct value, not once per row.
UDF_RULES: frozenset[str] = frozenset({"uscc", "resident_id", "uscc_or_resident_id", "phone"})

# Reasons of our own (the rest come from the contract checks and standardisation rules).
REASON_NEITHER_ID = "既非统一社会信用代码也非身份证号 neither a USCC nor a resident ID"
REASON_MISSING_COLUMN = "column is missing from the source"
TYPE_REASON: dict[str, str] = {
    "int": "not an integer", "float": "not a number", "decimal": "not a number",
    "date": "not a date (YYYY-MM-DD)", "timestamp": "not a timestamp",
    "bool": "not true/false", "month": "not a month (YYYY-MM)",
}


def standard_rules(contract: SourceContract) -> dict[str, StandardRule]:
    """Column → the standardisation rule that judges its values, for one source."""
    keys = contract.party_keys
    uscc, ids, phones = (set(keys.get(k, [])) for k in ("uscc", "id_number", "phone"))
    rules: dict[str, StandardRule] = {}
    for name in contract.names:
        if name in uscc and name in ids:
            rules[name] = "uscc_or_resident_id"
        elif name in uscc:
            rules[name] = "uscc"
        elif name in ids:
            rules[name] = "resident_id"
        elif name in phones:
            rules[name] = "phone"
    bd = contract.business_date
    if bd is not None and bd.formats is not None:
        rules[bd.column] = "date_text"
    for (source, column), rule in STANDARD_RULES.items():
        if source == contract.source and column in contract.names:
            rules[column] = rule
    return rules
