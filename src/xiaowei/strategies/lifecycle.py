"""A strategy pack version's life cycle, as an explicit state machine (as Feast keeps a
definition's life cycle, and as :mod:`xiaowei.modelling.lifecycle` does for models).

Why one table of transitions: the store, the CLI, the web pages (which buttons to show) and the
audit report must agree on "may this version go from here to there", and a regulator should
find the whole rule in one place.

::

    draft ─approve─▶ approved ─publish─▶ live ─(another published)─▶ superseded
    draft / approved ─withdraw─▶ withdrawn (final)
    live ─rollback─▶ rolled_back
    superseded ─rollback (newest one) or publish─▶ live
    rolled_back ─publish─▶ live

- ``draft`` → ``approved``: a second person (maker–checker, 四眼原则) signs the pack off; the
  author may not. The store's check constraint repeats the rule.
- ``approved`` → ``live``: publishing; the version that was live becomes ``superseded``.
- ``live`` → ``rolled_back``: ``rollback NAME`` takes the live version out and makes the
  newest ``superseded`` version live again. Rolling back twice walks further back in time,
  because a rolled-back version is never a rollback target.
- ``superseded`` / ``rolled_back`` → ``live``: publishing an older approved version again
  (e.g. after a rollback turned out to be a false alarm); it was approved once, its content
  cannot have changed (it is keyed by its hash), so no second approval is needed.
- ``draft`` / ``approved`` → ``withdrawn``: never went live; final.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.registry_names import same_person
from xiaowei.strategies.errors import TransitionRefused


class StrategyStatus(LabelledStrEnum):
    """Where a pack version stands; the value is what the store keeps."""

    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已批准"
    LIVE = "live", "生效中"
    SUPERSEDED = "superseded", "已替换"
    ROLLED_BACK = "rolled_back", "已回滚", "rolled back"
    WITHDRAWN = "withdrawn", "已撤回"


_S = StrategyStatus
TRANSITIONS: Mapping[StrategyStatus, frozenset[StrategyStatus]] = MappingProxyType(
    {
        _S.DRAFT: frozenset({_S.APPROVED, _S.WITHDRAWN}),
        _S.APPROVED: frozenset({_S.LIVE, _S.WITHDRAWN}),
        _S.LIVE: frozenset({_S.SUPERSEDED, _S.ROLLED_BACK}),
        _S.SUPERSEDED: frozenset({_S.LIVE}),
        _S.ROLLED_BACK: frozenset({_S.LIVE}),
        _S.WITHDRAWN: frozenset(),
    }
)
"""Allowed next states of each state; ``withdrawn`` is final."""

ACTIONS: Mapping[StrategyStatus, str] = MappingProxyType(
    {
        _S.APPROVED: "approve",
        _S.LIVE: "publish",
        _S.SUPERSEDED: "supersede",
        _S.ROLLED_BACK: "roll back",
        _S.WITHDRAWN: "withdraw",
    }
)
"""The verb that moves a version into each state, for messages."""


def can_transition(current: StrategyStatus, to: StrategyStatus) -> bool:
    """Whether the table allows moving from ``current`` to ``to``."""
    return to in TRANSITIONS[current]


def check_transition(
    ref: str, current: StrategyStatus, to: StrategyStatus, actor: str, submitted_by: str
) -> None:
    """Refuse (with :class:`TransitionRefused`) a step the life cycle does not allow.

    The message names the version, its state and what *is* allowed from there, so a person
    knows the next step instead of guessing.
    """
    if not can_transition(current, to):
        allowed = ", ".join(f"{ACTIONS[s]} → {s}" for s in sorted(TRANSITIONS[current]))
        raise TransitionRefused(
            f"cannot {ACTIONS.get(to, to)} {ref}: it is {current} ({current.zh}); "
            f"allowed from {current}: {allowed or 'nothing, it is final'}"
        )
    if to is StrategyStatus.APPROVED and same_person(actor, submitted_by):
        raise TransitionRefused(
            f"cannot approve {ref}: it was submitted by {submitted_by!r}, and approval needs a "
            "second person (maker–checker, 四眼原则); ask a colleague to approve it"
        )
