"""Applications, decisions, loans and repayments: the records of the lending business.

Why the limits live here as named constants: they are regulatory or judicial facts that change
(the inclusive small-micro cap, the court-enforced interest ceiling), so each is one constant a
deployment can review, and every model refers to it instead of repeating a number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from xiaowei.entities.fields import (
    DomainModel,
    EntityId,
    ExactDecimal,
    NonNegativeYuan,
    PositiveYuan,
)
from xiaowei.entities.identifiers import validate_resident_id, validate_uscc
from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.party import PartyType

INCLUSIVE_SME_CREDIT_CAP = Decimal("10000000.00")
"""Yuan. 普惠型小微贷款 are loans with total credit per borrower up to CNY 10 million
(inclusive); larger amounts are outside this department's products. [check wording]"""

MAX_ANNUAL_RATE = Decimal("0.36")
"""Exclusive upper bound on a contract's annual rate, a sanity ceiling rather than a pricing
rule. Rates above 36% were void under the 2015 judicial interpretation on private lending;
since 2020 courts cap private lending at 4 × the one-year LPR (about 12–15%), which does not
bind licensed banks directly. A bank deploying this sets its own, lower, ceiling here."""

MAX_TERM_MONTHS = 120


class Channel(LabelledStrEnum):
    """How an application reached the bank."""

    WALK_IN = "walk_in", "网点进件"
    ONLINE = "online", "线上申请"
    MANAGER_REFERRAL = "manager_referral", "客户经理推荐"
    SUPPLY_CHAIN = "supply_chain", "供应链推荐"
    RENEWAL = "renewal", "续贷"


class ProductIntent(LabelledStrEnum):
    """What the applicant asked for; the strategy may offer something else."""

    WORKING_CAPITAL = "working_capital", "流动资金贷"
    TAX_LOAN = "tax_loan", "税易贷", "tax-record-based loan"
    INVOICE_LOAN = "invoice_loan", "发票贷", "invoice-based loan"
    MORTGAGE_BACKED = "mortgage_backed", "抵押贷"
    GUARANTEED = "guaranteed", "保证贷"
    SUPPLY_CHAIN_FINANCE = "supply_chain_finance", "供应链金融"
    CREDIT_LINE = "credit_line", "随借随还", "revolving credit line"


class ApplicationStatus(LabelledStrEnum):
    """Where an application stands."""

    SUBMITTED = "submitted", "已提交"
    IN_REVIEW = "in_review", "审批中"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已拒绝"
    WITHDRAWN = "withdrawn", "已撤回"


class RepaymentMethod(LabelledStrEnum):
    """How principal and interest are paid back."""

    EQUAL_INSTALMENT = "equal_instalment", "等额本息"
    EQUAL_PRINCIPAL = "equal_principal", "等额本金"
    INTEREST_ONLY_BULLET = "interest_only_bullet", "先息后本"
    REVOLVING = "revolving", "随借随还"


class LoanStatus(LabelledStrEnum):
    """Life-cycle state of a loan."""

    ACTIVE = "active", "正常"
    SETTLED = "settled", "已结清"
    OVERDUE = "overdue", "逾期"
    WRITTEN_OFF = "written_off", "已核销"


class DecisionOutcome(LabelledStrEnum):
    """What a decision node concluded."""

    APPROVE = "approve", "通过"
    REJECT = "reject", "拒绝"
    REVIEW = "review", "转人工"


