"""Serving tags for live decisions: the latest batch run, plus online for what changes intraday.

Why: computing every tag online costs tens of milliseconds an entity (planning the long
statement dominates), while the latest batch run already holds the same values — the same
definitions, point in time — for every tag whose tables did not change since. Only tables
declared ``intraday`` in the catalogue (they change during the day with the case itself) can
hold something the run has not seen, so only the tags reading them are computed online, as of
the decision's day; every other tag is read from the history's latest values (a dict lookup).

Several threads may ask at once: the intraday tags are computed on a small pool of online
runners (each its own DuckDB database: DuckDB plans and runs without the GIL, so two
decisions use two cores instead of queuing on one runner); the exact fallback is serialised.

It is an explicit mode, for live decisions only: the latest run may be a day old, so a tag
over a window ending "today" can lag by that day. Backtests and replays, which must be point
in time to the day, use :class:`~xiaowei.engine.tags.online.OnlineTags` itself. When the run is
older than ``max_age_days`` before the asked day, newer than the asked day, or lacks a tag, the
answer is the exact online one — never a silently stale value.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from xiaowei.engine.tags.batch import Sources, check_as_of
from xiaowei.engine.tags.catalogue import Catalogue
from xiaowei.engine.tags.history import TagHistory
from xiaowei.engine.tags.online import OnlineTags


def intraday_tags(catalogue: Catalogue, names: Iterable[str]) -> list[str]:
    """The tags among ``names`` that read at least one table declared ``intraday``."""
    tables = {name for name, table in catalogue.tables.items() if table.intraday}
    return [n for n in names if tables.intersection(catalogue.tags[n].reads)]


class ServingTags:
    """One entity's tags for a live decision (see the module doc); safe to call from several
    threads at once (``concurrent``), unlike :class:`OnlineTags`."""

    concurrent = True

    def __init__(
        self,
        catalogue: Catalogue,
        sources: Sources,
        history: TagHistory,
        *,
        entity: str | None = None,
        tags: Iterable[str] | None = None,
        workers: int = 2,
        runners: int = 2,
        max_age_days: int = 1,
        recheck_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_days < 0 or runners < 1:
            raise ValueError(f"need max_age_days ≥ 0 and runners ≥ 1, got {max_age_days} "
                             f"and {runners}")
        self.exact = OnlineTags(catalogue, sources, entity=entity, tags=tags, workers=workers)
        names = [t.name for t in catalogue.select(tags)
                 if t.definition.entity == self.exact.entity]
        self.intraday = tuple(intraday_tags(catalogue, names))
        self.stable = frozenset(names) - set(self.intraday)
        # One statement each is enough for a handful of tags: a second cursor costs more.
        self._pool: queue.SimpleQueue[OnlineTags] = queue.SimpleQueue()
        self._runners = [OnlineTags(catalogue, sources, entity=self.exact.entity,
                                    tags=self.intraday, workers=1)
                         for _ in range(runners if self.intraday else 0)]
        for runner in self._runners:
            self._pool.put(runner)
        self._exact_lock, self._check_lock = threading.Lock(), threading.Lock()
        self.history = history
        self.max_age = dt.timedelta(days=max_age_days)
        self._recheck, self._clock = recheck_seconds, clock
        self._checked_at: float | None = None
        self._run_day: dt.date | None = None
        self.served = 0  # answers from the run + intraday online
        self.exact_answers = 0  # answers computed wholly online (no usable run)

    def run_day(self) -> dt.date | None:
        """The as-of of the latest run that holds every stable tag, checked at most every
        ``recheck_seconds`` (a new run folded in by this process is seen at the next check)."""
        with self._check_lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._recheck:
                days = self.history.run_days()
                found = [days.get(name) for name in self.stable]
                day = None if not found or None in found else min(found)  # type: ignore
                if day != self._run_day:
                    self.history.refresh()
                self._run_day, self._checked_at = day, now
            return self._run_day

    def values(self, entity_id: str, as_of: dt.date) -> dict[str, Any]:
        """Tag → value for ``entity_id`` on ``as_of``: stable tags from the latest run when it
        is as of ``as_of`` or up to ``max_age_days`` before, intraday tags online."""
        as_of = check_as_of(as_of)
        run = self.run_day()
        if not self.stable or run is None or not as_of - self.max_age <= run <= as_of:
            with self._exact_lock:
                self.exact_answers += 1
                return self.exact.values(entity_id, as_of)
        latest = self.history.latest(str(entity_id))  # an in-memory read, safe to share
        out = {name: value for name, value in latest.items() if name in self.stable}
        if self._runners:
            runner = self._pool.get()  # waits while every runner is busy
            try:
                out.update(runner.values(entity_id, as_of))
            finally:
                self._pool.put(runner)
        with self._check_lock:
            self.served += 1
        return out

    def close(self) -> None:
        for runner in self._runners:
            runner.close()
        self.exact.close()


__all__ = ["ServingTags", "intraday_tags"]
