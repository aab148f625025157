"""Node performance: how often each node and rule fired, and what became of the cases it hit.

Why a pure function over cases: the same measure must serve the live decision log and a
backtest over history, so it takes plain :class:`CaseOutcome` records and knows nothing about
where they came from. For every node (and every rule code a node produced) it counts:

* ``ran``: cases on which the node ran (the node is present in ``hits``, maybe with no codes);
* ``hits`` and ``hit_rate``: cases on which it fired (for a node: any of its rules);
* among cases whose outcome was accepted (``accepted_outcome``, e.g. approve — including
  cases a person overrode into it) and whose result is known (``bad`` not ``None``): the
  realised bad rate of the cases it hit versus the cases it did not, with their counts.

A rule that hits many accepted cases with a bad rate no higher than the rest adds friction
without protecting anything; a rule whose hits were overridden and then went bad shows the
override was wrong. Rates are ``None`` where there is nothing to divide by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseOutcome:
    """One decided case: the rule codes each node hit, and what became of the case.

    ``hits`` maps node → codes it hit; a node that ran without hitting is present with an
    empty list, a node that did not run is absent. ``outcome`` is the case's final outcome,
    ``overridden`` whether a person changed the engine's outcome, ``bad`` the realised result
    (``None``: not known yet, or never accepted).
    """

    case_id: str
    hits: Mapping[str, Sequence[str]]
    outcome: str
    overridden: bool = False
    bad: bool | None = None


@dataclass(frozen=True)
class NodeStats:
    """The counts for one node (``rule`` is ``None``) or one rule code of a node."""

    node: str
    rule: str | None
    ran: int
    hits: int
    overridden_hits: int
    accepted_known_hits: int
    bad_hits: int
    accepted_known_non_hits: int
    bad_non_hits: int

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.ran if self.ran else None

    @property
    def bad_rate_hits(self) -> float | None:
        return self.bad_hits / self.accepted_known_hits if self.accepted_known_hits else None

    @property
    def bad_rate_non_hits(self) -> float | None:
        n = self.accepted_known_non_hits
        return self.bad_non_hits / n if n else None

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 6)

        return {**asdict(self), "hit_rate": r(self.hit_rate),
                "bad_rate_hits": r(self.bad_rate_hits),
                "bad_rate_non_hits": r(self.bad_rate_non_hits)}


@dataclass
class _Tally:
    ran: int = 0
    hits: int = 0
    overridden_hits: int = 0
    known: list[int] = field(default_factory=lambda: [0, 0])  # accepted & known: non-hit, hit
    bad: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, hit: bool, case: CaseOutcome, accepted: bool) -> None:
        self.ran += 1
        self.hits += hit
        self.overridden_hits += hit and case.overridden
        if accepted and case.bad is not None:
            self.known[hit] += 1
            self.bad[hit] += bool(case.bad)

    def stats(self, node: str, rule: str | None) -> NodeStats:
        return NodeStats(node, rule, self.ran, self.hits, self.overridden_hits,
                         self.known[1], self.bad[1], self.known[0], self.bad[0])


def node_performance(cases: Iterable[CaseOutcome], *,
                     accepted_outcome: str = "approve") -> list[NodeStats]:
    """Per node, then per rule code of that node: runs, hits and bad rates (module doc).

    Nodes come in the order first seen; rules in code order within their node.
    """
    nodes: dict[str, _Tally] = {}
    rules: dict[str, dict[str, _Tally]] = {}
    ran_on: dict[str, list[tuple[frozenset[str], CaseOutcome, bool]]] = {}
    for case in cases:
        accepted = case.outcome == accepted_outcome
        for node, codes in case.hits.items():
            hit_codes = frozenset(codes)
            nodes.setdefault(node, _Tally()).add(bool(hit_codes), case, accepted)
            ran_on.setdefault(node, []).append((hit_codes, case, accepted))
            for code in hit_codes:
                rules.setdefault(node, {}).setdefault(code, _Tally())
    out: list[NodeStats] = []
    for node, tally in nodes.items():
        out.append(tally.stats(node, None))
        for code in sorted(rules.get(node, {})):
            rule = rules[node][code]
            for hit_codes, case, accepted in ran_on[node]:
                rule.add(code in hit_codes, case, accepted)
            out.append(rule.stats(node, code))
    return out


__all__ = ["CaseOutcome", "NodeStats", "node_performance"]
