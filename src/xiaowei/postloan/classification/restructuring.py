"""Floors for restructured loans (重组资产) during and after their observation period.

The rule (办法, DOMAIN.md §1): a restructured asset that was 正常/关注 is at least 关注 while
observed; meeting a 不良 condition during observation makes it 不良 — here, besides the
objective floors that already say so, being overdue beyond the grace while observed (a
configurable reading [check]); restructured again during observation ⇒ at least 次级 [check];
once the observation passes, the restructuring floor lifts and the loan is classed on its other
facts. A loan that was 不良 before restructuring keeps its class through the upgrade rule
(``upgrade.py``), not here.
"""

from __future__ import annotations

import datetime as dt

from xiaowei.postloan.classification.classes import LoanClass, Reason
from xiaowei.postloan.classification.loan_state import LoanState
from xiaowei.postloan.classification.observation import ObservationStatus, observation_status
from xiaowei.postloan.classification.rules import (
    IN_OBSERVATION_CODE,
    OBSERVATION_PASSED_CODE,
    RESTRUCTURED_AGAIN_CODE,
    RESTRUCTURED_OVERDUE_CODE,
    ClassificationRules,
)


def observation_of(state: LoanState, grace_days: int, as_of: dt.date,
                   rules: ClassificationRules) -> ObservationStatus:
    """The given ``observation_passed``, else computed from the repayment facts.

    A reported status is trusted as is: once the period has passed the asset is no longer
    treated as restructured, and a later miss does not reopen it.
    """
    if state.observation_passed is not None:
        if state.observation_passed:
            return ObservationStatus(True, "观察期已满（由上游系统认定）",
                                     "observation period passed (as reported)")
        return ObservationStatus(False, "观察期未满（由上游系统认定）",
                                 "in the observation period (as reported)")
    section = rules.restructuring
    return observation_status(
        first_payment=state.first_payment_after_restructuring,
        periods_paid=state.periods_paid_since, missed=state.missed_since_restructure,
        last_missed_on=state.last_missed_on, as_of=as_of,
        min_periods=section.observation_min_periods, min_years=section.observation_min_years,
        overdue_days=state.dpd if state.dpd > grace_days else 0)


def restructuring_floors(state: LoanState, grace_days: int, as_of: dt.date,
                         rules: ClassificationRules) -> list[Reason]:
    """The reasons a restructured loan adds; none for a loan never restructured."""
    if not state.restructured:
        return []
    section = rules.restructuring
    status = observation_of(state, grace_days, as_of, rules)
    found: list[Reason] = []
    if state.restructured_again_in_observation:
        found.append(Reason(RESTRUCTURED_AGAIN_CODE, "观察期内再次重组",
                            "restructured again during the observation period",
                            section.restructured_again_floor))
    elif status.passed:
        return [Reason(OBSERVATION_PASSED_CODE, f"重组观察期已满，重组下限解除：{status.zh}",
                       f"restructuring observation over, its floor lifts: {status.en}",
                       LoanClass.PASS)]
    floor = section.overdue_in_observation_floor
    if floor is not None and state.dpd > grace_days:
        found.append(Reason(RESTRUCTURED_OVERDUE_CODE,
                            f"观察期内逾期 {state.dpd} 天，符合不良认定条件",
                            f"{state.dpd} days overdue during the observation period: a "
                            "non-performing condition", floor))
    found.append(Reason(IN_OBSERVATION_CODE, f"重组资产处于观察期：{status.zh}",
                        f"restructured asset in its observation period: {status.en}",
                        section.in_observation_floor))
    return found
