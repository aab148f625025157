"""A model version's life cycle: draft → approved → retired, as an explicit state machine.

Why a table of transitions and not scattered ``if``s: the registry, the CLI, the web pages
(which buttons to show) and the audit report must give the same answer to "may this version
go from here to there", and a regulator reading the code should find the whole rule in one
place (Feast keeps a definition's life cycle the same way).

- ``draft`` → ``approved``: the model may decide real applications. Only a person other than
  the registrant may approve (the four-eyes rule, 四眼原则): the data scientist who built a
  model does not sign it off.
- ``draft`` → ``retired``: a draft withdrawn before approval.
- ``approved`` → ``retired``: taken out of production; strategies that follow
  ``name@approved`` fall back to the newest version still approved.
- ``retired`` is final: a retired model comes back only as a new registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.registry_names import same_person
from xiaowei.modelling.errors import TransitionRefused


class ModelStatus(LabelledStrEnum):
    """Where a model version stands; the value is what the store keeps."""

    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已批准"
    RETIRED = "retired", "已退役"


_S = ModelStatus
TRANSITIONS: Mapping[ModelStatus, frozenset[ModelStatus]] = MappingProxyType(
    {
        _S.DRAFT: frozenset({_S.APPROVED, _S.RETIRED}),
        _S.APPROVED: frozenset({_S.RETIRED}),
        _S.RETIRED: frozenset(),
    }
)
"""Allowed next states of each state; ``retired`` is final."""

ACTIONS: Mapping[ModelStatus, str] = MappingProxyType(
    {_S.APPROVED: "approve", _S.RETIRED: "retire"}
)
"""The verb that moves a version into each state, for messages."""


def can_transition(current: ModelStatus, to: ModelStatus) -> bool:
    """Whether the table allows moving from ``current`` to ``to``."""
    return to in TRANSITIONS[current]


def check_transition(
    ref: str, current: ModelStatus, to: ModelStatus, actor: str, registered_by: str
) -> None:
    """Refuse (with :class:`TransitionRefused`) a step the life cycle does not allow.

    The message names the version, its current state and what *is* allowed from there, so a
    person knows what to do next instead of guessing.
    """
    if not can_transition(current, to):
        allowed = ", ".join(f"{ACTIONS[s]} → {s}" for s in sorted(TRANSITIONS[current]))
        raise TransitionRefused(
            f"cannot {ACTIONS.get(to, to)} {ref}: it is {current} ({current.zh}); "
            f"allowed from {current}: {allowed or 'nothing, it is final'}"
        )
    if to is ModelStatus.APPROVED and same_person(actor, registered_by):
        raise TransitionRefused(
            f"cannot approve {ref}: it was registered by {registered_by!r}, and approval needs "
            "a second person (四眼原则 four-eyes rule); ask a colleague to approve it"
        )
