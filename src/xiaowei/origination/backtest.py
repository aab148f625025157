"""Backtest: two strategy pack versions decide the same history, side by side.

Why this shape: a strategy team changing a threshold must show the credit committee what the
change would have done — how many more approvals, which applications swap in and out, and
whether the loans it would approve were better or worse. The comparison is only fair if
nothing but the pack differs, so both versions run through the *same* engine code
(:class:`~xiaowei.origination.decide.DefaultDecider`), on the *same* applications
(:func:`~xiaowei.origination.history.historical_applications`) with the *same*
point-in-time tags (:class:`~xiaowei.origination.history.PointInTimeTags`: each party's
tags as of its application day, computed once and cached on disk, so nothing the bank learnt
later leaks into a replayed decision).

What a backtest cannot know: how an application the bank rejected would have repaid. Bad
rates and losses are measured only on loans the traditional process booked whose first 12
months are observable, with the bank's own definition (``kpis.traditional_decisions``); every
figure says how many such loans it rests on, and swap-ins are reported with the count whose
outcome is known.

Decisions are deterministic, so the result's JSON (``BacktestResult.to_json``) is identical
run after run; timings live outside it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.engine.strategy.performance import CaseOutcome, node_performance
from xiaowei.origination.capacity import load_capacity
from xiaowei.origination.decide import ApplicationError, DefaultDecider
from xiaowei.origination.history import PointInTimeTags, historical_applications
from xiaowei.origination.kpis import traditional_decisions
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]
"""(stage, done, total) with stage ``tags`` (days of tags read or computed) or ``decide``."""
ROLES = ("champion", "challenger")
NO_SEGMENT = "(none)"
OUTCOMES = ("approve", "review", "reject")  # the order of the swap matrix
TOP_REASONS = 15


@dataclass(frozen=True)
class PackUnderTest:
    """One version: ``label`` is how the user named it (a path or ``name@3``), ``path`` the
    YAML the decider loads (a stored version is first written to a private folder)."""

    label: str
    path: Path


@dataclass(frozen=True)
class Verdict:
    """What one pack version decided for one application (the report needs no more)."""

    outcome: str
    mode: str
    limit: int
    grade: str | None
    segment: str | None
    reasons: tuple[str, ...]
    hits: dict[str, tuple[str, ...]]  # node → rule / row ids hit, in trace order


@dataclass(frozen=True)
class CaseResult:
    """One historical application, both versions' verdicts, and what the bank learnt."""

    application_id: str
    party_id: str
    applied_on: dt.date
    recorded_decision: str
    booked: bool
    bad: bool | None  # defaulted within 12 months; None unless booked and observable
    loss: Decimal
    champion: Verdict
    challenger: Verdict

    @property
    def segment(self) -> str:
        """The champion's segment (the book as it is run today), else the challenger's."""
        return self.champion.segment or self.challenger.segment or NO_SEGMENT

    def verdict(self, role: str) -> Verdict:
        return self.champion if role == "champion" else self.challenger


@dataclass
class BacktestResult:
    """Everything a backtest found; figures are computed from ``cases`` on demand."""

    versions: dict[str, dict[str, str]]  # role → label, name, pack_version
    since: dt.date | None
    until: dt.date | None
    cases: list[CaseResult]
    invalid: list[dict[str, Any]] = field(default_factory=list)
    reason_text: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report's content: summary, by_segment, swap, reasons_changed,
        node_performance — deterministic (no timings, no paths)."""
        return {
            "versions": self.versions,
            "window": {"since": _iso(self.since), "until": _iso(self.until),
                       "first_application": _iso(min((c.applied_on for c in self.cases),
                                                     default=None)),
                       "last_application": _iso(max((c.applied_on for c in self.cases),
                                                    default=None))},
            "summary": summarise(self.cases),
            "by_segment": {seg: summarise(cases) for seg, cases in self._segments().items()},
            "swap": swap_matrix(self.cases),
            "reasons_changed": self.reasons_changed(),
            "node_performance": [s.to_json() for s in node_performance(
                challenger_case_outcomes(self.cases))],
            "invalid_applications": self.invalid,
        }

    def _segments(self) -> dict[str, list[CaseResult]]:
        groups: dict[str, list[CaseResult]] = {}
        for case in self.cases:
            groups.setdefault(case.segment, []).append(case)
        return dict(sorted(groups.items()))

    def reasons_changed(self, top: int = TOP_REASONS) -> list[dict[str, Any]]:
        """Reason codes whose number of applications differs most between the versions."""
        counts = {role: Counter(code for c in self.cases for code in set(c.verdict(role).reasons))
                  for role in ROLES}
        codes = set(counts["champion"]) | set(counts["challenger"])
        rows = [{"code": code, "zh": self.reason_text.get(code, ("", ""))[0],
                 "en": self.reason_text.get(code, ("", ""))[1],
                 "champion": counts["champion"][code], "challenger": counts["challenger"][code],
                 "change": counts["challenger"][code] - counts["champion"][code]}
                for code in codes if counts["challenger"][code] != counts["champion"][code]]
        rows.sort(key=lambda r: (-abs(r["change"]), r["code"]))
        return rows[:top]

    def write_cases(self, path: Path) -> Path:
        """The per-case Parquet file analysts query (one row per application)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(cases_table(self.cases), path)
        return path


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _yuan(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_UP))


