"""The one outcome oracle that scores both processes: what happened to each booked loan.

Why an oracle and not the bank's records: the digital process books loans the traditional one
rejected, and those have no repayment records. Scoring one side by records and the other by
something else would compare two instruments, not two processes. So both sides are scored by
the simulator's ground truth — allowed only for KPI comparisons (SIMULATOR.md §1); this module
and :mod:`xiaowei.origination.process_comparison` are the only platform code that reads it.

Definition (the same function for every loan, whichever process booked it):

* **bad within 12 months** — the party defaulted within 12 months of the application
  (``truth.applications.default_within_12m``) **or** the application was fraudulent
  (``is_fraud``): the simulator's fraud loans stop paying within their first instalments, which
  the truth's party default does not include, while the bank's records do show them;
* **loss** — the principal exposed at default (the approved amount) × the share of principal
  still outstanding at the default month for the loan's term and repayment method
  (:func:`share_outstanding`); the default month counts from the application month; a fraud
  with no party default within 12 months defaults in month :data:`FRAUD_DEFAULT_MONTH` (nearly
  all principal). No recoveries (the simulator has none yet).

The bank's records measure the same thing for the loans they can see (90 days past due on an
instalment of the first 12 months); ``process_comparison.calibration`` holds the two side by
side on the traditional book as a check of this oracle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow.parquet as pq

SIM_FIRST_MONTH = (2023, 1)
"""Month 0 of the simulator's clock (``xiaowei.sim.calendar.START_MONTH``)."""
FRAUD_DEFAULT_MONTH = 2
"""A fraud loan stops paying within its first three instalments: the middle one is used."""
METHODS = ("equal_instalment", "equal_principal", "interest_only_bullet", "revolving")


@dataclass(frozen=True)
class PartyOutcome:
    """What the truth says about one application's party."""

    is_fraud: bool
    default_month: int | None  # the simulator's month index, None if never
    default_within_12m: bool


def month_index(day: dt.date) -> int:
    """The simulator's month index of a day (0 = January 2023)."""
    return (day.year - SIM_FIRST_MONTH[0]) * 12 + day.month - SIM_FIRST_MONTH[1]


class OutcomeOracle:
    """Truth per application, read once from ``<dataset>/truth/applications.parquet``."""

    def __init__(self, truth_dir: Path | str) -> None:
        path = Path(truth_dir) / "applications.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the simulator's truth table is needed to score "
                                    f"the comparison (dataset folder's truth/)")
        table = pq.read_table(path, columns=["application_no", "is_fraud", "default_month",
                                             "default_within_12m"])
        self.outcomes = {
            str(a): PartyOutcome(bool(f), None if m is None or m < 0 else int(m), bool(d))
            for a, f, m, d in zip(*(table.column(i).to_pylist() for i in range(4)),
                                  strict=True)}

    def of(self, application_id: str) -> PartyOutcome:
        try:
            return self.outcomes[application_id]
        except KeyError:
            raise LookupError(f"application {application_id} is not in the truth table") from None

    def bad_12m(self, application_id: str) -> bool:
        """Bad within 12 months: a party default within 12 months, or a fraudulent application."""
        o = self.of(application_id)
        return o.default_within_12m or o.is_fraud

    def default_loan_month(self, application_id: str, applied_on: dt.date) -> int | None:
        """The loan month (1 = first) in which a bad loan defaults; None if it is not bad."""
        o = self.of(application_id)
        if o.default_within_12m and o.default_month is not None:
            return max(1, o.default_month - month_index(applied_on) + 1)
        if o.default_within_12m or o.is_fraud:
            return FRAUD_DEFAULT_MONTH
        return None

    def loss(self, application_id: str, applied_on: dt.date, amount: Decimal, term_months: int,
             method: str, annual_rate: float | None) -> Decimal:
        """CNY lost on a booked loan (0 unless bad within 12 months)."""
        month = self.default_loan_month(application_id, applied_on)
        if month is None or month > 12:
            return Decimal(0)
        share = share_outstanding(method, term_months, month, annual_rate)
        return (amount * Decimal(str(round(share, 6)))).quantize(Decimal("0.01"), ROUND_HALF_UP)


def share_outstanding(method: str, term_months: int, default_month: int,
                      annual_rate: float | None = None) -> float:
    """Share of the principal still owed when instalment ``default_month`` goes unpaid.

    ``equal_principal`` repays 1/T a month; ``equal_instalment`` is an annuity (at
    ``annual_rate``, 5 % if unknown); ``interest_only_bullet`` and ``revolving`` owe all
    principal until maturity.
    """
    if method not in METHODS:
        raise ValueError(f"repayment method {method!r} is not one of {list(METHODS)}")
    if term_months < 1:
        raise ValueError(f"term_months must be ≥ 1, got {term_months}")
    paid = min(max(default_month - 1, 0), term_months)  # instalments paid before the default
    if method in ("interest_only_bullet", "revolving"):
        return 1.0 if paid < term_months else 0.0
    if method == "equal_principal":
        return 1 - paid / term_months
    i = (annual_rate if annual_rate and annual_rate > 0 else 0.05) / 12
    left = term_months - paid
    return (1 - (1 + i) ** -left) / (1 - (1 + i) ** -term_months)


__all__ = ["FRAUD_DEFAULT_MONTH", "METHODS", "OutcomeOracle", "PartyOutcome", "month_index",
           "share_outstanding"]
