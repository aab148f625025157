"""The objective floors that depend only on the loan's own facts: days past due, warning
signals, credit impairment.

Why floors are separate small functions: each returns the reasons it found (possibly none),
each with the floor it sets, so the class is simply the worst floor and the explanation is the
list — no rule can silently cancel another.
"""

from __future__ import annotations

from decimal import Decimal

from xiaowei.postloan.classification.classes import LoanClass, Reason
from xiaowei.postloan.classification.rules import (
    GRACE_CODE,
    IMPAIRED_CODE,
    NOT_APPLIED_SUFFIX,
    ClassificationRules,
    Ladder,
    signal_code,
)


class UnknownSignal(ValueError):
    """A signal name that ``classification.yaml`` does not define."""


def dpd_floor(dpd: int, ladder: Ladder) -> list[Reason]:
    """The highest ladder step reached (dpd > above_days), or the grace note, or nothing."""
    reached = [step for step in ladder.steps if dpd > step.above_days]
    if reached:
        step = reached[-1]
        return [Reason(step.code, f"{step.zh}（逾期 {dpd} 天，{ladder.zh}）",
                       f"{step.en} ({dpd} days past due; {ladder.en})", step.floor)]
    if dpd > 0:
        return [Reason(GRACE_CODE,
                       f"逾期 {dpd} 天，在 {ladder.grace_days} 天技术性宽限期内，可为正常",
                       f"{dpd} days past due, within the {ladder.grace_days}-day technical "
                       "grace: 正常 allowed", LoanClass.PASS)]
    return []


def check_signals(signals: tuple[str, ...], rules: ClassificationRules) -> None:
    """Refuse names the rules do not know: a misspelt signal must not pass as no signal."""
    unknown = [name for name in signals if name not in rules.signals]
    if unknown:
        raise UnknownSignal(f"unknown warning signal(s) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(rules.signals)}")


def signal_floors(signals: tuple[str, ...], retail: bool,
                  rules: ClassificationRules) -> list[Reason]:
    """One reason per signal present, in the order of the rules file.

    A signal that speaks of a non-retail debtor sets no floor on a retail loan; it is noted so
    that the reader sees it was received and why it did not count.
    """
    check_signals(signals, rules)
    present = set(signals)
    found: list[Reason] = []
    for name, signal in rules.signals.items():
        if name not in present:
            continue
        if signal.non_retail_only and retail:
            found.append(Reason(signal_code(name) + NOT_APPLIED_SUFFIX,
                                f"{signal.zh}（零售资产逐笔分类，此项不适用）",
                                f"{signal.en} (retail asset, classified loan by loan: "
                                "not applied)", LoanClass.PASS))
        else:
            found.append(Reason(signal_code(name), signal.zh, signal.en, signal.floor))
    return found


def impairment_floors(impaired: bool, ecl_ratio: Decimal | None,
                      rules: ClassificationRules) -> list[Reason]:
    """Credit-impaired ⇒ at least 次级; with ECL ÷ balance at a step ⇒ that step's floor.

    The ECL ratios apply to credit-impaired assets only, as the rule states them.
    """
    if not impaired:
        return []
    section = rules.impairment
    found = [Reason(IMPAIRED_CODE, section.zh, section.en, section.floor)]
    if ecl_ratio is not None:
        reached = [s for s in section.ecl_ratio_steps if ecl_ratio >= s.at_least]
        if reached:
            step = reached[-1]
            found.append(Reason(step.code, f"{step.zh}（{_percent(ecl_ratio)}）",
                                f"{step.en} ({_percent(ecl_ratio)})", step.floor))
    return found


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"
