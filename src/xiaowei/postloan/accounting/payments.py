"""A repayment as the ledger receives it, and the checks every one must pass first.

Why check each field here with its own message: payments arrive in batches from core banking
and the collection channels, and one bad record must not stop a batch. A record that fails is
quarantined with the field it failed on and a reason a person can act on — ``amount must be
> 0 (payment P123: -5.00)`` — while the rest are applied. A float amount is refused rather than
converted: it may already have lost a fen on its way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from xiaowei.entities.money import FEN

FIELDS = ("payment_id", "loan_id", "paid_on", "amount")


@dataclass(frozen=True)
class Payment:
    """Money received for a loan: ``amount`` yuan (Decimal, to the fen) on ``paid_on``."""

    payment_id: str
    loan_id: str
    paid_on: date
    amount: Decimal

    def differences(self, other: Payment) -> list[str]:
        """``field old → new`` for each field where ``other`` differs."""
        return [f"{name} {getattr(self, name)} → {getattr(other, name)}" for name in FIELDS
                if getattr(self, name) != getattr(other, name)]


@dataclass(frozen=True)
class Rejected:
    """A payment refused into quarantine: the field at fault and why."""

    payment_id: object
    loan_id: object
    field: str
    reason: str
    record: Any


class PaymentError(ValueError):
    """A payment that cannot be booked; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason)


def _fields(raw: Payment | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(raw, Payment):
        return {name: getattr(raw, name) for name in FIELDS}
    if not isinstance(raw, Mapping):
        raise PaymentError("record", f"a payment must be a Payment or a mapping with "
                                     f"{list(FIELDS)}, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(FIELDS), key=str)
    if unknown:
        raise PaymentError(str(unknown[0]), f"unknown field {unknown[0]!r} "
                                            f"(a payment has {list(FIELDS)})")
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise PaymentError(missing[0], f"{missing[0]} is missing "
                                       f"(payment {raw.get('payment_id', '?')})")
    return dict(raw)


def read_payment(raw: Payment | Mapping[str, Any]) -> Payment:
    """A checked ``Payment`` from a record; ``PaymentError`` names the first bad field."""
    data = _fields(raw)
    pid = data["payment_id"]
    if not isinstance(pid, str) or not pid.strip():
        raise PaymentError("payment_id", f"payment_id must be a non-empty string, got {pid!r}")
    loan_id = data["loan_id"]
    if not isinstance(loan_id, str) or not loan_id.strip():
        raise PaymentError("loan_id", f"loan_id must be a non-empty string (payment {pid}: "
                                      f"{loan_id!r})")
    paid_on = data["paid_on"]
    if isinstance(paid_on, datetime) or not isinstance(paid_on, date):
        raise PaymentError("paid_on", f"paid_on must be a date, not {type(paid_on).__name__} "
                                      f"(payment {pid}: {paid_on!r})")
    amount = data["amount"]
    if isinstance(amount, float):
        raise PaymentError("amount", f"amount must be a Decimal, not float (payment {pid}: "
                                     f"{amount!r}); floats cannot hold fen exactly")
    if not isinstance(amount, Decimal):
        raise PaymentError("amount", f"amount must be a Decimal, not {type(amount).__name__} "
                                     f"(payment {pid}: {amount!r})")
    if not amount.is_finite():
        raise PaymentError("amount", f"amount must be a finite number (payment {pid}: {amount})")
    if amount <= 0:
        raise PaymentError("amount", f"amount must be > 0 (payment {pid}: {amount})")
    if amount != amount.quantize(FEN):
        raise PaymentError("amount", f"amount must be whole fen, two decimals at most "
                                     f"(payment {pid}: {amount})")
    return Payment(pid, loan_id, paid_on, amount)
