"""The decider intake uses: pack, models, online tags and the governed-party lookup, built once.

Why a context manager: the online tag engine and the model registry are expensive to open
(``batch_tag_reader``), so a command or a server builds them once and decides every
application with them, and closes them when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xiaowei.origination.decide import DEFAULT_PACK, DefaultDecider, batch_tag_reader
from xiaowei.origination.intake import PartyKey, governed_party_key
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore
from xiaowei.strategies.store import StrategyStore


@dataclass(frozen=True)
class IntakeDecider:
    """A decider and the lookup from the bank's customers to governed parties."""

    decider: DefaultDecider
    party_key: PartyKey
    reader: Callable[[], Any] | None = None
    """A new cursor over the analytic store for a page or report (cursors are safe to use
    beside the decider's own connection; close it when done)."""


@contextmanager
def open_intake_decider(analytic_path: Path | str, *,
                        model_dirs: Mapping[str, str] | None = None,
                        pack_path: Path | str = DEFAULT_PACK,
                        strategies: StrategyStore | None = None,
                        interval: float = 5.0,
                        serving: bool = False) -> Iterator[IntakeDecider]:
    """Open the analytic store, the online tags and (without ``model_dirs``) the registry.

    With ``strategies`` (a server passes its store), the decider follows the version of the
    pack that is live there — published versions take effect without a restart; while no
    version of the pack's name is live, the packaged pack decides. ``serving=True`` (a server
    deciding live cases) reads tags from the latest batch run where it may
    (:func:`~xiaowei.origination.decide.batch_tag_reader`).
    """
    with ExitStack() as stack:
        analytic = stack.enter_context(AnalyticStore(analytic_path))
        tags = stack.enter_context(batch_tag_reader(analytic, serving=serving))
        registry = None
        if not model_dirs:
            from xiaowei.modelling.registry import open_registry

            registry = stack.enter_context(open_registry())
        resolver = RegistryModelResolver(registry, overrides=dict(model_dirs or {}))
        decider = DefaultDecider(tags=tags, resolver=resolver, pack_path=pack_path,
                                 concurrent=serving)  # the serving runner is a pool
        name = decider.pack.name
        if strategies is not None and strategies.live_version(name) is not None:
            decider.follow(strategies, name, interval=interval)
        yield IntakeDecider(decider, governed_party_key(analytic), analytic.connection.cursor)


__all__ = ["IntakeDecider", "open_intake_decider"]