def _version_figures(cases: Sequence[CaseResult], role: str) -> dict[str, Any]:
    verdicts = [c.verdict(role) for c in cases]
    n = len(verdicts)
    outcome = Counter(v.outcome for v in verdicts)
    approved = [c for c in cases if c.verdict(role).outcome == "approve"]
    limits = [c.verdict(role).limit for c in approved]
    known = [c for c in approved if c.bad is not None]
    bads = [c for c in known if c.bad]
    return {
        "applications": n, "approvals": outcome["approve"], "reviews": outcome["review"],
        "rejects": outcome["reject"],
        "approval_rate": _rate(outcome["approve"], n),
        "automatic_rate": _rate(sum(v.mode == "automatic" for v in verdicts), n),
        "review_rate": _rate(outcome["review"], n), "reject_rate": _rate(outcome["reject"], n),
        "average_limit": round(sum(limits) / len(limits)) if limits else None,
        "total_limit": sum(limits),
        "approved_with_known_outcome": len(known), "bads": len(bads),
        "bad_rate_12m": _rate(len(bads), len(known)),
        "loss": _yuan(sum((c.loss for c in bads), Decimal(0))),
    }


def summarise(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """Each version's rates and, on booked loans with known outcomes, bad rate and loss; plus
    the traditional process's recorded figures on the same applications, for scale."""
    booked = [c for c in cases if c.booked]
    known = [c for c in booked if c.bad is not None]
    bads = [c for c in known if c.bad]
    approvals = sum(c.recorded_decision == "approve" for c in cases)
    return {
        **{role: _version_figures(cases, role) for role in ROLES},
        "recorded": {"applications": len(cases), "approvals": approvals,
                     "approval_rate": _rate(approvals, len(cases)), "booked": len(booked),
                     "booked_with_known_outcome": len(known), "bads": len(bads),
                     "bad_rate_12m": _rate(len(bads), len(known)),
                     "loss": _yuan(sum((c.loss for c in bads), Decimal(0)))},
        "changed_outcomes": sum(c.champion.outcome != c.challenger.outcome for c in cases),
    }


def swap_matrix(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """Champion outcome (rows) × challenger outcome (columns): all cases, those with a known
    outcome, and the bad among them; swap-in = not approved → approved, swap-out = the reverse.
    """
    def grid() -> dict[str, dict[str, int]]:
        return {a: dict.fromkeys(OUTCOMES, 0) for a in OUTCOMES}

    counts, known, bad = grid(), grid(), grid()
    for c in cases:
        a, b = c.champion.outcome, c.challenger.outcome
        counts[a][b] += 1
        if c.bad is not None:
            known[a][b] += 1
            bad[a][b] += bool(c.bad)

    def group(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        pairs = list(pairs)
        n_known = sum(known[a][b] for a, b in pairs)
        n_bad = sum(bad[a][b] for a, b in pairs)
        return {"count": sum(counts[a][b] for a, b in pairs), "known_outcome": n_known,
                "unknown_outcome": sum(counts[a][b] - known[a][b] for a, b in pairs),
                "bads": n_bad, "bad_rate_12m": _rate(n_bad, n_known)}

    others = [o for o in OUTCOMES if o != "approve"]
    return {"outcomes": list(OUTCOMES), "matrix": counts, "known_outcome": known, "bads": bad,
            "swap_in": group(("approve", o)[::-1] for o in others),
            "swap_out": group(("approve", o) for o in others),
            "unchanged": sum(counts[o][o] for o in OUTCOMES)}


def challenger_case_outcomes(cases: Iterable[CaseResult]) -> list[CaseOutcome]:
    """The challenger's cases as node performance takes them: its hits and outcome, and the
    bank's known 12-month result (``None`` for loans never booked or too recent). Nobody
    overrides a replayed decision, so ``overridden`` is False."""
    return [CaseOutcome(c.application_id, {n: list(h) for n, h in c.challenger.hits.items()},
                        c.challenger.outcome, False, c.bad) for c in cases]


_VERDICT = pa.struct([("outcome", pa.string()), ("mode", pa.string()), ("limit", pa.int64()),
                      ("grade", pa.string()), ("segment", pa.string())])


def cases_table(cases: Sequence[CaseResult]) -> pa.Table:
    """One row per application; each version's columns are prefixed with its role."""
    columns: dict[str, Any] = {
        "application_id": [c.application_id for c in cases],
        "party_id": [c.party_id for c in cases],
        "applied_on": pa.array([c.applied_on for c in cases], pa.date32()),
        "segment": [c.segment for c in cases],
        "recorded_decision": [c.recorded_decision for c in cases],
        "booked": [c.booked for c in cases],
        "bad_12m": pa.array([c.bad for c in cases], pa.bool_()),
        "loss": pa.array([_yuan(c.loss) for c in cases], pa.int64()),
    }
    hits_type = pa.map_(pa.string(), pa.list_(pa.string()))
    for role in ROLES:
        verdicts = [c.verdict(role) for c in cases]
        for key in ("outcome", "mode", "grade", "segment"):
            columns[f"{role}_{key}"] = pa.array([getattr(v, key) for v in verdicts],
                                                pa.string())
        columns[f"{role}_limit"] = pa.array([v.limit for v in verdicts], pa.int64())
        columns[f"{role}_reasons"] = pa.array([list(v.reasons) for v in verdicts],
                                              pa.list_(pa.string()))
        columns[f"{role}_hits"] = pa.array(
            [[(n, list(h)) for n, h in v.hits.items()] for v in verdicts], hits_type)
    return pa.table(columns)


def _verdict(decision: dict[str, Any]) -> Verdict:
    hits: dict[str, tuple[str, ...]] = {}
    for step in decision["trace"]:
        hits[step["node"]] = hits.get(step["node"], ()) + tuple(str(h) for h in step["hits"])
    return Verdict(outcome=decision["outcome"], mode=decision["mode"],
                   limit=int(decision["limit"]), grade=decision.get("grade"),
                   segment=decision.get("segment"),
                   reasons=tuple(r["code"] for r in decision["reasons"]), hits=hits)


def run_backtest(analytic: AnalyticStore, champion: PackUnderTest, challenger: PackUnderTest,
                 *, models: Callable[[], RegistryModelResolver],
                 since: dt.date | None = None, until: dt.date | None = None,
                 tags: PointInTimeTags | None = None,
                 progress: Progress | None = None) -> BacktestResult:
    """Decide every governed application of the window with both versions.

    ``models`` makes a resolver per version (each pack registers its own model aliases).
    A pack that does not load raises the engine's error (it names the file and line).
    """
    deciders = {}
    for role, spec in (("champion", champion), ("challenger", challenger)):
        deciders[role] = DefaultDecider(tags=lambda *_: {}, resolver=models(),
                                        pack_path=spec.path)
    apps = historical_applications(analytic, since=since, until=until)
    owned = tags is None
    tags = tags or PointInTimeTags(analytic)
    try:
        tags.load([(a.party_id, a.applied_on) for a in apps],
                  None if progress is None else (lambda _d, i, n: progress("tags", i, n)))
    finally:
        if owned:
            tags.close()  # the tags are in memory now; the online runner is not needed
    for decider in deciders.values():
        decider.tags = tags.reader()
    outcomes = {d.application_id: d for d in traditional_decisions(
        analytic.connection.cursor(), load_capacity()) if d.application_id is not None}
    result = BacktestResult(
        versions={role: {"label": spec.label, "name": deciders[role].pack.name,
                         "pack_version": deciders[role].pack.version}
                  for role, spec in (("champion", champion), ("challenger", challenger))},
        since=since, until=until, cases=[])
    for i, app in enumerate(apps):
        if progress is not None and i % 250 == 0:
            progress("decide", i, len(apps))
        verdicts = {}
        try:
            for role, decider in deciders.items():
                decision = decider.decide(app.payload)
                for r in decision["reasons"]:
                    result.reason_text.setdefault(r["code"], (r["zh"], r["en"]))
                verdicts[role] = _verdict(decision)
        except ApplicationError as exc:  # a governed row the application check refuses
            result.invalid.append({"application_id": app.application_id,
                                   "problems": exc.problems})
            continue
        known = outcomes.get(app.application_id)
        result.cases.append(CaseResult(
            application_id=app.application_id, party_id=app.party_id,
            applied_on=app.applied_on, recorded_decision=app.recorded_decision,
            booked=bool(known and known.booked), bad=None if known is None else
            known.defaulted_12m, loss=known.loss if known else Decimal(0),
            champion=verdicts["champion"], challenger=verdicts["challenger"]))
    if progress is not None:
        progress("decide", len(apps), len(apps))
    return result


__all__ = ["BacktestResult", "CaseResult", "PackUnderTest", "Verdict", "cases_table",
           "challenger_case_outcomes", "run_backtest", "summarise", "swap_matrix"]
