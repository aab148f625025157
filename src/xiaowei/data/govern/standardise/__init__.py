"""Standardisation (清洗、标准化): one definition of each rule, two runtimes.

Every rule is a small function returning ``Standardised(value, reason)`` for one record — the
online path — and the same rule is installed in DuckDB by ``register(con)`` for whole tables —
the batch path: SQL macros written from the very constants (patterns, translation and unit
tables) the Python function uses, or Arrow UDFs that call the Python function itself where
the rule is a library check or a name index. Tests hold the two runtimes equal.

``standardise_table`` / ``standardise_record`` apply a per-column spec and list each row's
issues for the governance step to quarantine.
"""

from xiaowei.data.govern.standardise.addresses import Region, address_region
from xiaowei.data.govern.standardise.amounts import amount_in_unit, amount_text
from xiaowei.data.govern.standardise.company_names import (
    company_name,
    company_name_display,
    company_name_key,
)
from xiaowei.data.govern.standardise.dates import date_text
from xiaowei.data.govern.standardise.identifiers import phone, resident_id, uscc
from xiaowei.data.govern.standardise.outcome import Standardised
from xiaowei.data.govern.standardise.runtime import register
from xiaowei.data.govern.standardise.table import (
    RULES,
    parse_spec,
    standardise_record,
    standardise_table,
)
from xiaowei.data.govern.standardise.text import clean_text, person_name, text

__all__ = [
    "RULES",
    "Region",
    "Standardised",
    "address_region",
    "amount_in_unit",
    "amount_text",
    "clean_text",
    "company_name",
    "company_name_display",
    "company_name_key",
    "date_text",
    "parse_spec",
    "person_name",
    "phone",
    "register",
    "resident_id",
    "standardise_record",
    "standardise_table",
    "text",
    "uscc",
]
