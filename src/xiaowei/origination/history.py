"""Historical applications with their tags as the bank knew them: the input of every replay.

Why exact-day tags, computed for many parties at once: a replay (backtest, the digital process
on the simulator) must decide as the live decision would have, and an application brings its
own data on its day — the credit report pulled for it, the declared figures — so tags as of
the first of the month were measured to change the outcome of a third of applications
(``benchmarks/bench_replay_agreement.py``, first version). The online runner computes one
party's tags as of a day in ~40–50 ms (planning dominates); :meth:`OnlineTags.compute_many`
computes all parties applying on one day in one call, ~15 ms a party at ``small`` with a dozen
applicants a day. Each day's rows are cached on disk under ``<analytic home>/pit-tags/<key>/``
(key = the catalogue's content and the governed data: its as-of and snapshot files), so a
second backtest over the same history reads them instead of computing; a changed catalogue or
another load gets a new key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.data.tags.service import (
    bank_catalogue,
    data_as_of,
    governed_snapshot,
    snapshot_dir,
)
from xiaowei.engine.tags import Catalogue, OnlineTags
from xiaowei.engine.tags.layout import SCHEMA, typed_value
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]

_APPLICATIONS_SQL = """
SELECT a.application_id, a.party_id, COALESCE(p.party_type, r.party_type) AS party_type,
       a.product_intent, a.channel, a.amount_yuan, a.applied_on, r.term_months,
       a.declared_revenue_yuan, a.employees, r.branch_id, r.manager_id, a.decision
FROM gov.application a
LEFT JOIN (SELECT party_id, any_value(party_type) AS party_type
           FROM gov.party_profile GROUP BY party_id) p USING (party_id)
LEFT JOIN raw.bank_applications r ON r.application_no = a.application_id
WHERE a.applied_on >= $since AND a.applied_on <= $until
ORDER BY a.applied_on, a.application_id
"""


@dataclass(frozen=True)
class HistoricalApplication:
    """One application as it arrived (``payload`` is what ``validate_application`` takes) and
    what the bank's traditional process did with it (``recorded_decision``)."""

    payload: dict[str, Any]
    branch_id: str | None
    manager_id: str | None
    recorded_decision: str

    @property
    def application_id(self) -> str:
        return str(self.payload["application_id"])

    @property
    def party_id(self) -> str:
        return str(self.payload["party_id"])

    @property
    def applied_on(self) -> dt.date:
        return dt.date.fromisoformat(str(self.payload["applied_on"]))


def _whole_yuan(value: Any) -> Any:
    """Amounts as text with at most two decimals, so a replay's payload is exact."""
    return None if value is None else f"{float(value):.2f}"


def historical_applications(analytic: AnalyticStore, *, since: dt.date | None = None,
                            until: dt.date | None = None) -> list[HistoricalApplication]:
    """Every governed application applied on ``since``..``until`` (inclusive), in date order."""
    rows = analytic.connection.execute(_APPLICATIONS_SQL, {
        "since": since or dt.date(1900, 1, 1), "until": until or dt.date(2999, 12, 31),
    }).fetchall()
    out = []
    for (app_id, party_id, party_type, intent, channel, amount, applied_on, term, revenue,
         employees, branch, manager, decision) in rows:
        payload = {"application_id": app_id, "party_id": party_id, "party_type": party_type,
                   "product_intent": intent, "channel": channel,
                   "amount": _whole_yuan(amount), "applied_on": applied_on.isoformat(),
                   "term_months": None if term is None else int(term),
                   "declared_revenue": _whole_yuan(revenue),
                   "employees": None if employees is None else int(employees)}
        out.append(HistoricalApplication(
            payload={k: v for k, v in payload.items() if v is not None},
            branch_id=branch, manager_id=manager, recorded_decision=str(decision)))
    return out


