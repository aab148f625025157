"""The three kinds of borrower an SME department serves, as validated records.

Why three types and not one "customer": they differ in law and in data. An enterprise (小微企业)
is a legal person with a legal representative and a size class; an individual business
(个体工商户) is registered like a firm (USCC starting 92) but its operator is personally liable;
a business owner (个人经营者) borrows as a natural person for business use, identified by the
resident ID. Rules and tags ask which one they face, so the type is explicit (``party_type``)
and a ``Party`` union can be parsed from a record that names its type.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.fields import (
    DomainModel,
    IndustryCode,
    NonNegativeYuan,
    OrganisationName,
    PastDate,
    PersonName,
    Phone,
    RegionCode,
    ResidentId,
    Uscc,
)
from xiaowei.entities.identifiers import USCC_WHAT
from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.masking import mask_uscc
from xiaowei.entities.money import yuan_to_wan
from xiaowei.entities.size_class import SizeClass, classify_size


class PartyType(LabelledStrEnum):
    """Kind of borrower."""

    ENTERPRISE = "enterprise", "小微企业", "small or micro enterprise"
    INDIVIDUAL_BUSINESS = "individual_business", "个体工商户", "individual business"
    BUSINESS_OWNER = "business_owner", "个人经营者", "business owner"


class TaxCreditGrade(LabelledStrEnum):
    """Tax authority's annual credit grade of a taxpayer (纳税信用等级), used by tax-based loans."""

    A = "A", "A级", "grade A (score 90 or above)"
    B = "B", "B级", "grade B (70 to under 90)"
    M = "M", "M级", "grade M (new or no-revenue taxpayer)"
    C = "C", "C级", "grade C (40 to under 70)"
    D = "D", "D级", "grade D (under 40 or serious breach)"


def _uscc_kind(value: str, field: str, allowed: tuple[str, ...], expected: str) -> str:
    """Check the registration authority and entity type (first two characters) of a USCC."""
    if value[:2] not in allowed:
        reason = f"{expected} has a code starting {' or '.join(allowed)}"
        raise InvalidIdentifier(field, mask_uscc(value), reason, USCC_WHAT)
    return value


class Enterprise(DomainModel):
    """A small or micro enterprise (or a farmers' cooperative) applying as a legal person.

    ``size_class`` is derived from industry, employees, revenue and (where the industry group
    needs it) total assets; if given, it must agree with them. It may be given without the
    indicators only when they cannot decide it (no ``total_assets`` for construction, say).
    """

    party_type: Literal[PartyType.ENTERPRISE] = PartyType.ENTERPRISE
    uscc: Uscc
    name: OrganisationName
    legal_rep_name: PersonName
    legal_rep_id: ResidentId
    region_code: RegionCode
    industry_code: IndustryCode
    established_on: PastDate
    registered_capital: NonNegativeYuan
    employees: int = Field(ge=0)
    annual_revenue: NonNegativeYuan
    total_assets: NonNegativeYuan | None = None
    size_class: SizeClass | None = None
    tax_credit_grade: TaxCreditGrade | None = None
    phone: Phone | None = None

    @field_validator("uscc")
    @classmethod
    def _enterprise_code(cls, value: str) -> str:
        # 91: enterprise registered with market regulation; 93: farmers' cooperative.
        return _uscc_kind(value, "uscc", ("91", "93"), "an enterprise")

    @model_validator(mode="after")
    def _size_class_agrees(self) -> Enterprise:
        try:
            derived = classify_size(
                self.industry_code,
                employees=self.employees,
                revenue_wan=yuan_to_wan(self.annual_revenue),
                assets_wan=None if self.total_assets is None else yuan_to_wan(self.total_assets),
            )
        except ValueError as exc:
            if self.size_class is None:
                raise ValueError(f"size_class cannot be derived ({exc}); give it") from None
            return self
        if self.size_class is None:
            # Frozen model: set the derived value once, during validation.
            object.__setattr__(self, "size_class", derived)
        elif self.size_class != derived:
            raise ValueError(
                f"size_class '{self.size_class}' contradicts the indicators, which give "
                f"'{derived}' ({derived.zh})"
            )
        return self


class IndividualBusiness(DomainModel):
    """A 个体工商户: registered with a USCC starting 92, run by one natural person."""

    party_type: Literal[PartyType.INDIVIDUAL_BUSINESS] = PartyType.INDIVIDUAL_BUSINESS
    uscc: Uscc
    name: OrganisationName
    operator_name: PersonName
    operator_id: ResidentId
    region_code: RegionCode
    industry_code: IndustryCode
    established_on: PastDate
    phone: Phone

    @field_validator("uscc")
    @classmethod
    def _individual_business_code(cls, value: str) -> str:
        return _uscc_kind(value, "uscc", ("92",), "an individual business")


class BusinessOwner(DomainModel):
    """A natural person borrowing for business use, known by the resident ID."""

    party_type: Literal[PartyType.BUSINESS_OWNER] = PartyType.BUSINESS_OWNER
    id_number: ResidentId
    name: PersonName
    phone: Phone
    region_code: RegionCode


Party = Annotated[
    Enterprise | IndividualBusiness | BusinessOwner, Field(discriminator="party_type")
]
"""Any borrower; parse with ``TypeAdapter(Party)`` from a record carrying ``party_type``."""
