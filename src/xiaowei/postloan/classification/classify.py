"""Classify one loan: the worst of every floor that applies, with all the reasons.

Order (each step sees the previous steps' floors):
1. objective floors — the product's days-past-due ladder, warning signals, credit impairment,
   restructuring;
2. the upgrade hold — a 不良 loan stays where it is until the upgrade conditions are met;
3. a manual override — worse freely, never better than 1–2;
4. "no floor met" when nothing pushed the loan above 正常, so no class is ever unexplained.

Debtor-level contagion looks across loans and runs afterwards (``contagion.py``).
"""

from __future__ import annotations

import datetime as dt

from xiaowei.postloan.classification.classes import Classification, LoanClass, Reason, worst
from xiaowei.postloan.classification.floors import dpd_floor, impairment_floors, signal_floors
from xiaowei.postloan.classification.loan_state import LoanState
from xiaowei.postloan.classification.override import override_reason
from xiaowei.postloan.classification.restructuring import restructuring_floors
from xiaowei.postloan.classification.rules import (
    NO_FLOOR_CODE,
    ClassificationRules,
    default_rules,
)
from xiaowei.postloan.classification.upgrade import upgrade_reasons


def classify(state: LoanState, rules: ClassificationRules | None = None,
             as_of: dt.date | None = None) -> Classification:
    """The loan's class on ``as_of`` (today by default) and every reason behind it.

    Raises ``UnknownSignal`` for a signal the rules do not define and ``OverrideRefused`` for an
    override without evidence, without a distinct checker, or better than the floors.
    """
    rules = rules or default_rules()
    as_of = as_of or dt.date.today()
    ladder = rules.ladder_for(state.product)
    retail = rules.is_retail(rules.segment_for(state.product, state.segment))
    reasons: list[Reason] = [
        *dpd_floor(state.dpd, ladder),
        *signal_floors(state.signals, retail, rules),
        *impairment_floors(state.impaired, state.ecl_ratio, rules),
        *restructuring_floors(state, ladder.grace_days, as_of, rules),
    ]
    objective = worst(r.floor for r in reasons)
    reasons += upgrade_reasons(objective, state.current_class, state.upgrade, state.dpd, rules)
    floor = worst(r.floor for r in reasons)
    if state.override is not None:
        reasons.append(override_reason(state.override, floor, reasons, state.loan_id))
    klass = worst(r.floor for r in reasons)
    if klass == LoanClass.PASS:
        reasons.append(Reason(NO_FLOOR_CODE, "未触及任何客观下限，归为正常类",
                              "no objective floor met: pass", LoanClass.PASS))
    return Classification(state.loan_id, klass, tuple(reasons))
