from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from stdnum.cn import ric, uscc

from xiaowei.entities.lending import (
    INCLUSIVE_SME_CREDIT_CAP,
    MAX_ANNUAL_RATE,
    Application,
    Channel,
    Decision,
    DecisionOutcome,
    Loan,
    ProductIntent,
    Repayment,
    RepaymentMethod,
)


def with_ric_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def with_uscc_check(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


BEIJING = timezone(timedelta(hours=8))
USCC = with_uscc_check("91330106MA2B00001")
OWNER_ID = with_ric_check("33010619900101123")


def application(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "application_id": "APP-0001",
        "party_type": "enterprise",
        "applicant_uscc": USCC,
        "applied_at": datetime(2024, 6, 3, 9, 30, tzinfo=BEIJING),
        "channel": "walk_in",
        "product_intent": "working_capital",
        "amount": "500000",
        "term_months": 12,
        "branch_id": "HZ-XH-01",
    }
    record.update(changes)
    return record


def test_valid_application() -> None:
    app = Application(**application())
    assert app.amount == Decimal("500000.00")
    assert app.status == "submitted"
    assert app.manager_id is None


def test_business_owner_applies_with_id_number() -> None:
    app = Application(
        **application(party_type="business_owner", applicant_uscc=None,
                      applicant_id_number=OWNER_ID.lower())
    )  # fmt: skip
    assert app.applicant_id_number == OWNER_ID
    with pytest.raises(ValidationError, match="applies with applicant_id_number only"):
        Application(**application(party_type="business_owner"))
    with pytest.raises(ValidationError, match="applies with applicant_uscc only"):
        Application(**application(applicant_id_number=OWNER_ID))


def test_cap_is_inclusive() -> None:
    assert Application(**application(amount=INCLUSIVE_SME_CREDIT_CAP)).amount == Decimal(10**7)
    with pytest.raises(ValidationError) as caught:
        Application(**application(amount="10000000.01"))
    assert caught.value.errors()[0]["loc"] == ("amount",)
    assert "inclusive small-micro cap" in str(caught.value)


@pytest.mark.parametrize("amount", ["0", "-1", 0.5])
def test_amount_must_be_positive_decimal(amount: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Application(**application(amount=amount))
    assert caught.value.errors()[0]["loc"] == ("amount",)


@pytest.mark.parametrize("term", [0, 121])
def test_term_limits(term: int) -> None:
    with pytest.raises(ValidationError, match="term_months"):
        Application(**application(term_months=term))


def test_applicant_identifier_error_is_masked() -> None:
    raw = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        Application(**application(applicant_uscc=raw))
    assert "field 'applicant_uscc'" in str(caught.value)
    assert raw not in str(caught.value)


def test_naive_timestamps_refused() -> None:
    with pytest.raises(ValidationError, match="applied_at"):
        Application(**application(applied_at=datetime(2024, 6, 3, 9, 30)))


def test_referral_needs_a_manager() -> None:
    with pytest.raises(ValidationError, match="manager_id is required"):
        Application(**application(channel="manager_referral"))
    assert Application(**application(channel="manager_referral", manager_id="M001")).manager_id


def decision(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "decision_id": "D-1",
        "application_id": "APP-0001",
        "outcome": "approve",
        "decided_at": datetime(2024, 6, 3, 10, 0, tzinfo=UTC),
        "decided_by": "auto",
        "approved_amount": "300000",
    }
    record.update(changes)
    return record


def test_decisions() -> None:
    assert Decision(**decision()).approved_amount == Decimal("300000.00")
    assert Decision(**decision(decided_by="M001")).decided_by == "M001"
    review = Decision(**decision(outcome="review", approved_amount=None))
    assert review.outcome is DecisionOutcome.REVIEW


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"approved_amount": None}, "approved_amount is required"),
        ({"outcome": "reject"}, "approved_amount must be empty"),
        ({"outcome": "reject", "approved_amount": None}, "at least one reason"),
        ({"approved_amount": "10000000.01"}, "cap"),
        ({"reasons": ("ok", "has space")}, "reasons"),
        ({"decided_by": "not an id!"}, "decided_by"),
    ],
)
def test_inconsistent_decisions(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Decision(**decision(**changes))


def test_rejection_with_reasons() -> None:
    d = Decision(**decision(outcome="reject", approved_amount=None, reasons=["ADM_AGE", "FRD.2"]))
    assert d.reasons == ("ADM_AGE", "FRD.2")


def loan(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "loan_id": "L-1",
        "application_id": "APP-0001",
        "principal": "300000",
        "annual_rate": "0.0435",
        "term_months": 12,
        "start_date": date(2024, 6, 5),
        "maturity_date": date(2025, 6, 5),
        "repayment_method": "equal_instalment",
    }
    record.update(changes)
    return record


def test_loan() -> None:
    item = Loan(**loan())
    assert item.annual_rate == Decimal("0.0435")
    assert item.status == "active"


@pytest.mark.parametrize("rate", ["0", "-0.01", str(MAX_ANNUAL_RATE), "4.35"])
def test_rate_bounds(rate: str) -> None:
    with pytest.raises(ValidationError, match="annual_rate must be above 0 and below"):
        Loan(**loan(annual_rate=rate))


def test_rate_just_below_ceiling_and_float_refused() -> None:
    assert Loan(**loan(annual_rate="0.3599")).annual_rate == Decimal("0.3599")
    with pytest.raises(ValidationError, match="not float"):
        Loan(**loan(annual_rate=0.0435))


def test_maturity_after_start() -> None:
    with pytest.raises(ValidationError, match="maturity_date must be after start_date"):
        Loan(**loan(maturity_date=date(2024, 6, 5)))


def test_repayment() -> None:
    due = Repayment(loan_id="L-1", period=1, due_date=date(2024, 7, 5),
                    principal_due="24000.10", interest_due="1087.50")  # fmt: skip
    assert due.amount_due == Decimal("25087.60")
    assert due.paid_amount == Decimal("0")
    with pytest.raises(ValidationError, match="paid_on is required"):
        Repayment(loan_id="L-1", period=1, due_date=date(2024, 7, 5), principal_due="1",
                  interest_due="0", paid_amount="1")  # fmt: skip
    with pytest.raises(ValidationError, match="period"):
        Repayment(loan_id="L-1", period=0, due_date=date(2024, 7, 5), principal_due="1",
                  interest_due="0")  # fmt: skip


def test_labels() -> None:
    assert RepaymentMethod.EQUAL_INSTALMENT.zh == "等额本息"
    assert RepaymentMethod.INTEREST_ONLY_BULLET.zh == "先息后本"
    assert ProductIntent.MORTGAGE_BACKED.zh == "抵押贷"
    assert Channel.RENEWAL.zh == "续贷"
    assert {m.value for m in Channel} == {
        "walk_in", "online", "manager_referral", "supply_chain", "renewal"
    }  # fmt: skip
