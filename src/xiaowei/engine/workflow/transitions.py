"""Which steps a task may take, and the maker–checker stage inside "in progress".

Why reuse :data:`xiaowei.entities.task.TRANSITIONS`: the pages, the staff analytics and this
engine must agree on what "may go from here to there" means, so there is one table. The
checker's step is *not* a status of its own — adding one would change that shared table — so
a completion that needs a second person keeps the task ``in_progress`` with
``result["stage"] == "checker"``; the checker's confirmation moves it to ``done``, a refusal
sets the stage to ``returned`` and gives the task back to the maker.
"""

from __future__ import annotations

from decimal import Decimal

from xiaowei.engine.workflow.errors import TransitionRefused
from xiaowei.entities.task import TRANSITIONS, TaskStatus

# Stages inside ``in_progress`` (kept in ``task.result["stage"]``).
STAGE_CHECKER = "checker"
STAGE_RETURNED = "returned"
STAGE_FINAL = "final"

OPEN_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if nxt)
"""States in which something can still happen (everything but done and cancelled)."""


def check_move(task_id: str, current: str, to: str) -> TaskStatus:
    """``to`` as a status if the shared table allows ``current`` → ``to``; else refused,
    naming both states and what is allowed instead."""
    source, target = TaskStatus(current), TaskStatus(to)
    if target not in TRANSITIONS[source]:
        allowed = ", ".join(sorted(TRANSITIONS[source])) or "none: it is final"
        raise TransitionRefused(
            f"任务 {task_id} 不能从 '{source.zh}' 变为 '{target.zh}' · task {task_id} cannot go "
            f"from '{source}' to '{target}' (allowed from '{source}': {allowed})")
    return target


def needs_checker(amount: Decimal | None, checker_above: Decimal | None) -> bool:
    """Whether a completion of ``amount`` needs a second person: strictly above the limit."""
    return amount is not None and checker_above is not None and amount > checker_above
