"""A person's override of the class (人工认定), under maker–checker.

Why overrides are one-directional: the objective floors are minimums set by regulation, so a
person may always judge a loan *worse* (with evidence), never better than a floor — an override
that would lift a loan above its floors is refused with the floors it ran into. Every override
needs written evidence and a second person (checker ≠ maker), and appears in the reasons.
"""

from __future__ import annotations

from xiaowei.postloan.classification.classes import LoanClass, Reason
from xiaowei.postloan.classification.loan_state import ManualOverride
from xiaowei.postloan.classification.rules import OVERRIDE_CODE


class OverrideRefused(ValueError):
    """An override that may not be applied; the message says why."""


def check_override(override: ManualOverride) -> None:
    """Evidence and two different people, or refuse."""
    if not isinstance(override.klass, LoanClass):
        raise OverrideRefused(f"override class must be a LoanClass, got {override.klass!r}")
    if not (override.evidence or "").strip():
        raise OverrideRefused("an override needs evidence text (认定依据)")
    maker, checker = (override.maker or "").strip(), (override.checker or "").strip()
    if not maker or not checker:
        raise OverrideRefused("an override needs a maker and a checker (双人复核)")
    if maker.casefold() == checker.casefold():
        raise OverrideRefused(f"the checker must be another person than the maker ({maker!r})")


def override_reason(override: ManualOverride, objective: LoanClass,
                    floors: list[Reason], loan_id: str) -> Reason:
    """The override's reason; refused when it would be better than the objective floors."""
    check_override(override)
    if override.klass < objective:
        binding = [r for r in floors if r.floor == objective]
        why = "; ".join(f"{r.code} ({r.floor.value})" for r in binding)
        raise OverrideRefused(
            f"loan {loan_id}: override to {override.klass.value} ({override.klass.en}) is better "
            f"than the objective floor {objective.value} ({objective.en}) set by {why}; "
            "floors are minimums")
    return Reason(OVERRIDE_CODE,
                  f"人工认定为{override.klass.zh}类（经办 {override.maker.strip()}，复核 "
                  f"{override.checker.strip()}）：{override.evidence.strip()}",
                  f"manual override to {override.klass.en} (maker {override.maker.strip()}, "
                  f"checker {override.checker.strip()}): {override.evidence.strip()}",
                  override.klass)
