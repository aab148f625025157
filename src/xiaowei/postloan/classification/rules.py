"""The classification thresholds as data: ``classification.yaml`` and its validated model.

Why a data file: every number behind a floor (the 7-day grace, the ECL ratios, the 10% debtor
share, whether small-micro loans count as retail) is either read in the regulation or
remembered and waiting to be confirmed. Staff who are not programmers confirm or change them in
a reviewed diff, so they live in YAML with their source and a ``check`` mark; a mistake stops at
load as ``classification.yaml:LINE: key: problem`` (``xiaowei.entities.datafiles``).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from xiaowei.entities.datafiles import load_data_file
from xiaowei.postloan.classification.classes import LoanClass

DEFAULT_FILE = "classification.yaml"
Segment = Literal["retail", "small_micro", "corporate"]
Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _class(value: object) -> object:
    return LoanClass.parse(value) if isinstance(value, str) else value


class _Floored(_Strict):
    floor: LoanClass
    zh: Text
    en: Text
    source: Text
    check: bool = False

    _parse_floor = field_validator("floor", mode="before")(_class)


class LadderStep(_Floored):
    """dpd > ``above_days`` ⇒ at least ``floor``."""

    above_days: Annotated[int, Field(ge=0)]
    code: Code


class Ladder(_Strict):
    zh: Text
    en: Text
    steps: list[LadderStep] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[LadderStep]) -> list[LadderStep]:
        for before, after in pairwise(steps):
            if after.above_days <= before.above_days or after.floor <= before.floor:
                raise ValueError(
                    f"steps must rise in days and in class: {after.code} "
                    f"({after.above_days} days, {after.floor.value}) follows {before.code} "
                    f"({before.above_days} days, {before.floor.value})")
        if steps[0].floor == LoanClass.PASS:
            raise ValueError("a ladder step must set a floor worse than 正常")
        return steps

    @property
    def grace_days(self) -> int:
        """Days overdue that still allow 正常: up to the first step."""
        return self.steps[0].above_days


class Product(_Strict):
    ladder: str | None = None
    segment: Segment | None = None


class Signal(_Floored):
    non_retail_only: bool = False


class EclRatioStep(_Floored):
    """Credit-impaired and ECL ÷ book balance ≥ ``at_least`` ⇒ at least ``floor``."""

    at_least: Annotated[Decimal, Field(gt=0, le=1)]
    code: Code


class Impairment(_Floored):
    ecl_ratio_steps: list[EclRatioStep]

    @field_validator("ecl_ratio_steps")
    @classmethod
    def _ordered(cls, steps: list[EclRatioStep]) -> list[EclRatioStep]:
        for before, after in pairwise(steps):
            if after.at_least <= before.at_least or after.floor < before.floor:
                raise ValueError(f"ECL ratio steps must rise: {after.code} follows {before.code}")
        return steps


class Restructuring(_Strict):
    observation_min_periods: Annotated[int, Field(ge=1)]
    observation_min_years: Annotated[int, Field(ge=1)]
    in_observation_floor: LoanClass
    overdue_in_observation_floor: LoanClass | None
    overdue_in_observation_check: bool = False
    restructured_again_floor: LoanClass
    restructured_again_check: bool = False
    source: Text

    _parse = field_validator("in_observation_floor", "overdue_in_observation_floor",
                             "restructured_again_floor", mode="before")(_class)


class Upgrade(_Strict):
    min_periods: Annotated[int, Field(ge=0)]
    min_months: Annotated[int, Field(ge=0)]
    require: Literal["both", "either"]
    check: bool = False
    source: Text


class Debtor(_Strict):
    npl_share_above: Annotated[Decimal, Field(ge=0, lt=1)]
    floor: LoanClass
    small_micro_as_retail: bool
    small_micro_as_retail_check: bool = False
    source: Text

    _parse = field_validator("floor", mode="before")(_class)


class ClassificationRules(_Strict):
    """Everything classification reads from ``classification.yaml``."""

    version: Annotated[int, Field(ge=1)]
    ladders: dict[str, Ladder] = Field(min_length=1)
    default_ladder: str
    default_segment: Segment
    products: dict[str, Product] = Field(default_factory=dict)
    signals: dict[str, Signal]
    impairment: Impairment
    restructuring: Restructuring
    upgrade: Upgrade
    debtor: Debtor

    @field_validator("default_ladder")
    @classmethod
    def _known_default(cls, name: str, info: ValidationInfo) -> str:
        ladders = info.data.get("ladders") or {}
        if name not in ladders:
            raise ValueError(f"no ladder named {name!r} (have: {', '.join(ladders)})")
        return name

    @field_validator("products")
    @classmethod
    def _known_ladders(cls, products: dict[str, Product], info: ValidationInfo
                       ) -> dict[str, Product]:
        ladders = info.data.get("ladders") or {}
        for name, product in products.items():
            if product.ladder is not None and product.ladder not in ladders:
                raise ValueError(f"product {name!r} names no known ladder {product.ladder!r}")
        return products

    @field_validator("debtor")
    @classmethod
    def _unique_codes(cls, debtor: Debtor, info: ValidationInfo) -> Debtor:
        # Runs last (fields validate in order) so that every code-bearing section is known.
        codes = [s.code for ladder in (info.data.get("ladders") or {}).values()
                 for s in ladder.steps]
        impairment = info.data.get("impairment")
        if impairment is not None:
            codes += [s.code for s in impairment.ecl_ratio_steps]
        codes += [signal_code(name) for name in info.data.get("signals") or {}]
        codes += list(FIXED_CODES)
        seen = {c for c in codes if codes.count(c) > 1}
        if seen:
            raise ValueError(f"reason codes must be unique; repeated: {', '.join(sorted(seen))}")
        return debtor

    def ladder_for(self, product: str | None) -> Ladder:
        """The product's ladder, else the default ladder."""
        entry = self.products.get(product) if product else None
        name = entry.ladder if entry and entry.ladder else self.default_ladder
        return self.ladders[name]

    def segment_for(self, product: str | None, segment: str | None) -> str:
        """The loan's own segment, else its product's, else the default."""
        if segment:
            return segment
        entry = self.products.get(product) if product else None
        return entry.segment if entry and entry.segment else self.default_segment

    def is_retail(self, segment: str) -> bool:
        """Retail assets are classified loan by loan; non-retail by debtor."""
        return segment == "retail" or (segment == "small_micro"
                                       and self.debtor.small_micro_as_retail)

    def reason_codes(self) -> tuple[str, ...]:
        """Every reason code classification can emit, in the order reasons are listed."""
        codes: list[str] = []
        for ladder in self.ladders.values():
            if ladder.grace_days > 0 and GRACE_CODE not in codes:
                codes.append(GRACE_CODE)
            codes += [s.code for s in ladder.steps]
        for name, signal in self.signals.items():
            codes.append(signal_code(name))
            if signal.non_retail_only:
                codes.append(signal_code(name) + NOT_APPLIED_SUFFIX)
        codes += [IMPAIRED_CODE, *(s.code for s in self.impairment.ecl_ratio_steps)]
        codes += [RESTRUCTURED_AGAIN_CODE, RESTRUCTURED_OVERDUE_CODE, IN_OBSERVATION_CODE,
                  OBSERVATION_PASSED_CODE, UPGRADE_REFUSED_CODE, UPGRADE_ALLOWED_CODE,
                  OVERRIDE_CODE, NO_FLOOR_CODE, DEBTOR_CODE]
        return tuple(codes)


