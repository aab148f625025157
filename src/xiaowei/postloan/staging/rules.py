"""Staging thresholds and default ECL parameters as data: ``staging.yaml``.

Why data: the 30/90-day backstops come from the standard, but the downgrade notches, the warning
levels that count as a significant increase in credit risk, and every LGD and CCF are the bank's
choices (or placeholders awaiting calibration). They are reviewed in diffs and stop at load with
``staging.yaml:LINE: key: problem``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from xiaowei.entities.datafiles import load_data_file

DEFAULT_FILE = "staging.yaml"
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Backstops(_Strict):
    sicr_dpd_above: Annotated[int, Field(ge=0)]
    sicr_rebuttable: bool
    default_dpd_above: Annotated[int, Field(ge=0)]
    source: Text

    @field_validator("default_dpd_above")
    @classmethod
    def _after_sicr(cls, days: int, info: ValidationInfo) -> int:
        sicr = info.data.get("sicr_dpd_above")
        if sicr is not None and days <= sicr:
            raise ValueError(f"default_dpd_above ({days}) must exceed sicr_dpd_above ({sicr})")
        return days


class Sicr(_Strict):
    rating_downgrade_notches: Annotated[int, Field(ge=1)]
    rating_downgrade_check: bool = False
    known_warning_levels: list[str] = Field(min_length=1)
    sicr_warning_levels: list[str]
    watch_list_is_sicr: bool
    special_mention_is_sicr: bool
    source: Text

    @field_validator("sicr_warning_levels")
    @classmethod
    def _known(cls, levels: list[str], info: ValidationInfo) -> list[str]:
        known = info.data.get("known_warning_levels") or []
        unknown = [level for level in levels if level not in known]
        if unknown:
            raise ValueError(f"unknown warning level(s) {unknown}; known: {known}")
        return levels


class ByProduct(_Strict):
    default: Fraction
    by_product: dict[str, Fraction] = Field(default_factory=dict)
    check: bool = False
    source: Text


class Lgd(ByProduct):
    by_collateral: dict[str, Fraction] = Field(default_factory=dict)


class StagingRules(_Strict):
    version: Annotated[int, Field(ge=1)]
    backstops: Backstops
    sicr: Sicr
    lgd: Lgd
    ccf: ByProduct

    def lgd_for(self, product: str | None, collateral: str | None) -> Decimal:
        """Collateral first (it decides recoveries), then product, then the default."""
        if collateral is not None:
            if collateral not in self.lgd.by_collateral:
                raise ValueError(f"unknown collateral type {collateral!r}; known: "
                                 f"{', '.join(self.lgd.by_collateral)}")
            return self.lgd.by_collateral[collateral]
        if product is not None and product in self.lgd.by_product:
            return self.lgd.by_product[product]
        return self.lgd.default

    def ccf_for(self, product: str | None) -> Decimal:
        if product is not None and product in self.ccf.by_product:
            return self.ccf.by_product[product]
        return self.ccf.default


def load_staging_rules(path: Path | str | None = None) -> StagingRules:
    """Load and validate a staging file (the packaged one by default)."""
    return load_data_file(StagingRules, __package__, DEFAULT_FILE, path)


@lru_cache(maxsize=1)
def default_staging_rules() -> StagingRules:
    return load_staging_rules()
