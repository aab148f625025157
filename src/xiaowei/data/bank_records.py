"""Turns the bank's own tables into transactional rows; dirty rows go to quarantine.

An application whose identifiers fail validation cannot be linked to a party, so it is
quarantined with the reason, and so are its decision, loan and repayments (reason: their
application was quarantined). Nothing is dropped silently: every input row is either
accepted or quarantined, and the counts add up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from xiaowei.entities.identifiers import validate_phone, validate_resident_id, validate_uscc
from xiaowei.entities.masking import mask_id_number, mask_name, mask_phone
from xiaowei.security.pii import blind_index

MAX_AMOUNT_FEN = 10_000_000 * 100  # inclusive SME loans: at most 10 million CNY a borrower
PII_COLUMNS = {"applicant_name": mask_name, "legal_rep_name": mask_name,
               "id_number": mask_id_number, "phone": mask_phone, "address": mask_name}


@dataclass
class Quarantine:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, row_number: int, column: str | None, reason: str,
            raw: dict[str, Any]) -> None:
        self.rows.append({"table_name": table, "row_number": row_number,
                          "column_name": column, "reason": reason, "raw": _masked(raw)})

    def count(self, table: str) -> int:
        return sum(1 for r in self.rows if r["table_name"] == table)


def _masked(raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in raw.items():
        if v is not None and k in PII_COLUMNS:
            v = PII_COLUMNS[k](str(v))
        elif isinstance(v, dt.datetime | dt.date):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = str(v)
        out[k] = v
    return out


def yuan(fen: int) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)


def rows(table: pa.Table) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based row number, row) pairs."""
    yield from enumerate(table.to_pylist(), start=1)


@dataclass
class PartyRegistry:
    """Assigns the bank's party ids: one per distinct USCC (firms) or ID number (owners)."""

    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def party_for(self, row: dict[str, Any], applied_at: dt.datetime) -> str:
        firm = row["party_type"] != "business_owner"
        if firm:
            uscc = validate_uscc(row["uscc"], "uscc")
            key = f"U:{uscc}"
        else:
            uscc = None
        id_number = validate_resident_id(row["id_number"], "id_number")
        if not firm:
            key = f"I:{id_number}"
        phone = validate_phone(row["phone"], "phone") if row.get("phone") else None
        found = self.by_key.get(key)
        if found is None:
            pid = f"P{len(self.by_key) + 1:08d}"
            self.by_key[key] = found = {
                "party_id": pid, "party_type": row["party_type"], "uscc": uscc,
                # For a firm the ID on file is its legal representative's; the party's own
                # ID number is only an owner's.
                "id_number": None if firm else id_number,
                "id_number_index": None if firm else blind_index(id_number),
                "name": row["applicant_name"], "name_masked": mask_name(row["applicant_name"]),
                "phone": phone, "region_code": row.get("region_code") or "",
                "industry_code": row.get("industry_code"), "established_on": None,
                "created_at": applied_at,
            }
        return str(found["party_id"])


def check_application(row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, reason) for an application the bank cannot accept, else None."""
    if row["amount_fen"] <= 0:
        return "amount_fen", f"amount must be positive, got {yuan(row['amount_fen'])}"
    if row["amount_fen"] > MAX_AMOUNT_FEN:
        return "amount_fen", (f"amount {yuan(row['amount_fen'])} exceeds the 10,000,000 CNY "
                              "inclusive-SME cap")
    if not 1 <= row["term_months"] <= 120:
        return "term_months", f"term must be 1–120 months, got {row['term_months']}"
    return None

