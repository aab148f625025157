"""Loan accounting for post-loan management (贷后账务): a pure domain module.

Schedules for the four repayment methods, the repayment waterfall with penalty (罚息) and
compound interest (复利), days past due and buckets, prepayment, restructuring with its
observation clock, write-off with continued recovery (账销案存), and ``LoanLedger`` — the
ledger that books batches of repayments idempotently and reports each loan's ``LoanPosition``
as of a date, which monitoring, five-level classification and ECL staging read.

Money is ``Decimal`` yuan to the fen, rounded half-up (``xiaowei.entities.money``); floats are
refused. Parameters live in ``accounting.yaml``; conventions in docs/postloan_accounting.md.
"""

from xiaowei.postloan.accounting.allocation import (
    AcrossPeriods,
    Allocation,
    AllocationLine,
    Component,
    Owed,
    Waterfall,
    allocate,
)
from xiaowei.postloan.accounting.config import (
    AccountingConfig,
    PrepaymentFee,
    RestructuringPolicy,
    default_config,
    load_config,
    parse_config,
)
from xiaowei.postloan.accounting.contract import LoanContract
from xiaowei.postloan.accounting.daycount import (
    DayCount,
    RateConvention,
    add_months,
    due_dates,
)
from xiaowei.postloan.accounting.delinquency import BucketLadder, days_past_due
from xiaowei.postloan.accounting.ledger import BatchResult, LoanLedger
from xiaowei.postloan.accounting.payments import Payment, Rejected, read_payment
from xiaowei.postloan.accounting.penalty import (
    PenaltyTerms,
    compound_interest,
    penalty_interest,
)
from xiaowei.postloan.accounting.position import LoanPosition
from xiaowei.postloan.accounting.prepayment import (
    Prepayment,
    PrepaymentMode,
    accrued_interest,
    prepay_partial,
    settle_in_full,
)
from xiaowei.postloan.accounting.restructuring import (
    ObservationClock,
    Restructuring,
    extended_term,
    restructure,
)
from xiaowei.postloan.accounting.revolving import (
    Flow,
    RevolvingSchedule,
    revolving_schedule,
)
from xiaowei.postloan.accounting.schedule import (
    Instalment,
    Schedule,
    build_schedule,
    level_payment,
)
from xiaowei.postloan.accounting.writeoff import Recovery, WriteOff, WrittenOffLoan

__all__ = [
    "AccountingConfig",
    "AcrossPeriods",
    "Allocation",
    "AllocationLine",
    "BatchResult",
    "BucketLadder",
    "Component",
    "DayCount",
    "Flow",
    "Instalment",
    "LoanContract",
    "LoanLedger",
    "LoanPosition",
    "ObservationClock",
    "Owed",
    "Payment",
    "PenaltyTerms",
    "Prepayment",
    "PrepaymentFee",
    "PrepaymentMode",
    "RateConvention",
    "Recovery",
    "Rejected",
    "Restructuring",
    "RestructuringPolicy",
    "RevolvingSchedule",
    "Schedule",
    "Waterfall",
    "WriteOff",
    "WrittenOffLoan",
    "accrued_interest",
    "add_months",
    "allocate",
    "build_schedule",
    "compound_interest",
    "days_past_due",
    "default_config",
    "due_dates",
    "extended_term",
    "level_payment",
    "load_config",
    "parse_config",
    "penalty_interest",
    "prepay_partial",
    "read_payment",
    "restructure",
    "revolving_schedule",
    "settle_in_full",
]
