"""What classification needs to know about one loan, checked once at the boundary.

Why a frozen dataclass of plain values (and not the accounting package's loan): classification
must run the same way in the nightly batch, on the command line and in tests, from whatever
system holds the loan. Taking plain facts — days past due, flags, dates — keeps it independent
of how the ledger is kept, and refusing malformed facts here (a float balance, a negative dpd)
keeps every rule free of defensive checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from xiaowei.entities.money import to_decimal
from xiaowei.postloan.classification.classes import LoanClass

SEGMENTS = ("retail", "small_micro", "corporate")


@dataclass(frozen=True)
class UpgradeFacts:
    """Payment behaviour since a 不良 loan's overdue amounts were all repaid."""

    all_overdue_paid: bool
    normal_periods_since: int = 0
    months_normal_since: int = 0
    other_impaired_assets: bool = False

    def __post_init__(self) -> None:
        for name in ("normal_periods_since", "months_normal_since"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer ≥ 0, got {value!r}")


@dataclass(frozen=True)
class ManualOverride:
    """A person's judgement of the class, with the evidence and a second approver.

    Checked when applied (``override.apply_override``), so that a refused override is reported
    with the objective floors it ran into.
    """

    klass: LoanClass
    evidence: str
    maker: str
    checker: str


@dataclass(frozen=True)
class LoanState:
    """One loan's facts on the classification date."""

    loan_id: str
    dpd: int
    debtor_id: str | None = None
    product: str | None = None
    segment: str | None = None
    balance: Decimal | None = None
    impaired: bool = False
    ecl_ratio: Decimal | None = None
    signals: Sequence[str] = ()  # warning-signal names; stored as a tuple
    # Restructuring (重组) and its observation period.
    restructured: bool = False
    restructured_on: dt.date | None = None
    observation_passed: bool | None = None
    first_payment_after_restructuring: dt.date | None = None
    periods_paid_since: int = 0
    missed_since_restructure: bool = False
    last_missed_on: dt.date | None = None
    restructured_again_in_observation: bool = False
    # The class on the last classification date, for the upgrade rule.
    current_class: LoanClass | None = None
    upgrade: UpgradeFacts | None = None
    override: ManualOverride | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.loan_id, str) or not self.loan_id.strip():
            raise ValueError("loan_id must be a non-empty string")
        if isinstance(self.dpd, bool) or not isinstance(self.dpd, int) or self.dpd < 0:
            raise ValueError(f"loan {self.loan_id}: dpd must be an integer ≥ 0, got {self.dpd!r}")
        if self.segment is not None and self.segment not in SEGMENTS:
            raise ValueError(f"loan {self.loan_id}: segment must be one of {SEGMENTS}, "
                             f"got {self.segment!r}")
        if self.balance is not None:
            balance = to_decimal(self.balance, "balance")
            if balance < 0:
                raise ValueError(f"loan {self.loan_id}: balance must be ≥ 0, got {balance}")
            object.__setattr__(self, "balance", balance)
        if self.ecl_ratio is not None:
            ratio = to_decimal(self.ecl_ratio, "ecl_ratio")
            if ratio < 0:
                raise ValueError(f"loan {self.loan_id}: ecl_ratio must be ≥ 0, got {ratio}")
            object.__setattr__(self, "ecl_ratio", ratio)
        if isinstance(self.signals, str):
            raise ValueError(f"loan {self.loan_id}: signals must be a list of names")
        object.__setattr__(self, "signals", tuple(self.signals))
        if self.periods_paid_since < 0:
            raise ValueError(f"loan {self.loan_id}: periods_paid_since must be ≥ 0")
        restructuring_facts = (self.restructured_on, self.first_payment_after_restructuring,
                               self.last_missed_on)
        if not self.restructured and (any(d is not None for d in restructuring_facts)
                                      or self.restructured_again_in_observation):
            raise ValueError(f"loan {self.loan_id}: restructuring dates or "
                             "restructured_again_in_observation given but restructured is false")