class Application(DomainModel):
    """A request for credit, whatever the product: the one entry of the pipeline.

    Enterprises and individual businesses apply under their USCC (``applicant_uscc``), business
    owners under their resident ID (``applicant_id_number``); exactly the matching one is given.
    ``manager_id`` may be empty until the strategy assigns a manager, except for referrals.
    """

    application_id: EntityId
    party_type: PartyType
    applicant_uscc: str | None = None
    applicant_id_number: str | None = None
    applied_at: AwareDatetime
    channel: Channel
    product_intent: ProductIntent
    amount: PositiveYuan
    term_months: int = Field(ge=1, le=MAX_TERM_MONTHS)
    manager_id: EntityId | None = None
    branch_id: EntityId
    status: ApplicationStatus = ApplicationStatus.SUBMITTED

    @field_validator("applicant_uscc", mode="before")
    @classmethod
    def _uscc(cls, value: object) -> str | None:
        return None if value is None else validate_uscc(value, "applicant_uscc")

    @field_validator("applicant_id_number", mode="before")
    @classmethod
    def _id_number(cls, value: object) -> str | None:
        return None if value is None else validate_resident_id(value, "applicant_id_number")

    @field_validator("amount")
    @classmethod
    def _within_cap(cls, value: Decimal) -> Decimal:
        if value > INCLUSIVE_SME_CREDIT_CAP:
            raise ValueError(
                f"amount {value} exceeds the inclusive small-micro cap of "
                f"{INCLUSIVE_SME_CREDIT_CAP} yuan"
            )
        return value

    @model_validator(mode="after")
    def _applicant_matches_type(self) -> Application:
        wants_id = self.party_type is PartyType.BUSINESS_OWNER
        expected, other = (
            ("applicant_id_number", "applicant_uscc")
            if wants_id
            else ("applicant_uscc", "applicant_id_number")
        )
        if getattr(self, expected) is None or getattr(self, other) is not None:
            raise ValueError(
                f"a {self.party_type.value} applies with {expected} only (not {other})"
            )
        if self.channel is Channel.MANAGER_REFERRAL and self.manager_id is None:
            raise ValueError("manager_id is required for a manager_referral application")
        return self


ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
"""A reason code such as ``ADM_AGE_OUT_OF_RANGE``; its zh/en texts live with the strategies."""


class Decision(DomainModel):
    """The outcome of deciding an application, by the machine ('auto') or a manager.

    A rejection must carry at least one reason code: PIPL art. 24 lets the applicant ask why an
    automated decision went against them. ``approved_amount`` is given exactly when approving.
    """

    decision_id: EntityId
    application_id: EntityId
    outcome: DecisionOutcome
    decided_at: AwareDatetime
    decided_by: Literal["auto"] | EntityId
    reasons: tuple[ReasonCode, ...] = ()
    approved_amount: PositiveYuan | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Decision:
        approving = self.outcome is DecisionOutcome.APPROVE
        if approving and self.approved_amount is None:
            raise ValueError("approved_amount is required when the outcome is approve")
        if not approving and self.approved_amount is not None:
            raise ValueError(f"approved_amount must be empty when the outcome is {self.outcome}")
        if approving and self.approved_amount > INCLUSIVE_SME_CREDIT_CAP:
            raise ValueError("approved_amount exceeds the inclusive small-micro cap")
        if self.outcome is DecisionOutcome.REJECT and not self.reasons:
            raise ValueError("reasons: a rejection needs at least one reason code")
        return self


class Loan(DomainModel):
    """A disbursed loan."""

    loan_id: EntityId
    application_id: EntityId
    principal: PositiveYuan
    annual_rate: ExactDecimal
    term_months: int = Field(ge=1, le=MAX_TERM_MONTHS)
    start_date: date
    maturity_date: date
    repayment_method: RepaymentMethod
    status: LoanStatus = LoanStatus.ACTIVE

    @field_validator("annual_rate")
    @classmethod
    def _rate_in_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) < value < MAX_ANNUAL_RATE:
            raise ValueError(
                f"annual_rate must be above 0 and below {MAX_ANNUAL_RATE} "
                f"(a fraction: 0.045 for 4.5%), got {value}"
            )
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Loan:
        if self.maturity_date <= self.start_date:
            raise ValueError("maturity_date must be after start_date")
        return self


class Repayment(DomainModel):
    """One scheduled instalment of a loan and what was paid against it."""

    loan_id: EntityId
    period: int = Field(ge=1)
    due_date: date
    principal_due: NonNegativeYuan
    interest_due: NonNegativeYuan
    paid_on: date | None = None
    paid_amount: NonNegativeYuan = Decimal("0.00")

    @model_validator(mode="after")
    def _payment_has_date(self) -> Repayment:
        if self.paid_amount > 0 and self.paid_on is None:
            raise ValueError("paid_on is required when paid_amount is above zero")
        return self

    @property
    def amount_due(self) -> Decimal:
        """Principal plus interest due for the period."""
        return self.principal_due + self.interest_due
