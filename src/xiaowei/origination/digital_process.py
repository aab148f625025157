"""The digital process replayed on the bank's own book: the pack decides, a person decides the rest.

Why a replay: the claim "300 approvals a day with the same approvers, risk no worse" can only
be measured on the applications the traditional process actually handled. Every application
of the evaluation window goes through the default pack with the applicant's tags as of the
first day of the application's month (:mod:`xiaowei.origination.history` — nothing the bank
learnt later can leak in). Then, per case:

* **the pack decided alone** (mode ``automatic``) — the decision stands;
* **the pack rejected** a case it had also flagged for a person — the knock-out stands; the
  person only confirms it (the time of the pack's ``review_mode``);
* **the pack referred the case** (``review``) **or approved it only with a person's sign-off**
  (``human`` actions: large limits, secured loans, grade below B1, adverse flags …) — a person
  decides with the machine's pre-assessment, in the pack's ``review_mode`` (``human_assisted``
  when a grade and limit were computed, else ``human``). *Assumption*: the person judges as the
  bank's expert did, so the person's decision is the traditional process's recorded decision on
  that very application (still pending → the case stays ``review``, no credit). The approved
  amount is the pack's proposed limit (capped at the request), or the expert's recorded amount
  when the pack could not propose one.

Due-diligence level, manager tier and the post-loan plan (inspections and visits a year) are
the pack's outputs (``dd_level``, ``manager_tier``, ``plan.*``; a case the pack could not
grade gets the table's fallback plan). This module never reads the simulator's truth: outcomes
are scored by :mod:`xiaowei.origination.process_comparison`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xiaowei.origination.decide import DefaultDecider
from xiaowei.origination.history import HistoricalApplication, PointInTimeTags
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[int, int], None]
MIN_LIMIT = Decimal(10_000)
"""The smallest line the pack grants (LM02); below it the person's own amount is used."""
PLAN_KEYS = ("plan.onsite_per_year", "plan.offsite_per_year", "plan.maintenance_per_year")


