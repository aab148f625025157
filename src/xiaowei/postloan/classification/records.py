"""Read a loan's facts from a JSON record (one line of a JSONL file, an API body).

Why strict: a classification is a regulatory figure. A ``dpd`` of ``"12"`` or ``12.5``, a
misspelt signal or a date like ``2024-13-01`` must be refused with the field named — not
coerced, and not silently dropped (an unknown signal ignored would understate the class).
Unknown *keys* are ignored: exports carry other columns (names, branches).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from xiaowei.entities.money import to_decimal
from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.classification.loan_state import (
    SEGMENTS,
    LoanState,
    ManualOverride,
    UpgradeFacts,
)
from xiaowei.postloan.classification.rules import ClassificationRules, default_rules

Record = dict[str, Any]


class RecordError(ValueError):
    """A field of a record is missing or malformed."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def read_text(record: Record, name: str, required: bool = False) -> str | None:
    value = record.get(name)
    if value is None:
        if required:
            raise RecordError(name, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(name, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        if required:
            raise RecordError(name, "must not be empty")
        return None
    return text


def read_int(record: Record, name: str, required: bool = False, default: int = 0) -> int:
    """A JSON integer ≥ 0 (not a string, not 12.0, not true)."""
    value = record.get(name)
    if value is None:
        if required:
            raise RecordError(name, "required")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(name, f"must be an integer, got {value!r}")
    if value < 0:
        raise RecordError(name, f"must be ≥ 0, got {value}")
    return value


def read_bool(record: Record, name: str, default: bool | None = False) -> bool | None:
    value = record.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RecordError(name, f"must be true or false, got {value!r}")
    return value


def read_date(record: Record, name: str) -> dt.date | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(name, f"must be a date YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(name, f"not a valid date YYYY-MM-DD: {value!r}") from None


def read_decimal(record: Record, name: str) -> Decimal | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, float):  # parse JSON with parse_float=Decimal to keep it exact
        value = Decimal(repr(value))
    try:
        number = to_decimal(value, name)
    except (TypeError, ValueError) as exc:
        raise RecordError(name, str(exc)) from None
    if number < 0:
        raise RecordError(name, f"must be ≥ 0, got {number}")
    return number


def read_class(record: Record, name: str) -> LoanClass | None:
    value = read_text(record, name)
    if value is None:
        return None
    try:
        return LoanClass.parse(value)
    except ValueError as exc:
        raise RecordError(name, str(exc)) from None


def _signals(record: Record, rules: ClassificationRules) -> tuple[str, ...]:
    value = record.get("signals")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError("signals", f"must be a list of signal names, got {value!r}")
    unknown = [v for v in value if v not in rules.signals]
    if unknown:
        raise RecordError("signals", f"unknown signal(s) {', '.join(map(repr, unknown))}; "
                                     f"known: {', '.join(rules.signals)}")
    return tuple(value)


def _nested(record: Record, name: str) -> Record | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(name, f"must be an object, got {value!r}")
    return value


def _upgrade(record: Record) -> UpgradeFacts | None:
    facts = _nested(record, "upgrade")
    if facts is None:
        return None
    try:
        return UpgradeFacts(
            all_overdue_paid=bool(read_bool(facts, "all_overdue_paid")),
            normal_periods_since=read_int(facts, "normal_periods_since"),
            months_normal_since=read_int(facts, "months_normal_since"),
            other_impaired_assets=bool(read_bool(facts, "other_impaired_assets")))
    except RecordError as exc:
        raise RecordError(f"upgrade.{exc.field}", exc.message) from None


def _override(record: Record) -> ManualOverride | None:
    facts = _nested(record, "override")
    if facts is None:
        return None
    try:
        klass = read_class(facts, "class")
        if klass is None:
            raise RecordError("class", "required")
        return ManualOverride(klass, read_text(facts, "evidence") or "",
                              read_text(facts, "maker") or "", read_text(facts, "checker") or "")
    except RecordError as exc:
        raise RecordError(f"override.{exc.field}", exc.message) from None


def loan_state_from_record(record: Any, rules: ClassificationRules | None = None) -> LoanState:
    """A ``LoanState`` from a JSON object, or ``RecordError`` naming the first bad field."""
    rules = rules or default_rules()
    if not isinstance(record, dict):
        raise RecordError("record", f"must be a JSON object, got {type(record).__name__}")
    segment = read_text(record, "segment")
    if segment is not None and segment not in SEGMENTS:
        raise RecordError("segment", f"must be one of {', '.join(SEGMENTS)}, got {segment!r}")
    restructured = bool(read_bool(record, "restructured"))
    dates = {name: read_date(record, name) for name in
             ("restructured_on", "first_payment_after_restructuring", "last_missed_on")}
    again = bool(read_bool(record, "restructured_again_in_observation"))
    if not restructured:
        for name, value in [*dates.items(), ("restructured_again_in_observation", again)]:
            if value:
                raise RecordError(name, "given but restructured is not true")
    return LoanState(
        loan_id=str(read_text(record, "loan_id", required=True)),
        dpd=read_int(record, "dpd", required=True),
        debtor_id=read_text(record, "debtor_id"),
        product=read_text(record, "product"),
        segment=segment,
        balance=read_decimal(record, "balance"),
        impaired=bool(read_bool(record, "impaired")),
        ecl_ratio=read_decimal(record, "ecl_ratio"),
        signals=_signals(record, rules),
        restructured=restructured,
        observation_passed=read_bool(record, "observation_passed", default=None),
        periods_paid_since=read_int(record, "periods_paid_since"),
        missed_since_restructure=bool(read_bool(record, "missed_since_restructure")),
        restructured_again_in_observation=again,
        current_class=read_class(record, "current_class"),
        upgrade=_upgrade(record),
        override=_override(record),
        **dates,
    )
