"""The accounting parameters: ``accounting.yaml``, validated, and the policies built from it.

Why a data file: the default day count, the penalty markup, the allocation order and the bucket
edges are product and policy choices — some of them remembered rather than read in the rule
(marked ``[check]`` in the file). Staff change them in a reviewed diff; a mistake stops at load
as ``accounting.yaml:LINE: key: problem`` (``xiaowei.entities.datafiles``), never as a wrong
schedule weeks later.

The pydantic models only check the file; the package works with the frozen policy objects
(``PenaltyTerms``, ``Waterfall``, ``BucketLadder`` …) that ``AccountingConfig`` bundles, so code
and tests can also build a configuration without any file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xiaowei.entities.datafiles import parse_yaml, validate_loaded
from xiaowei.entities.fields import ExactDecimal, NonNegativeYuan
from xiaowei.postloan.accounting.allocation import AcrossPeriods, Component, Waterfall
from xiaowei.postloan.accounting.daycount import DayCount, RateConvention
from xiaowei.postloan.accounting.delinquency import BucketLadder
from xiaowei.postloan.accounting.penalty import PenaltyTerms

DEFAULT_FILE = "accounting.yaml"


@dataclass(frozen=True)
class PrepaymentFee:
    """Fee on prepaid principal: ``max(rate × principal, minimum)``, rounded to the fen."""

    rate: Decimal = Decimal(0)
    minimum: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        for name in ("rate", "minimum"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"prepayment fee {name} must be a Decimal ≥ 0, got {value!r}")


@dataclass(frozen=True)
class RestructuringPolicy:
    """What a restructuring capitalises and how long its observation lasts."""

    capitalise_interest: bool = True
    capitalise_penalty: bool = False
    observation_min_periods: int = 2
    observation_min_months: int = 12

    def __post_init__(self) -> None:
        for name in ("observation_min_periods", "observation_min_months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")


@dataclass(frozen=True)
class AccountingConfig:
    """Every accounting parameter, as the package's policy objects."""

    day_count: DayCount = DayCount.ACT_360
    convention: RateConvention = RateConvention.ACTUAL_DAYS
    penalty: PenaltyTerms = field(default_factory=PenaltyTerms)
    waterfall: Waterfall = field(default_factory=Waterfall)
    grace_days: int = 0
    ladder: BucketLadder = field(default_factory=BucketLadder)
    prepayment_fee: PrepaymentFee = field(default_factory=PrepaymentFee)
    restructuring: RestructuringPolicy = field(default_factory=RestructuringPolicy)
    recovery_order: Waterfall = field(default_factory=lambda: Waterfall(
        (Component.PRINCIPAL, Component.INTEREST, Component.PENALTY)))

    def __post_init__(self) -> None:
        if isinstance(self.grace_days, bool) or not isinstance(self.grace_days, int) \
                or self.grace_days < 0:
            raise ValueError(f"grace_days must be an integer ≥ 0, got {self.grace_days!r}")


# --- the file's shape -------------------------------------------------------------------------

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Interest(_Section):
    day_count: DayCount
    convention: RateConvention


class _Penalty(_Section):
    markup: Annotated[ExactDecimal, Field(ge=0, le=1)]
    day_count: DayCount
    compound: bool
    compound_markup: Annotated[ExactDecimal, Field(ge=0, le=1)] | None = None


def _full_order(order: list[Component]) -> list[Component]:
    Waterfall(tuple(order))  # raises ValueError with the reason
    return order


class _Allocation(_Section):
    order: list[Component]
    across_periods: AcrossPeriods

    _check = field_validator("order")(_full_order)


class _Delinquency(_Section):
    grace_days: Annotated[int, Field(ge=0, le=30)]
    bucket_edges: list[int] = Field(min_length=1)

    @field_validator("bucket_edges")
    @classmethod
    def _ladder(cls, edges: list[int]) -> list[int]:
        BucketLadder(tuple(edges))
        return edges


class _Prepayment(_Section):
    fee_rate: Annotated[ExactDecimal, Field(ge=0, lt=1)]
    fee_minimum: NonNegativeYuan


class _Restructuring(_Section):
    capitalise_interest: bool
    capitalise_penalty: bool
    observation_min_periods: Annotated[int, Field(ge=1)]
    observation_min_months: Annotated[int, Field(ge=1)]


class _WriteOff(_Section):
    recovery_order: list[Component]

    _check = field_validator("recovery_order")(_full_order)


class AccountingFile(_Section):
    """The shape of ``accounting.yaml``; unknown keys are refused."""

    version: Annotated[int, Field(ge=1)]
    interest: _Interest
    penalty: _Penalty
    allocation: _Allocation
    delinquency: _Delinquency
    prepayment: _Prepayment
    restructuring: _Restructuring
    write_off: _WriteOff

    def to_config(self) -> AccountingConfig:
        """The policy objects this file describes."""
        p = self.penalty
        return AccountingConfig(
            day_count=self.interest.day_count,
            convention=self.interest.convention,
            penalty=PenaltyTerms(p.markup, p.day_count, p.compound, p.compound_markup),
            waterfall=Waterfall(tuple(self.allocation.order), self.allocation.across_periods),
            grace_days=self.delinquency.grace_days,
            ladder=BucketLadder(tuple(self.delinquency.bucket_edges)),
            prepayment_fee=PrepaymentFee(self.prepayment.fee_rate, self.prepayment.fee_minimum),
            restructuring=RestructuringPolicy(**self.restructuring.model_dump()),
            recovery_order=Waterfall(tuple(self.write_off.recovery_order)),
        )


def parse_config(text: str, file: str = DEFAULT_FILE) -> AccountingConfig:
    """Validate the text of an accounting file; errors name ``file:line``."""
    return validate_loaded(AccountingFile, parse_yaml(text, file)).to_config()


def load_config(path: Path | str) -> AccountingConfig:
    """Load a deployment's own accounting file."""
    path = Path(path)
    return parse_config(path.read_text(encoding="utf-8"), path.name)


@lru_cache(maxsize=1)
def default_config() -> AccountingConfig:
    """The parameters shipped with the package (``accounting.yaml``)."""
    text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text("utf-8")
    return parse_config(text, DEFAULT_FILE)
