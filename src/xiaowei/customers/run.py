"""The daily customer batch (客户运营日批): every customer's relationship, maintenance grade,
maintenance strategy and life-cycle stage as of one day, and the day's stage changes.

Why one batch over the whole book: the bank wants to serve one customer, not one product
(DESIGN.md §1) — the same tags and relationship figures for every customer, the same pack
for every customer, the results in one place that the pages, the offers, retention and the
staff reports read. The shape is the post-loan batch's (:mod:`xiaowei.postloan.monitoring`):

1. **freshness**: the tags are computed from the governed data; when the data's as-of is more
   than ``max_tag_age_days`` before the day asked for, every tag would describe an older bank
   — the run is refused (:class:`StaleTags`) rather than grading on stale facts;
2. **tags** the pack reads, as of the day (DuckDB, point in time);
3. **relationship** of every customer (:mod:`.relationship`): loans (loan state), deposits,
   settlement, applications, related parties summed as a group;
4. **risk side**: the post-loan batch's latest verdict per borrower when it is at most
   ``max_risk_age_days`` old (else the pack falls back to arrears, bureau, court tags);
5. **the pack** once per customer (:mod:`.customer_pack`): value, risk, grade, maintenance
   strategy, stage;
6. **life cycle**: previous stage, ``stage_since``, one event per change (:mod:`.lifecycle`);
7. **store**: ``customers.customer_day``, ``customers.lifecycle_event``, ``customers.run`` in
   one transaction that replaces the day (:mod:`.customer_tables`).

Scale: the relationship and the tags are DuckDB SQL over the whole book; the pack costs
~40 µs a customer in one Python thread, decided 100,000 at a time. Measured on 2 cores: the
1M-party ``bank`` benchmark (618,692 customers) in about a minute, 3.6 GB peak
(docs/customers.md).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.customers.customer_pack import (
    DEFAULT_MAX_RISK_AGE_DAYS,
    KEPT,
    decide_all,
    default_pack,
    input_columns,
    pack_tags,
    postloan_risk,
    risk_index,
)
from xiaowei.customers.customer_tables import ensure_tables, replace_day
from xiaowei.customers.grades import GRADES
from xiaowei.customers.lifecycle import (
    STAGES,
    any_earlier_day,
    previous_stages,
    transitions,
)
from xiaowei.customers.relationship import relationship_book
from xiaowei.data.tags.service import bank_catalogue, data_as_of, governed_snapshot
from xiaowei.engine.strategy import Decider, Pack
from xiaowei.engine.tags import run_duckdb
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.postloan.loan_state import fetch_arrow, loan_state
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]
DEFAULT_MAX_TAG_AGE_DAYS = 7
"""Tags computed from governed data more than this many days older than the as-of are stale."""
CHUNK = 100_000
"""Customers decided per chunk (bounds the batch's memory at bank size)."""
RISK_ORDER = ("low", "medium", "high", "critical")
BAND_ORDER = ("high", "mid", "low")


class StaleTags(LookupError):
    """The run is refused: the tags would be older than allowed; ``reasons`` say why."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass
class CustomersRun:
    """What one day's customer batch found and how long each step took."""

    as_of: dt.date
    data_as_of: dt.date
    customers: int
    grades: dict[str, int]
    stages: dict[str, int]
    risk_levels: dict[str, int]
    value_bands: dict[str, int]
    risk_sources: dict[str, int]
    events: int
    transitions: dict[str, int]
    visits_due: int
    balance_yuan: float
    deposits_yuan: float
    pack: str
    pack_version: str
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "data_as_of": self.data_as_of.isoformat(),
                "customers": self.customers, "grades": self.grades, "stages": self.stages,
                "risk_levels": self.risk_levels, "value_bands": self.value_bands,
                "risk_sources": self.risk_sources, "events": self.events,
                "transitions": self.transitions, "visits_due": self.visits_due,
                "balance_yuan": round(self.balance_yuan, 2),
                "deposits_yuan": round(self.deposits_yuan, 2), "pack": self.pack,
                "pack_version": self.pack_version,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()}}


def check_freshness(analytic: AnalyticStore, as_of: dt.date,
                    max_tag_age_days: int = DEFAULT_MAX_TAG_AGE_DAYS) -> dt.date:
    """The governed data's as-of; :class:`StaleTags` when it is more than
    ``max_tag_age_days`` before ``as_of`` (an earlier as-of is fine: tags are point in time)."""
    if max_tag_age_days < 0:
        raise ValueError(f"max_tag_age_days must be ≥ 0, got {max_tag_age_days}")
    try:
        data_day = data_as_of(analytic)
    except LookupError as exc:
        raise StaleTags([str(exc)]) from None
    age = (as_of - data_day).days
    if age > max_tag_age_days:
        raise StaleTags([f"the governed data is as of {data_day}, {age} days before {as_of} "
                         f"(limit {max_tag_age_days}): every tag would be stale — load and "
                         f"govern fresh data (`xiaowei load`, `xiaowei govern`) or run an "
                         f"earlier day"])
    return data_day


