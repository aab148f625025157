"""Historical applications with their tags as the bank knew them: the input of every replay.

Why batch snapshots instead of the online runner: the online runner computes one party's tags
in ~40 ms at ``small`` (measured), so replaying 7,000 applications would take minutes per
pack version. A batch run computes every party's tags as of one day in ~3 s. So a replay
takes one batch run per *snapshot day* — the first day of each application's month — and
reads the applicant's row from it. The snapshot day is never after the application day, so
nothing the bank learnt later can leak into a replayed decision (point in time); the price is
that a replayed decision sees data up to a month staler than the live decision did. Both the
backtest and the digital-process replay use the same snapshots, so they are compared on
equal terms; ``replay_agreement`` in the tests measures how often exact-day tags would have
changed the outcome.

Snapshots are kept under ``<analytic home>/pit-tags/<day>/`` with a ``_SUCCESS`` file naming
the catalogue's content and the governed data's as-of; a changed catalogue or reloaded data
recomputes them, an interrupted run (no ``_SUCCESS``) is recomputed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from xiaowei.data.tags.service import (
    bank_catalogue,
    data_as_of,
    governed_snapshot,
    snapshot_dir,
)
from xiaowei.engine.tags import Catalogue
from xiaowei.engine.tags import run_duckdb as _run_duckdb
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


def snapshot_day(applied_on: dt.date) -> dt.date:
    """The batch snapshot a replay reads for an application: the first of its month."""
    return applied_on.replace(day=1)


def _catalogue_key(catalogue: Catalogue, governed_as_of: dt.date) -> str:
    content = sorted((t.name, t.content_hash) for t in catalogue.tags.values())
    text = json.dumps({"tags": content, "data": governed_as_of.isoformat()})
    return hashlib.sha256(text.encode()).hexdigest()


class PointInTimeTags:
    """Parties' tags at many days, from batch snapshots computed once and cached on disk."""

    def __init__(self, analytic: AnalyticStore, *, catalogue: Catalogue | None = None,
                 cache: Path | None = None) -> None:
        self.analytic = analytic
        self.catalogue = catalogue or bank_catalogue()
        self.cache = cache or snapshot_dir(analytic).parent / "pit-tags"
        self.key = _catalogue_key(self.catalogue, data_as_of(analytic))
        self._values: dict[tuple[str, dt.date], dict[str, Any]] = {}
        self.computed: list[dt.date] = []  # snapshot days this object ran (not from cache)

    def folder(self, day: dt.date) -> Path:
        return self.cache / day.isoformat()

    def _ready(self, day: dt.date) -> bool:
        marker = self.folder(day) / "_SUCCESS"
        return marker.is_file() and marker.read_text() == self.key

    def ensure(self, days: Iterable[dt.date], progress: Progress | None = None) -> None:
        """Compute the snapshots of ``days`` that are not cached yet."""
        todo = sorted({d for d in days if not self._ready(d)})
        if not todo:
            return
        sources = governed_snapshot(self.analytic, self.catalogue)
        for i, day in enumerate(todo):
            if progress:
                progress(day.isoformat(), i, len(todo))
            folder = self.folder(day)
            if folder.exists():
                shutil.rmtree(folder)
            _run_duckdb(self.catalogue, sources, day, output=folder)
            (folder / "_SUCCESS").write_text(self.key)
            self.computed.append(day)
        if progress:
            progress("", len(todo), len(todo))

    def load(self, wanted: Iterable[tuple[str, dt.date]],
             progress: Progress | None = None) -> None:
        """Read the tags of (party, application day) pairs into memory, snapshot by snapshot."""
        by_day: dict[dt.date, set[str]] = {}
        for party, day in wanted:
            by_day.setdefault(snapshot_day(day), set()).add(party)
        self.ensure(by_day, progress)
        for day, parties in by_day.items():
            missing = [p for p in parties if (p, day) not in self._values]
            if not missing:
                continue
            table = pq.read_table(self.folder(day), schema=SCHEMA,
                                  filters=[("entity_id", "in", missing)])
            found: dict[str, dict[str, Any]] = {p: {} for p in missing}
            for row in table.to_pylist():
                found[row["entity_id"]][row["tag"]] = typed_value(row)
            for party, values in found.items():
                self._values[(party, day)] = values

    def values(self, party_id: str, applied_on: dt.date) -> Mapping[str, Any]:
        """The party's tags as of the snapshot of ``applied_on`` (``load`` it first)."""
        try:
            return self._values[(party_id, snapshot_day(applied_on))]
        except KeyError:
            raise LookupError(f"tags of {party_id} for {applied_on} were not loaded; call "
                              f"load() with that pair first") from None

    def reader(self) -> Callable[[str, dt.date], Mapping[str, Any]]:
        """A ``TagReader`` for :class:`~xiaowei.origination.decide.DefaultDecider`."""
        return self.values


__all__ = ["HistoricalApplication", "PointInTimeTags", "historical_applications",
           "snapshot_day"]
