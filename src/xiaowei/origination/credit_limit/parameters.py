"""The credit limit policy's parameters, loaded from YAML and checked before any limit is set.

Why data, not code: revenue shares, industry caps and rating multipliers are credit policy —
the policy team changes them, an auditor reads the diff, and each change is a new version.
A mistake must stop the policy at load with ``limits.yaml:LINE: key: problem`` (via
``xiaowei.entities.datafiles``), never surface later as a wrong limit.
"""

from __future__ import annotations

import itertools
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xiaowei.engine.models.master_scale import DEFAULT_NAMES
from xiaowei.entities.datafiles import parse_yaml, validate_loaded

REVENUE_SOURCES = ("tax_sales_12m", "invoice_amount_12m", "account_inflow_12m")
"""The verified revenue sources, named as the governed tags that measure them."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveShare = Annotated[float, Field(gt=0.0, le=1.0)]
Yuan = Annotated[int, Field(ge=0, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RevenueSource(_Strict):
    """One source of verified revenue: its names, role, how it scales to revenue, data needed.

    ``declared``: the firm's whole sales as reported to the state (tax filings, invoices);
    ``partial``: money the bank sees itself but only the part of the business that runs
    through it (inflows at this bank) — a lower bound that confirms, never a measure to
    average with declared sales.
    """

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    role: Literal["declared", "partial"]
    factor: Annotated[float, Field(gt=0.0, le=10.0)]
    min_months: Annotated[int, Field(ge=1, le=12)]


class RevenueRule(_Strict):
    """How the sources combine into one verified annual revenue."""

    sources: dict[str, RevenueSource]
    combine: Literal["median", "min"]
    disagreement_ratio: Annotated[float, Field(ge=1.0)]
    disagreement_haircut: Share
    uncorroborated_haircut: Share
    corroboration_share: PositiveShare

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, RevenueSource]) -> dict[str, RevenueSource]:
        unknown = sorted(set(value) - set(REVENUE_SOURCES))
        if unknown or not value:
            raise ValueError(f"sources must be some of {list(REVENUE_SOURCES)}; "
                             f"got unknown {unknown}" if unknown else "at least one source")
        return value


class DebtServiceRule(_Strict):
    """Annual service of all debt ≤ max_service_ratio × cash flow."""

    max_service_ratio: PositiveShare
    annual_service_per_yuan: Annotated[float, Field(gt=0.0, le=2.0)]


class IndustryRule(_Strict):
    """Per GB/T 4754 section: base share of revenue, cash margin, industry cap."""

    revenue_share: PositiveShare
    cash_margin: PositiveShare
    cap_yuan: Yuan


_SECTION = re.compile(r"^[A-T]$")


class LimitParameters(_Strict):
    """The whole policy file (``limits.yaml``)."""

    version: Annotated[int, Field(ge=1, strict=True)]
    regulatory_cap_yuan: Annotated[int, Field(gt=0, le=10_000_000, strict=True)]
    rounding_unit_yuan: Annotated[int, Field(gt=0, strict=True)]
    revenue: RevenueRule
    debt_service: DebtServiceRule
    rating_multipliers: dict[str, Share]
    industries: dict[str, IndustryRule]

    @field_validator("rating_multipliers")
    @classmethod
    def _every_grade(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [g for g in DEFAULT_NAMES if g not in value]
        unknown = [g for g in value if g not in DEFAULT_NAMES]
        if missing or unknown:
            raise ValueError(f"one multiplier per master-scale grade {list(DEFAULT_NAMES)}; "
                             f"missing {missing}, unknown {unknown}")
        worse = [b for a, b in itertools.pairwise(DEFAULT_NAMES)
                 if value[b] > value[a]]
        if worse:
            raise ValueError(f"a worse grade may not get a larger multiplier: {worse}")
        return value

    @field_validator("industries")
    @classmethod
    def _sections(cls, value: dict[str, IndustryRule]) -> dict[str, IndustryRule]:
        if "default" not in value:
            raise ValueError("a 'default' industry rule is required")
        bad = [k for k in value if k != "default" and not _SECTION.match(k)]
        if bad:
            raise ValueError(f"industry keys are GB/T 4754 sections A–T or 'default'; got {bad}")
        return value

    @model_validator(mode="after")
    def _caps_within_regulation(self) -> LimitParameters:
        over = [k for k, r in self.industries.items() if r.cap_yuan > self.regulatory_cap_yuan]
        if over:
            raise ValueError(f"industry caps above the regulatory cap "
                             f"{self.regulatory_cap_yuan}: {over}")
        return self

    def industry(self, section: str | None) -> IndustryRule:
        """The rule of a section, or the default one for an unknown or missing section."""
        return self.industries.get(section or "default", self.industries["default"])


DEFAULT_FILE = "limits.yaml"


def load_parameters(path: Path | str | None = None) -> LimitParameters:
    """Parameters from ``path``, or the packaged ``limits.yaml``; ``DataFileError`` if wrong."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text("utf-8")
        name = DEFAULT_FILE
    else:
        path = Path(path)
        text, name = path.read_text("utf-8"), path.name
    return validate_loaded(LimitParameters, parse_yaml(text, name))


def parameters_from_text(text: str, name: str = "limits.yaml") -> LimitParameters:
    """Parameters from YAML text (tests, an editor's preview before saving)."""
    return validate_loaded(LimitParameters, parse_yaml(text, name))