def _cache_key(catalogue: Catalogue, governed_as_of: dt.date,
               snapshot: Mapping[str, Path]) -> str:
    """What the cached tags depend on: every tag's definition and the governed data itself.

    The data is identified by its as-of and each snapshot file's size and modification time:
    loading another dataset (another seed with the same as-of) rewrites those files.
    """
    content = sorted((t.name, t.content_hash) for t in catalogue.tags.values())
    files = sorted((name, path.stat().st_size, path.stat().st_mtime_ns)
                   for name, path in snapshot.items())
    text = json.dumps({"tags": content, "data": governed_as_of.isoformat(), "files": files})
    return hashlib.sha256(text.encode()).hexdigest()


class PointInTimeTags:
    """Parties' tags on the days they applied, computed a day at a time and cached on disk."""

    def __init__(self, analytic: AnalyticStore, *, catalogue: Catalogue | None = None,
                 cache: Path | None = None) -> None:
        self.analytic = analytic
        self.catalogue = catalogue or bank_catalogue()
        self.snapshot = governed_snapshot(analytic, self.catalogue)
        self.key = _cache_key(self.catalogue, data_as_of(analytic), self.snapshot)
        root = cache or snapshot_dir(analytic).parent / "pit-tags"
        self.cache = root / self.key[:16]
        self._values: dict[tuple[str, dt.date], dict[str, Any]] = {}
        self._online: OnlineTags | None = None
        self.computed: list[dt.date] = []  # days this object computed (not read from cache)

    def file(self, day: dt.date) -> Path:
        return self.cache / f"{day.isoformat()}.parquet"

    def _runner(self) -> OnlineTags:
        if self._online is None:
            self._online = OnlineTags(self.catalogue, self.snapshot, entity="party")
        return self._online

    def close(self) -> None:
        if self._online is not None:
            self._online.close()
            self._online = None

    def __enter__(self) -> PointInTimeTags:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def load(self, wanted: Iterable[tuple[str, dt.date]],
             progress: Progress | None = None) -> None:
        """Get the tags of (party, day) pairs into memory: from the cache, or computed."""
        by_day: dict[dt.date, set[str]] = {}
        for party, day in wanted:
            if (party, day) not in self._values:
                by_day.setdefault(day, set()).add(party)
        for i, (day, parties) in enumerate(sorted(by_day.items())):
            if progress:
                progress(day.isoformat(), i, len(by_day))
            self._load_day(day, parties)
        if progress:
            progress("", len(by_day), len(by_day))

    def _load_day(self, day: dt.date, parties: set[str]) -> None:
        path = self.file(day)
        cached = pq.read_table(path, schema=SCHEMA) if path.is_file() else SCHEMA.empty_table()
        meta = pq.read_metadata(path).metadata or {} if path.is_file() else {}
        known = set(meta.get(b"parties", b"").decode().split(",")) - {""}
        missing = sorted(parties - known)
        if missing:
            fresh = self._runner().compute_many(missing, day).table
            cached = pa.concat_tables([cached, fresh])
            known |= set(missing)
            self.cache.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            # The parties asked for are kept in the file's metadata: a party with no tags at
            # all is still "known" and is not computed again.
            written = {b"parties": ",".join(sorted(known)).encode()}
            pq.write_table(cached.replace_schema_metadata(written), partial)
            partial.replace(path)  # a reader never sees half a file
            self.computed.append(day)
        found: dict[str, dict[str, Any]] = {p: {} for p in parties}
        for row in cached.filter(pc.is_in(cached["entity_id"],
                                          pa.array(sorted(parties)))).to_pylist():
            found[row["entity_id"]][row["tag"]] = typed_value(row)
        for party, values in found.items():
            self._values[(party, day)] = values

    def values(self, party_id: str, applied_on: dt.date) -> Mapping[str, Any]:
        """The party's tags as of ``applied_on`` (``load`` the pair first)."""
        try:
            return self._values[(party_id, applied_on)]
        except KeyError:
            raise LookupError(f"tags of {party_id} for {applied_on} were not loaded; call "
                              f"load() with that pair first") from None

    def reader(self) -> Callable[[str, dt.date], Mapping[str, Any]]:
        """A ``TagReader`` for :class:`~xiaowei.origination.decide.DefaultDecider`."""
        return self.values


__all__ = ["HistoricalApplication", "PointInTimeTags", "historical_applications"]
