"""The live switch: a server's view of which pack version decides, changed without a restart.

Why one immutable object swapped by reference: a decision must run start to finish on one
version — never segments from one and thresholds from another. A server asks
:meth:`LivePacks.current` once per decision and keeps the :class:`LiveStrategy` it got; a
switch builds the new pack (and its :class:`~xiaowei.engine.strategy.Decider`) off to the side,
then replaces one reference in one assignment. Decisions in flight still hold the old object and
finish on it; the next decision gets the new one.

Why polling, and cheap: the store is the only thing all servers share. ``current`` looks at the
live row (one primary-key lookup, :meth:`StrategyStore.live_version`) at most every
``interval`` seconds per pack, and only rebuilds when the version changed; ``refresh`` checks
at once (for an admin endpoint, or a test). While one thread checks, the others keep deciding
on the version they have instead of waiting. If a check fails (the store is down, the new
version does not build), the server keeps deciding on the version it has and the error is kept
in :attr:`LivePacks.last_error` — a bank would rather decide on yesterday's approved rules than
stop lending — unless it has nothing to decide with, when the error is raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from xiaowei.engine.strategy import Decider, Pack
from xiaowei.strategies.errors import StrategyError, StrategyNotFound
from xiaowei.strategies.store import StrategyStore

BindPack = Callable[[Pack], Decider]


@dataclass(frozen=True)
class LiveStrategy:
    """One live pack version, ready to decide: hold it for the whole of a decision."""

    name: str
    version: int
    content_hash: str
    pack: Pack
    decider: Decider

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class LivePacks:
    """The live version of each pack a server uses, switched atomically when the store says.

    ``bind`` turns a pack into a :class:`Decider` (pass one that supplies a model resolver and
    source fetchers); the default suits packs without models. ``interval`` is the most seconds
    a server may go on deciding with a version after another one went live.
    """

    def __init__(self, store: StrategyStore, *, bind: BindPack | None = None,
                 interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.bind: BindPack = bind or (lambda pack: Decider(pack))
        self.interval = interval
        self.clock = clock
        self._live: Mapping[str, LiveStrategy] = MappingProxyType({})
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.last_error: Exception | None = None

    def current(self, name: str) -> LiveStrategy:
        """The live version of ``name`` now; checks the store if ``interval`` has passed."""
        held = self._live.get(name)
        due = self.clock() - self._checked.get(name, float("-inf")) >= self.interval
        if held is not None and not due:
            return held
        if held is not None:
            if not self._lock.acquire(blocking=False):
                return held  # another thread is checking; do not make this decision wait
        else:
            self._lock.acquire()
        try:
            return self._check(name)
        finally:
            self._lock.release()

    def refresh(self, name: str) -> LiveStrategy:
        """Check the store now and switch if another version went live."""
        with self._lock:
            return self._check(name)

    def _check(self, name: str) -> LiveStrategy:
        """Under the lock: compare the live row with what we hold; rebuild and swap if needed."""
        held = self._live.get(name)
        try:
            pointer = self.store.live_version(name)
            if pointer is None:
                raise StrategyNotFound(f"no version of strategy pack {name!r} is live")
            version, content_hash = pointer
            if held is None or held.content_hash != content_hash:
                record, pack = self.store.load(f"{name}@{version}")
                if record.content_hash != content_hash:  # switched again meanwhile
                    raise StrategyError(f"{name} switched while loading; will retry")
                built = LiveStrategy(name, version, content_hash, pack, self.bind(pack))
                # The one step others can see: a new mapping, swapped in by one assignment.
                self._live = MappingProxyType({**self._live, name: built})
                held = built
            self._checked[name] = self.clock()
            self.last_error = None
        except Exception as exc:  # keep deciding on what we have; see the module docstring
            self.last_error = exc
            if held is None:
                raise
        return held

    def loaded(self) -> Mapping[str, LiveStrategy]:
        """Every pack this server has loaded, by name (a read-only snapshot)."""
        return self._live
