"""Strategy versions: submitted packs, maker–checker approval, publishing, rollback, and the
live switch servers use to change rules without a restart.

Why a package above the engine: :mod:`xiaowei.engine.strategy` loads and runs a pack and knows
nothing of people or stores; who submitted a pack, who approved it, which version is live and
how a server learns of a switch is about audit and storage, so it lives here (as
:mod:`xiaowei.modelling` does for models).
"""

from xiaowei.strategies.errors import (
    InvalidReference,
    PackRefused,
    StrategyError,
    StrategyNotFound,
    TamperedPack,
    TransitionRefused,
)
from xiaowei.strategies.lifecycle import TRANSITIONS, StrategyStatus, can_transition
from xiaowei.strategies.live import LivePacks, LiveStrategy
from xiaowei.strategies.records import LifecycleEvent, StrategyRecord, Submission
from xiaowei.strategies.reference import StrategyRef
from xiaowei.strategies.store import StrategyStore, open_store

__all__ = [
    "TRANSITIONS",
    "InvalidReference",
    "LifecycleEvent",
    "LivePacks",
    "LiveStrategy",
    "PackRefused",
    "StrategyError",
    "StrategyNotFound",
    "StrategyRecord",
    "StrategyRef",
    "StrategyStatus",
    "StrategyStore",
    "Submission",
    "TamperedPack",
    "TransitionRefused",
    "can_transition",
    "open_store",
]