def run_customers(analytic: AnalyticStore, as_of: dt.date, *, pack: Pack | None = None,
                  max_tag_age_days: int = DEFAULT_MAX_TAG_AGE_DAYS,
                  max_risk_age_days: int = DEFAULT_MAX_RISK_AGE_DAYS,
                  progress: Progress | None = None) -> CustomersRun:
    """Run the day's customer batch and store it (replacing any earlier run of that day)."""
    data_day = check_freshness(analytic, as_of, max_tag_age_days)
    pack = pack or default_pack()
    decider = Decider(pack)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    steps = ("tags", "relationship", "risk", "pack", "lifecycle", "store")
    # progress: ("steps", done, 6) after each step, ("customers", done, n) during the pack

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now
        if progress:
            progress("steps", steps.index(step) + 1, len(steps))

    if progress:
        progress("steps", 0, len(steps))
    catalogue = bank_catalogue()
    tags = pack_tags(pack)
    unknown = sorted(set(tags) - set(catalogue.tags))
    if unknown:
        raise ValueError(f"pack {pack.name!r} reads tags the catalogue lacks: {unknown}")
    result = run_duckdb(catalogue, governed_snapshot(analytic, catalogue), as_of, tags=tags)
    lap("tags")
    con = analytic.connection
    state = loan_state(con, as_of)
    book = relationship_book(con, as_of, state)
    _, tag_values = tag_columns(result.data if result.data is not None
                                else pa.table({"entity_id": pa.array([], pa.string()),
                                               "tag": pa.array([], pa.string())}),
                                tags, book["party_id"].to_pylist())
    lap("relationship")
    risk = postloan_risk(con, as_of, max_age_days=max_risk_age_days)
    lap("risk")
    decided = _decide_in_chunks(decider, book, as_of, tag_values, risk_index(risk), progress)
    lap("pack")
    ensure_tables(con)
    day, events = _lifecycle(con, as_of, book, decided, risk, pack)
    lap("lifecycle")
    summary = _summary(as_of, data_day, day, events, pack, seconds)
    replace_day(con, as_of, day, events, {
        "data_as_of": data_day, "customers": day.num_rows, "events": events.num_rows,
        "pack_name": pack.name, "pack_version": pack.version,
        "summary": summary.to_json()})
    lap("store")
    summary.seconds = seconds
    return summary


def _decide_in_chunks(decider: Decider, book: pa.Table, as_of: dt.date,
                      tags: dict[str, np.ndarray], risk: dict[str, Any],
                      progress: Progress | None) -> dict[str, list[Any]]:
    """The pack over the book :data:`CHUNK` customers at a time: the inputs of a million
    customers as Python objects would take gigabytes; a chunk's take tens of megabytes."""
    decided: dict[str, list[Any]] = {k: [] for k in KEPT}
    n = book.num_rows
    for start in range(0, n, CHUNK):
        part = book.slice(start, CHUNK)
        columns = input_columns(decider.pack, part, as_of,
                                {t: v[start:start + CHUNK] for t, v in tags.items()}, risk)
        for key, values in decide_all(decider, columns).items():
            decided[key].extend(values)
        if progress:
            progress("customers", min(start + CHUNK, n), n)
    return decided


