"""Reconcile the five-level class with the ECL stage across a book.

Why: the class (risk department) and the stage (finance) are decided by different teams and
systems; regulators and auditors expect them to tell the same story — 不良 ⇔ Stage 3, and 关注
not in Stage 1 where the bank maps 关注 to Stage 2. A mismatch is a data or process error to
explain before the month's provision is booked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.staging.rules import StagingRules, default_staging_rules
from xiaowei.postloan.staging.stages import Stage


@dataclass(frozen=True)
class Inconsistency:
    loan_id: str
    klass: LoanClass
    stage: Stage
    zh: str
    en: str


def _problem(klass: LoanClass, stage: Stage, rules: StagingRules) -> tuple[str, str] | None:
    if klass.non_performing and stage != Stage.IMPAIRED:
        return (f"不良（{klass.zh}）应为第三阶段，实为{stage.zh}",
                f"non-performing ({klass.en}) must be Stage 3, found {stage.en}")
    if not klass.non_performing and stage == Stage.IMPAIRED:
        return (f"第三阶段应为不良，实为{klass.zh}类",
                f"Stage 3 must be non-performing, found {klass.en}")
    if (klass == LoanClass.SPECIAL_MENTION and stage == Stage.PERFORMING
            and rules.sicr.special_mention_is_sicr):
        return ("关注类应至少为第二阶段，实为第一阶段",
                "special mention must be at least Stage 2, found Stage 1")
    return None


def reconcile(book: Iterable[tuple[str, LoanClass | str, Stage | int]],
              rules: StagingRules | None = None) -> list[Inconsistency]:
    """The (loan_id, class, stage) rows that disagree, each with why; [] when all agree."""
    rules = rules or default_staging_rules()
    found: list[Inconsistency] = []
    for loan_id, klass, stage in book:
        parsed = klass if isinstance(klass, LoanClass) else LoanClass.parse(klass)
        problem = _problem(parsed, Stage(stage), rules)
        if problem is not None:
            found.append(Inconsistency(str(loan_id), parsed, Stage(stage), *problem))
    return found