@dataclass(frozen=True)
class Window:
    """The applications a comparison covers, by application day (inclusive)."""

    since: dt.date
    until: dt.date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ValueError(f"evaluation window ends ({self.until}) before it starts "
                             f"({self.since})")

    def to_json(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


@dataclass(frozen=True)
class DigitalCase:
    """One application as the digital process handled it (no outcome: that is the oracle's)."""

    application_id: str
    party_id: str
    applied_on: dt.date
    product_intent: str
    requested: Decimal
    manager_id: str | None
    segment: str | None
    grade: str | None
    pack_outcome: str  # approve | reject | review — what the pack alone said
    pack_mode: str  # automatic | human — the engine's mode
    outcome: str  # approve | reject | review — the final decision
    mode: str  # automatic | human_assisted | human — who decided, for the capacity table
    decided_by_person: bool  # True when the person's (recorded expert's) decision was used
    dd_level: str
    manager_tier: str | None
    amount: Decimal  # approved principal (0 unless approved)
    term_months: int
    annual_rate: float | None
    onsite_per_year: float
    offsite_per_year: float
    maintenance_per_year: float
    reasons: tuple[str, ...]


def recorded_amounts(analytic: AnalyticStore, ids: Iterable[str]) -> dict[str, Decimal]:
    """The traditional expert's approved amount (CNY) per approved application."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = analytic.connection.execute(
        "SELECT application_no, approved_amount_fen FROM raw.bank_decisions "
        "WHERE decision = 'approve' AND application_no IN (SELECT unnest($ids))",
        {"ids": wanted}).fetchall()
    return {str(a): Decimal(int(f)).scaleb(-2) for a, f in rows if f is not None}


def _variables(decision: Mapping[str, Any]) -> dict[str, Any]:
    """Every variable the pack wrote, gathered from the decision's trace."""
    found: dict[str, Any] = {}
    for step in decision.get("trace", ()):
        found.update(step.get("outputs", {}))
    return found


def _person_mode(variables: Mapping[str, Any]) -> str:
    mode = variables.get("review_mode")
    return mode if mode in ("human_assisted", "human") else "human"


def _dd_level(decision: Mapping[str, Any], pack_outcome: str, pack_mode: str) -> str:
    """The pack's DD level; a machine rejection before the DD node needs none (the data decided
    before anyone visited), any other case without a level gets today's standard DD."""
    level = decision.get("dd_level")
    if level:
        return str(level)
    return "none" if pack_outcome == "reject" and pack_mode == "automatic" else "standard"


def digital_case(app: HistoricalApplication, decision: Mapping[str, Any],
                 recorded_amount: Decimal | None) -> DigitalCase:
    """Turn the pack's decision (and, for a review, the recorded person's) into one case."""
    v = _variables(decision)
    pack_outcome, pack_mode = str(decision["outcome"]), str(decision["mode"])
    by_person = pack_outcome == "review" or (pack_outcome == "approve" and pack_mode != "automatic")
    if by_person:
        person = app.recorded_decision
        outcome = person if person in ("approve", "reject") else "review"
    else:
        outcome = pack_outcome
    mode = "automatic" if pack_mode == "automatic" and not by_person else _person_mode(v)
    amount = Decimal(0)
    if outcome == "approve":
        amount = Decimal(int(decision.get("limit") or 0))
        if amount < MIN_LIMIT and by_person:
            amount = recorded_amount or Decimal(str(app.payload["amount"]))
    term = decision.get("term") or app.payload.get("term_months") or 12
    rate = decision.get("price")
    return DigitalCase(
        application_id=app.application_id, party_id=app.party_id, applied_on=app.applied_on,
        product_intent=str(app.payload.get("product_intent")),
        requested=Decimal(str(app.payload["amount"])), manager_id=app.manager_id,
        segment=decision.get("segment"), grade=decision.get("grade"),
        pack_outcome=pack_outcome, pack_mode=pack_mode, outcome=outcome, mode=mode,
        decided_by_person=by_person, dd_level=_dd_level(decision, pack_outcome, pack_mode),
        manager_tier=decision.get("manager_tier"), amount=amount, term_months=int(term),
        annual_rate=None if rate is None else float(rate),
        onsite_per_year=float(v.get("plan.onsite_per_year") or 0),
        offsite_per_year=float(v.get("plan.offsite_per_year") or 0),
        maintenance_per_year=float(v.get("plan.maintenance_per_year") or 0),
        reasons=tuple(r["code"] for r in decision.get("reasons", ())))


def replay(analytic: AnalyticStore, applications: Sequence[HistoricalApplication],
           decider: DefaultDecider, progress: Progress | None = None) -> list[DigitalCase]:
    """Decide every application with ``decider`` (its tags already loaded), in order."""
    amounts = recorded_amounts(analytic, (a.application_id for a in applications
                                          if a.recorded_decision == "approve"))
    cases = []
    for i, app in enumerate(applications):
        decision = decider.decide(app.payload, trace=True)
        cases.append(digital_case(app, decision, amounts.get(app.application_id)))
        if progress and (i % 100 == 0 or i + 1 == len(applications)):
            progress(i + 1, len(applications))
    return cases


def window_applications(applications: Sequence[HistoricalApplication],
                        window: Window) -> list[HistoricalApplication]:
    """The applications applied within ``window``."""
    return [a for a in applications if window.since <= a.applied_on <= window.until]


def load_tags(tags: PointInTimeTags, applications: Iterable[HistoricalApplication],
              progress: Callable[[str, int, int], None] | None = None) -> None:
    """Read the point-in-time tags of every application (computing missing snapshots)."""
    tags.load(((a.party_id, a.applied_on) for a in applications), progress)


def summary(cases: Sequence[DigitalCase]) -> dict[str, Any]:
    """Counts by final outcome × mode and the most frequent reasons of automatic rejections."""
    by: dict[str, int] = {}
    rejects: dict[str, int] = {}
    for c in cases:
        key = f"{c.outcome}/{c.mode}"
        by[key] = by.get(key, 0) + 1
        if c.pack_outcome == "reject":
            for code in c.reasons:
                rejects[code] = rejects.get(code, 0) + 1
    top = dict(sorted(rejects.items(), key=lambda kv: (-kv[1], kv[0]))[:8])
    return {"cases": len(cases), "by_outcome_mode": dict(sorted(by.items())),
            "pack_referred": sum(c.decided_by_person for c in cases),
            "reasons_on_rejections": top}


__all__ = ["DigitalCase", "Window", "digital_case", "load_tags", "recorded_amounts", "replay",
           "summary", "window_applications"]
