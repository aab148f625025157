"""From a bank customer to its governed party (whose tags, warnings and history the analytic
store keeps).

Why a lookup: the transactional store keys customers by the bank's own party ids, governance by
resolved entities; the unified social credit code or the resident ID number links the two
(``gov.party_key``, written by governance). Intake, the customer page and the post-loan views
all need the same answer, so it is asked one way.
"""

from __future__ import annotations

from typing import Any


def governed_party(con: Any, uscc: str | None, id_number: str | None) -> str | None:
    """The governed party with this credit code (first) or ID number, else None; ``con`` is a
    DuckDB connection or cursor over the analytic store."""
    for kind, value in (("uscc", uscc), ("id", id_number)):
        if value:
            row = con.execute("SELECT party_id FROM gov.party_key WHERE kind = ? AND value = ? "
                              "LIMIT 1", [kind, value]).fetchone()
            if row is not None:
                return str(row[0])
    return None


__all__ = ["governed_party"]
