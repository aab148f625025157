"""Days past due from the oldest unpaid instalment, and the M-buckets at their edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    BucketLadder,
    LoanContract,
    LoanLedger,
    Payment,
    days_past_due,
    default_config,
)

DUE = date(2024, 2, 15)


@pytest.mark.parametrize(("days", "bucket"), [
    (0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"),
    (91, "M4"), (120, "M4"), (121, "M5"), (180, "M6"), (181, "M7+"), (400, "M7+"),
])
def test_buckets_at_their_edges(days, bucket):
    dpd = days_past_due(DUE, DUE + timedelta(days=days))
    assert dpd == days
    assert BucketLadder().bucket(dpd) == bucket


def test_nothing_unpaid_or_not_yet_due_is_current():
    assert days_past_due(None, DUE) == 0
    assert days_past_due(DUE, DUE) == 0
    assert days_past_due(DUE, DUE - timedelta(days=3)) == 0


def test_technical_grace_hides_short_delays_then_counts_from_the_due_date():
    assert days_past_due(DUE, DUE + timedelta(days=3), grace_days=3) == 0
    assert days_past_due(DUE, DUE + timedelta(days=4), grace_days=3) == 4


def test_configurable_edges():
    cards = BucketLadder((0, 90, 120, 180))
    assert [cards.bucket(d) for d in (0, 90, 91, 180, 181)] == ["M0", "M1", "M2", "M3", "M4+"]
    assert cards.labels == ("M0", "M1", "M2", "M3", "M4+")
    with pytest.raises(ValueError, match="start at 0"):
        BucketLadder((30, 60))
    with pytest.raises(ValueError, match="strictly increase"):
        BucketLadder((0, 60, 60))


def _ledger(config=None):
    ledger = LoanLedger(config)
    ledger.add_loan(LoanContract("D1", D("12000.00"), D("0.06"), date(2024, 1, 15), 12,
                                 RepaymentMethod.EQUAL_PRINCIPAL))
    return ledger


@pytest.mark.parametrize(("as_of", "dpd", "bucket"), [
    (date(2024, 2, 15), 0, "M0"),   # due today, not late yet
    (date(2024, 2, 16), 1, "M1"),
    (date(2024, 3, 16), 30, "M1"),
    (date(2024, 3, 17), 31, "M2"),
    (date(2024, 5, 15), 90, "M3"),
    (date(2024, 5, 16), 91, "M4"),
])
def test_ledger_dpd_counts_from_the_oldest_unpaid_instalment(as_of, dpd, bucket):
    position = _ledger().position("D1", as_of)
    assert (position.dpd, position.bucket, position.overdue_since) == (dpd, bucket,
                                                                      date(2024, 2, 15))


def test_paying_the_newest_instalment_does_not_reset_the_clock():
    # Period 1 (1,062.00) unpaid; on Mar 20 the borrower pays 1,053.17, the size of period 2.
    # Oldest-first allocation puts it on period 1, which stays short, so DPD still counts
    # from Feb 15: 34 days.
    ledger = _ledger()
    ledger.apply([Payment("X", "D1", date(2024, 3, 20), D("1053.17"))], date(2024, 3, 20))
    position = ledger.position("D1", date(2024, 3, 20))
    assert position.overdue_since == date(2024, 2, 15)
    assert position.dpd == 34 and position.paid_periods == 0


def test_ledger_uses_the_configured_grace():
    ledger = _ledger(replace(default_config(), grace_days=5))
    assert ledger.position("D1", date(2024, 2, 20)).dpd == 0
    assert ledger.position("D1", date(2024, 2, 21)).dpd == 6
