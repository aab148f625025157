"""Stage a loan (IFRS 9 / CAS 22): the worst stage any trigger sets, with every trigger.

Triggers (DOMAIN.md §2, thresholds in ``staging.yaml``): more than 90 days past due, credit
impairment or a 不良 class ⇒ Stage 3 (so that 不良 ⇔ Stage 3 holds by construction); more than
30 days past due (rebuttable, with evidence), a rating downgrade of N notches, an orange/red
warning, the watch list, or the class 关注 ⇒ Stage 2; otherwise Stage 1.
"""

from __future__ import annotations

from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.staging.rules import StagingRules, default_staging_rules
from xiaowei.postloan.staging.stages import Stage, StageReason, StageResult

S1, S2, S3 = Stage.PERFORMING, Stage.UNDERPERFORMING, Stage.IMPAIRED


def check_warning_level(level: str | None, rules: StagingRules) -> None:
    known = rules.sicr.known_warning_levels
    if level is not None and level not in known:
        raise ValueError(f"unknown warning level {level!r}; known: {', '.join(known)}")


def stage(
    *,
    dpd: int,
    klass: LoanClass | None = None,
    impaired: bool = False,
    rating_downgrade_notches: int = 0,
    warning_level: str | None = None,
    watch_list: bool = False,
    sicr_rebuttal: str | None = None,
    rules: StagingRules | None = None,
) -> StageResult:
    """The loan's stage and every trigger that applied.

    ``sicr_rebuttal`` is the documented evidence that rebuts the 30-day presumption for this
    loan; it is honoured only where the rules say the presumption is rebuttable, and never
    rebuts the 90-day default.
    """
    rules = rules or default_staging_rules()
    if isinstance(dpd, bool) or not isinstance(dpd, int) or dpd < 0:
        raise ValueError(f"dpd must be an integer ≥ 0, got {dpd!r}")
    if rating_downgrade_notches < 0:
        raise ValueError("rating_downgrade_notches must be ≥ 0 (a downgrade counts up)")
    check_warning_level(warning_level, rules)
    back, sicr = rules.backstops, rules.sicr
    found: list[StageReason] = []
    if dpd > back.default_dpd_above:
        found.append(StageReason("DPD_DEFAULT_BACKSTOP",
                                 f"逾期 {dpd} 天，超过 {back.default_dpd_above} 天，推定违约",
                                 f"{dpd} days past due, over {back.default_dpd_above}: default "
                                 "presumed", S3))
    if impaired:
        found.append(StageReason("CREDIT_IMPAIRED", "已发生信用减值", "credit-impaired", S3))
    if klass is not None and klass.non_performing:
        found.append(StageReason("CLASS_NON_PERFORMING", f"五级分类为{klass.zh}类（不良）",
                                 f"classified {klass.en} (non-performing)", S3))
    if dpd > back.sicr_dpd_above:
        if sicr_rebuttal and sicr_rebuttal.strip() and back.sicr_rebuttable:
            found.append(StageReason("DPD_SICR_REBUTTED",
                                     f"逾期超过 {back.sicr_dpd_above} 天的推定已被反驳："
                                     f"{sicr_rebuttal.strip()}",
                                     f"the {back.sicr_dpd_above}-day presumption is rebutted: "
                                     f"{sicr_rebuttal.strip()}", S1))
        else:
            found.append(StageReason("DPD_SICR_BACKSTOP",
                                     f"逾期 {dpd} 天，超过 {back.sicr_dpd_above} 天，推定信用风险"
                                     "显著增加",
                                     f"{dpd} days past due, over {back.sicr_dpd_above}: "
                                     "significant increase in credit risk presumed", S2))
    if klass == LoanClass.SPECIAL_MENTION and sicr.special_mention_is_sicr:
        found.append(StageReason("CLASS_SPECIAL_MENTION", "五级分类为关注类",
                                 "classified special mention", S2))
    if rating_downgrade_notches >= sicr.rating_downgrade_notches:
        found.append(StageReason("RATING_DOWNGRADE",
                                 f"内部评级较初始确认下调 {rating_downgrade_notches} 级",
                                 f"internal rating down {rating_downgrade_notches} notches since "
                                 "origination", S2))
    if warning_level in sicr.sicr_warning_levels:
        found.append(StageReason("WARNING_LEVEL", f"预警等级 {warning_level}",
                                 f"warning level {warning_level}", S2))
    if watch_list and sicr.watch_list_is_sicr:
        found.append(StageReason("WATCH_LIST", "列入观察名单", "on the watch list", S2))
    result = max((r.stage for r in found), default=S1)
    if result == S1:
        found.append(StageReason("NO_SICR", "信用风险自初始确认后未显著增加",
                                 "no significant increase in credit risk since origination", S1))
    return StageResult(result, tuple(found))
