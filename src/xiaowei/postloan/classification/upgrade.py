"""Upgrading out of 不良 (non-performing): when the objective floors allow a better class.

Why a hold rule: the floors look at today's facts, but a 不良 loan whose arrears were paid
yesterday is not yet a performing loan. The rule (办法, DOMAIN.md §1): all overdue amounts
repaid, then normal payment for two consecutive periods or six months — the longer of the two
[check], i.e. both — and no other impaired asset of the debtor at the bank. Until then the
current 不良 class holds, and the refusal is a reason naming what is missing.
"""

from __future__ import annotations

from xiaowei.postloan.classification.classes import LoanClass, Reason
from xiaowei.postloan.classification.loan_state import UpgradeFacts
from xiaowei.postloan.classification.rules import (
    UPGRADE_ALLOWED_CODE,
    UPGRADE_REFUSED_CODE,
    ClassificationRules,
)


def missing_for_upgrade(facts: UpgradeFacts | None, dpd: int,
                        rules: ClassificationRules) -> list[tuple[str, str]]:
    """What is still missing for an upgrade, as (zh, en) pairs; empty when it is allowed.

    A loan still past due has not repaid all its arrears, whatever the flag says.
    """
    if facts is None:
        return [("未提供升级条件（欠款结清及其后正常还款情况）",
                 "no upgrade facts given (arrears repaid, normal payments since)")]
    section = rules.upgrade
    missing: list[tuple[str, str]] = []
    if not facts.all_overdue_paid or dpd > 0:
        missing.append(("逾期本息尚未全部结清", "overdue amounts not all repaid"))
    periods_ok = facts.normal_periods_since >= section.min_periods
    months_ok = facts.months_normal_since >= section.min_months
    enough = periods_ok and months_ok if section.require == "both" else periods_ok or months_ok
    if not enough:
        joiner = ("且", "and") if section.require == "both" else ("或", "or")
        missing.append((
            f"结清后需连续正常还款 {section.min_periods} 期{joiner[0]}{section.min_months} "
            f"个月（目前 {facts.normal_periods_since} 期、{facts.months_normal_since} 个月）",
            f"needs {section.min_periods} consecutive normal periods {joiner[1]} "
            f"{section.min_months} months after repayment (now {facts.normal_periods_since} "
            f"periods, {facts.months_normal_since} months)"))
    if facts.other_impaired_assets:
        missing.append(("债务人在本行仍有其他已减值资产",
                        "the debtor has another impaired asset at the bank"))
    return missing


def upgrade_reasons(objective: LoanClass, current: LoanClass | None,
                    facts: UpgradeFacts | None, dpd: int,
                    rules: ClassificationRules) -> list[Reason]:
    """Nothing unless a 不良 loan's floors now allow a better class; then allowed or refused."""
    if current is None or not current.non_performing or objective >= current:
        return []
    missing = missing_for_upgrade(facts, dpd, rules)
    if missing:
        return [Reason(UPGRADE_REFUSED_CODE,
                       f"维持{current.zh}类，不予上调：" + "；".join(zh for zh, _ in missing),
                       f"stays {current.en}, upgrade refused: "
                       + "; ".join(en for _, en in missing), current)]
    return [Reason(UPGRADE_ALLOWED_CODE,
                   f"满足上调条件，由{current.zh}类上调至{objective.zh}类",
                   f"upgrade conditions met: from {current.en} to {objective.en}",
                   LoanClass.PASS)]
