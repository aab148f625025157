"""One module per page: each assembles plain data (dicts, lists, SVG markup) from the stores
for its template, reading through the domain classes and read-only queries — never writing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def parse_amount(text: str) -> Decimal | None:
    """An amount typed into a form ("1,200,000" or "1200000.50"), or None when left empty."""
    cleaned = text.replace(",", "").replace("，", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"amount: expected a number of yuan, got {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"amount: expected a number of yuan, got {text!r}")
    return value