def _lifecycle(con: Any, as_of: dt.date, book: pa.Table, decided: dict[str, list[Any]],
               risk: pa.Table, pack: Pack) -> tuple[pa.Table, pa.Table]:
    """The day's rows (book + decisions + previous stage + visits) and the stage events."""
    before = previous_stages(con, as_of, book)
    previous = before["previous_stage"].to_pylist()
    since, changed = transitions(decided["lifecycle_stage"], previous, as_of,
                                 before["previous_since"].to_pylist(),
                                 first_day=not any_earlier_day(con, as_of))
    parties = book["party_id"].to_pylist()
    verdict = dict(zip(risk["party_id"].to_pylist(), risk["postloan_as_of"].to_pylist(),
                       strict=True))
    used = [verdict.get(p) for p in parties]
    visits = _last_visits(con, as_of, book)
    every = np.asarray(decided["visit_every_days"], dtype=np.int64)
    days_since = pc.fill_null(pc.days_between(visits, pa.scalar(as_of, pa.date32())), -1
                              ).to_numpy(zero_copy_only=False).astype(np.int64)
    due = (every > 0) & ((days_since < 0) | (days_since >= every))
    columns: dict[str, Any] = {
        "party_id": book["party_id"], "party_type": book["party_type"],
        **{k: decided[k] for k in ("grade", "value_score", "value_band", "points_balance",
                                   "points_deposits", "points_contribution",
                                   "points_products", "points_growth", "risk_level")},
        "risk_source": ["postloan" if d is not None else "tags" for d in used],
        "postloan_as_of": pa.array(used, pa.date32()),
        "lifecycle_stage": decided["lifecycle_stage"],
        "previous_stage": pa.array(previous, pa.string()),
        "stage_since": pa.array(since, pa.date32()),
        **{k: decided[k] for k in ("visit_every_days", "manager_tier", "service_package",
                                   "pricing_latitude_bp")},
        "balance_yuan": book["balance"], "loan_rate": book["loan_rate"], "dpd": book["dpd"],
        "open_loans": book["open_loans"], "days_to_maturity": book["days_to_maturity"],
        "deposit_balance_yuan": book["deposit_balance"],
        "deposit_avg_6m_yuan": book["deposit_avg_6m"], "inflow_12m_yuan": book["inflow_12m"],
        "contribution_yuan": decided["contribution_yuan"],
        "products_held": book["products_held"], "related_parties": book["related_parties"],
        "group_exposure_yuan": book["group_exposure"],
        "group_deposits_yuan": book["group_deposits"],
        "manager_id": book["manager_id"], "branch_id": book["branch_id"],
        "last_visit_on": visits, "visit_due": pa.array(due, pa.bool_()),
        "reasons": pa.array(decided["reasons"], pa.list_(pa.string())),
        "pack_version": [pack.version] * book.num_rows,
    }
    day = pa.table(columns)
    take = pa.array(changed, pa.int64())
    events = pa.table({
        "party_id": book["party_id"].take(take),
        "from_stage": pa.array(previous, pa.string()).take(take),
        "to_stage": pa.array(decided["lifecycle_stage"], pa.string()).take(take),
        "grade": pa.array(decided["grade"], pa.string()).take(take),
        "manager_id": book["manager_id"].take(take)})
    return day, events


def _last_visits(con: Any, as_of: dt.date, book: pa.Table) -> pa.ChunkedArray:
    """The latest field visit (any kind) on or before the day, per customer of ``book``."""
    con.register("cu_book", book.select(["party_id"]))
    try:
        table = fetch_arrow(con, """
            WITH b AS (SELECT party_id, row_number() OVER () AS ord FROM cu_book),
            v AS (SELECT party_id, max(visit_date) AS last_visit_on FROM gov.field_visit
                  WHERE visit_date <= $day AND known_at <= $day GROUP BY party_id)
            SELECT v.last_visit_on FROM b LEFT JOIN v USING (party_id) ORDER BY b.ord""",
                            {"day": as_of})
    finally:
        con.unregister("cu_book")
    return table["last_visit_on"]


def _ordered(values: list[Any], order: tuple[str, ...]) -> dict[str, int]:
    counted = Counter(values)
    return {k: counted.get(k, 0) for k in order}


def _summary(as_of: dt.date, data_day: dt.date, day: pa.Table, events: pa.Table, pack: Pack,
             seconds: dict[str, float]) -> CustomersRun:
    moves = Counter(f"{f or '—'}→{t}" for f, t in zip(events["from_stage"].to_pylist(),
                                                     events["to_stage"].to_pylist(),
                                                     strict=True))
    return CustomersRun(
        as_of, data_day, day.num_rows, _ordered(day["grade"].to_pylist(), GRADES),
        _ordered(day["lifecycle_stage"].to_pylist(), STAGES),
        _ordered(day["risk_level"].to_pylist(), RISK_ORDER),
        _ordered(day["value_band"].to_pylist(), BAND_ORDER),
        _ordered(day["risk_source"].to_pylist(), ("postloan", "tags")),
        events.num_rows, dict(sorted(moves.items(), key=lambda kv: (-kv[1], kv[0]))),
        int(pc.sum(day["visit_due"]).as_py() or 0),
        float(pc.sum(day["balance_yuan"]).as_py() or 0.0),
        float(pc.sum(day["deposit_avg_6m_yuan"]).as_py() or 0.0),
        pack.name, pack.version, dict(seconds))


__all__ = ["DEFAULT_MAX_TAG_AGE_DAYS", "CustomersRun", "StaleTags", "check_freshness",
           "run_customers"]
