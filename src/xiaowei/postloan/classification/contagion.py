"""Debtor-level classification of non-retail assets (非零售资产按债务人分类).

The rule (办法, DOMAIN.md §1): a non-retail debtor is classified as a whole — if more than 10%
of its claims at the bank (by balance) are 不良, all of them are at least 次级. Retail assets
(and, by a switch in ``classification.yaml`` [check], small-micro enterprise loans) are
classified loan by loan and are left alone. Why a separate pass: it needs every loan of the
debtor classified first, so it runs over a portfolio after ``classify``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from xiaowei.postloan.classification.classes import Classification, Reason, worst
from xiaowei.postloan.classification.loan_state import LoanState
from xiaowei.postloan.classification.rules import (
    DEBTOR_CODE,
    NO_FLOOR_CODE,
    ClassificationRules,
    default_rules,
)


def npl_share(loans: Sequence[tuple[LoanState, Classification]]) -> Decimal | None:
    """不良 balance ÷ total balance of some loans (None when the total is zero).

    Every loan must carry its balance: the share cannot be guessed.
    """
    total = bad = Decimal(0)
    for state, result in loans:
        if state.balance is None:
            raise ValueError(f"loan {state.loan_id}: balance is required for the debtor-level "
                             f"classification of debtor {state.debtor_id}")
        total += state.balance
        if result.klass.non_performing:
            bad += state.balance
    return bad / total if total > 0 else None


def apply_debtor_contagion(loans: Sequence[tuple[LoanState, Classification]],
                           rules: ClassificationRules | None = None) -> list[Classification]:
    """The classifications again, in the same order, with the debtor floor where it applies.

    Every non-retail loan of a debtor over the threshold gets the reason (the floor applied to
    it even when the loan was already worse); "no floor met" is dropped from those it raises.
    """
    rules = rules or default_rules()
    section = rules.debtor
    by_debtor: dict[str, list[int]] = defaultdict(list)
    for index, (state, _) in enumerate(loans):
        segment = rules.segment_for(state.product, state.segment)
        if state.debtor_id and not rules.is_retail(segment):
            by_debtor[state.debtor_id].append(index)
    result = [c for _, c in loans]
    for debtor_id, indexes in by_debtor.items():
        share = npl_share([loans[i] for i in indexes])
        if share is None or share <= section.npl_share_above:
            continue
        percent = f"{(share * 100).quantize(Decimal('0.0001'))}%"
        limit = f"{(section.npl_share_above * 100).normalize():f}%"
        reason = Reason(DEBTOR_CODE,
                        f"非零售债务人 {debtor_id} 在本行债权中不良占比 {percent}，超过 {limit}",
                        f"non-retail debtor {debtor_id}: {percent} of its claims at the bank "
                        f"are non-performing, above {limit}", section.floor)
        for i in indexes:
            before = result[i]
            reasons = [r for r in before.reasons if r.code != NO_FLOOR_CODE]
            reasons.append(reason)
            result[i] = replace(before, klass=worst([before.klass, section.floor]),
                                reasons=tuple(reasons))
    return result
