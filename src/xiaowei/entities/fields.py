"""Field types shared by the domain models, and the models' common base.

Why annotated types: one declaration (``legal_rep_id: ResidentId``) attaches normalisation,
validation and masking to a field, and the validator learns the field's own name from pydantic,
so an error says ``field 'legal_rep_id'`` without each model repeating itself.

Why ``hide_input_in_errors``: pydantic's default error text echoes the raw input
(``input_value='330106…'``), which would put an unmasked ID number into every log line that
prints a ``ValidationError``. Our errors carry the masked value in their message instead. Code
that serialises errors itself should call ``exc.errors(include_input=False)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
)

from xiaowei.entities.divisions import validate_division_code
from xiaowei.entities.identifiers import validate_phone, validate_resident_id, validate_uscc
from xiaowei.entities.industry import validate_industry
from xiaowei.entities.money import to_decimal, to_yuan


class DomainModel(BaseModel):
    """Base of every domain type: immutable, no unknown keys, no raw input in error text."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _named(check: Callable[[object, str], str]) -> Callable[[Any, ValidationInfo], str]:
    """Adapt ``check(value, field)`` into a pydantic validator that knows its field's name."""

    def validator(value: Any, info: ValidationInfo) -> str:
        return check(value, info.field_name or "value")

    return validator


def _exact(convert: Callable[[Any, str], Decimal]) -> Callable[[Any, ValidationInfo], Decimal]:
    """Adapt a money converter; its TypeError (float given) becomes a field error."""

    def validator(value: Any, info: ValidationInfo) -> Decimal:
        if isinstance(value, Decimal | int | str | float) and not isinstance(value, bool):
            try:
                return convert(value, info.field_name or "value")
            except TypeError as exc:
                raise ValueError(str(exc)) from None
        raise ValueError(f"must be Decimal, int or str, not {type(value).__name__}")

    return validator


def _not_in_future(value: date) -> date:
    if value > date.today():
        raise ValueError("date is in the future")
    return value


Uscc = Annotated[str, BeforeValidator(_named(validate_uscc))]
ResidentId = Annotated[str, BeforeValidator(_named(validate_resident_id))]
Phone = Annotated[str, BeforeValidator(_named(validate_phone))]
RegionCode = Annotated[str, BeforeValidator(_named(validate_division_code))]
IndustryCode = Annotated[str, BeforeValidator(_named(validate_industry))]

Yuan = Annotated[Decimal, BeforeValidator(_exact(to_yuan))]
"""Money in yuan, rounded half-up to the fen; float input refused."""
NonNegativeYuan = Annotated[Decimal, BeforeValidator(_exact(to_yuan)), Field(ge=0)]
PositiveYuan = Annotated[Decimal, BeforeValidator(_exact(to_yuan)), Field(gt=0)]
ExactDecimal = Annotated[Decimal, BeforeValidator(_exact(to_decimal))]
"""A rate or ratio, kept exact (not rounded to the fen); float input refused."""

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
OrganisationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)
]
EntityId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"),
]
"""A platform identifier (branch, manager, application …): short, ASCII, no spaces."""
PastDate = Annotated[date, AfterValidator(_not_in_future)]
"""A date that has happened: founding, hiring. Today counts as past."""