GRACE_CODE = "OVERDUE_WITHIN_GRACE"
IMPAIRED_CODE = "CREDIT_IMPAIRED"
IN_OBSERVATION_CODE = "RESTRUCTURED_IN_OBSERVATION"
RESTRUCTURED_OVERDUE_CODE = "RESTRUCTURED_OVERDUE_IN_OBSERVATION"
RESTRUCTURED_AGAIN_CODE = "RESTRUCTURED_AGAIN_IN_OBSERVATION"
OBSERVATION_PASSED_CODE = "RESTRUCTURED_OBSERVATION_PASSED"
UPGRADE_REFUSED_CODE = "UPGRADE_REFUSED"
UPGRADE_ALLOWED_CODE = "UPGRADE_ALLOWED"
NO_FLOOR_CODE = "NO_FLOOR"
OVERRIDE_CODE = "MANUAL_OVERRIDE"
DEBTOR_CODE = "DEBTOR_NPL_SHARE"
NOT_APPLIED_SUFFIX = "_NOT_APPLIED_RETAIL"
FIXED_CODES = (GRACE_CODE, IMPAIRED_CODE, IN_OBSERVATION_CODE, RESTRUCTURED_OVERDUE_CODE,
               RESTRUCTURED_AGAIN_CODE, OBSERVATION_PASSED_CODE, UPGRADE_REFUSED_CODE,
               UPGRADE_ALLOWED_CODE, NO_FLOOR_CODE, OVERRIDE_CODE, DEBTOR_CODE)


def signal_code(name: str) -> str:
    """The reason code of a warning signal: ``funds_misused`` → ``SIGNAL_FUNDS_MISUSED``."""
    return "SIGNAL_" + name.upper()


def load_classification_rules(path: Path | str | None = None) -> ClassificationRules:
    """Load and validate a classification file (the packaged one by default)."""
    return load_data_file(ClassificationRules, __package__, DEFAULT_FILE, path)


@lru_cache(maxsize=1)
def default_rules() -> ClassificationRules:
    """The packaged rules, loaded once per process."""
    return load_classification_rules()
