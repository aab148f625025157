"""Expected credit loss: ECL = PD × LGD × EAD, to the fen.

- EAD = balance + CCF × undrawn (CCF by product from ``staging.yaml`` unless given).
- PD: Stage 1 the 12-month PD, Stage 2 a lifetime PD, Stage 3 = 1 (already in default).
- LGD by collateral, else product, else the default (``staging.yaml``) unless given.

**Simplification.** The lifetime PD is derived from the 12-month PD by assuming a constant
annual hazard: ``PD_life = 1 − (1 − PD_12m) ** years`` with ``years = remaining months ÷ 12``.
Real lifetime PD curves rise or fall with seasoning and the economic forecast, and IFRS 9 asks
for forward-looking, probability-weighted scenarios and discounting at the effective rate — none
of which is here. For a loan with less than a year to run, Stage 1 uses the same formula over
the remaining term (a 12-month window cannot outlive the loan), so Stage 1 never exceeds Stage 2
for the same loan. A remaining term below one month counts as one month: a loan at or past
maturity still has its last default risk ahead.

Rounding: EAD is rounded half-up to the fen first, then ECL = PD × LGD × EAD rounded half-up to
the fen, so a hand calculation from the printed EAD reproduces the printed ECL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xiaowei.entities.money import FEN, MoneyInput, to_decimal, to_yuan
from xiaowei.postloan.staging.rules import StagingRules, default_staging_rules
from xiaowei.postloan.staging.stages import Stage

ONE = Decimal(1)
TWELVE = Decimal(12)


def _fraction(value: MoneyInput, what: str) -> Decimal:
    number = to_decimal(value, what)
    if not 0 <= number <= 1:
        raise ValueError(f"{what} must be between 0 and 1, got {number}")
    return number


def lifetime_pd(pd_12m: MoneyInput, remaining_months: int) -> Decimal:
    """``1 − (1 − PD_12m) ** (remaining_months / 12)`` — constant-hazard simplification."""
    pd = _fraction(pd_12m, "pd_12m")
    if isinstance(remaining_months, bool) or not isinstance(remaining_months, int):
        raise TypeError(f"remaining_months must be an int, got {remaining_months!r}")
    years = Decimal(max(remaining_months, 1)) / TWELVE
    if pd == ONE:
        return ONE
    return ONE - (ONE - pd) ** years


def stage_pd(stage: Stage, pd_12m: MoneyInput, remaining_months: int) -> Decimal:
    """The PD a stage measures: 12-month (capped at the remaining term), lifetime, or 1."""
    if stage == Stage.IMPAIRED:
        return ONE
    if stage == Stage.PERFORMING:
        if remaining_months >= 12:
            return _fraction(pd_12m, "pd_12m")
        return lifetime_pd(pd_12m, remaining_months)
    return lifetime_pd(pd_12m, remaining_months)


@dataclass(frozen=True)
class EclResult:
    """The parameters used and the loss, so that the figure can be checked by hand."""

    stage: Stage
    pd: Decimal
    lgd: Decimal
    ccf: Decimal
    ead: Decimal
    ecl: Decimal


def exposure_at_default(balance: MoneyInput, undrawn: MoneyInput, ccf: Decimal) -> Decimal:
    """EAD = balance + CCF × undrawn, rounded half-up to the fen."""
    drawn, spare = to_decimal(balance, "balance"), to_decimal(undrawn, "undrawn")
    if drawn < 0 or spare < 0:
        raise ValueError(f"balance and undrawn must be ≥ 0, got {drawn} and {spare}")
    return to_yuan(drawn + ccf * spare, "ead")


def expected_credit_loss(
    *,
    stage: Stage,
    balance: MoneyInput,
    pd_12m: MoneyInput,
    remaining_months: int,
    undrawn: MoneyInput = 0,
    lgd: MoneyInput | None = None,
    ccf: MoneyInput | None = None,
    product: str | None = None,
    collateral: str | None = None,
    rules: StagingRules | None = None,
) -> EclResult:
    """ECL of one exposure; LGD and CCF from ``staging.yaml`` unless given."""
    rules = rules or default_staging_rules()
    stage = Stage(stage)
    used_lgd = (_fraction(lgd, "lgd") if lgd is not None
                else rules.lgd_for(product, collateral))
    used_ccf = _fraction(ccf, "ccf") if ccf is not None else rules.ccf_for(product)
    ead = exposure_at_default(balance, undrawn, used_ccf)
    pd = stage_pd(stage, pd_12m, remaining_months)
    ecl = (pd * used_lgd * ead).quantize(FEN, rounding=ROUND_HALF_UP)
    return EclResult(stage, pd, used_lgd, used_ccf, ead, ecl)
