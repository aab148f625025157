"""Run a pack on one case: choose the segment, run its flow, and return a traced decision.

Why a :class:`Decider` holding resolved models: resolving ``name@version`` loads a model, which
costs milliseconds; a service binds a pack once and then decides in microseconds. The engine
never imports a model registry or does I/O itself — the caller passes a resolver (anything with
``resolve(ref) -> callable(variables) -> float``) and one fetch callable per external source.

Guarantees, in the order a case meets them:

* bad input (a required field missing, a value of the wrong type) raises one
  :class:`CaseError` listing every problem — the caller turns it into a 4xx or a review;
* no matching segment → the pack's fail-safe outcome with a reason, never a crash;
* a node that fails (a critical source down, a model or plugin raising) → fail-safe outcome
  with the reason; because the outcome is the *most severe* reached, nothing after a failure can
  bring the case back to the default (automatic approval);
* the applicant's refusal of automated decision (``automated_ok=False``) → decided by a person;
* the same pack and inputs give the same decision and the same trace, except microseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from xiaowei.engine.strategy.expr import validate_inputs
from xiaowei.engine.strategy.nodes import Context, Reason
from xiaowei.engine.strategy.pack import Pack

ModelFn = Callable[[Mapping[str, Any]], float]
Fetch = Callable[[Mapping[str, Any], float], Mapping[str, Any]]
AUTOMATIC, HUMAN = "automatic", "human"


class ModelResolver(Protocol):
    """Turns a ``name@version`` reference into a scoring callable (e.g. over a registry)."""

    def resolve(self, ref: str) -> ModelFn: ...


class CaseError(ValueError):
    """The case's inputs are refused; ``problems`` lists every missing or invalid field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid case inputs:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class NodeTrace:
    """One node's step: what it read, what it wrote, what it hit, and how long it took."""

    node: str
    kind: str
    flow: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    hits: tuple[str, ...]
    micros: float = field(compare=False)


@dataclass(frozen=True)
class Decision:
    """The decision for one case under one pack version, with its full explanation."""

    case_id: str
    pack: str
    segment: str | None
    outcome: str
    mode: str
    variables: Mapping[str, Any]
    reasons: tuple[Reason, ...]
    scores: Mapping[str, float]
    arms: Mapping[str, str]
    trace: tuple[NodeTrace, ...]
    micros: float = field(compare=False)

    @property
    def arm(self) -> str | None:
        """The arm of the first split the case passed (champion / challenger), if any."""
        return next(iter(self.arms.values()), None)


class Decider:
    """A pack bound to its models and sources, ready to decide cases."""

    def __init__(self, pack: Pack, *, resolver: ModelResolver | None = None,
                 sources: Mapping[str, Fetch] | None = None) -> None:
        if pack.models and resolver is None:
            raise ValueError(f"pack {pack.name!r} calls models {sorted(pack.models)}; "
                             f"pass a resolver")
        self.pack = pack
        self.models = {alias: resolver.resolve(ref) for alias, ref in pack.models.items()} \
            if resolver is not None else {}
        self.sources = dict(sources or {})
        self._texts = pack.outcomes.texts
        self._written = tuple(pack.variables)

    def check(self, inputs: Mapping[str, Any]) -> list[str]:
        """Every problem with ``inputs``: missing required fields and values of a wrong type."""
        problems = [f"{name}: required but missing" for name in sorted(self.pack.required)
                    if inputs.get(name) is None]
        return problems + validate_inputs(self.pack.inputs, inputs)

    def decide(self, case_id: str, inputs: Mapping[str, Any], *, automated_ok: bool = True,
               trace: bool = True, sources: Mapping[str, Fetch] | None = None) -> Decision:
        """Decide one case; raise :class:`CaseError` if its inputs are missing or invalid.

        ``sources`` add to (or replace) the bound fetchers for this case only: a server shares
        one Decider between threads, so a case's own fetchers must never be stored on it.
        """
        start = time.perf_counter_ns()
        problems = self.check(inputs)
        if problems:
            raise CaseError(problems)
        pack = self.pack
        variables = {name: inputs.get(name) for name in pack.inputs}
        steps: list[Any] | None = [] if trace else None
        fetchers = {**self.sources, **sources} if sources else self.sources
        ctx = Context(str(case_id), variables, pack.outcomes, self._runner(steps), self.models,
                      fetchers)
        segment = next((s for s in pack.segments if s.when.fn(variables) is True), None)
        if segment is None:
            ctx.fail("SYS_NO_SEGMENT", "", "no segment's condition holds for this case")
        else:
            ctx.run_flow(segment.flow, ctx)
        if not automated_ok:
            zh, en = self._texts["SYS_AUTOMATION_REFUSED"]
            ctx.reasons.append(Reason("SYS_AUTOMATION_REFUSED", zh, en))
        human = ctx.human or not automated_ok or ctx.rank in pack.outcomes.human
        written = {name: variables.get(name) for name in self._written}
        return Decision(
            str(case_id), pack.hash, segment.id if segment else None,
            pack.outcomes.name(ctx.rank), HUMAN if human else AUTOMATIC, written,
            tuple(ctx.reasons), ctx.scores, ctx.arms, tuple(steps or ()),
            (time.perf_counter_ns() - start) / 1000)

    def _runner(self, steps: list[Any] | None) -> Callable[[str, Context], None]:
        flows = self.pack.flows
        perf = time.perf_counter_ns

        def run_flow(flow: str, ctx: Context) -> None:
            for node in flows[flow]:
                if ctx.stopped:
                    return
                if steps is None:
                    _run(node, ctx)
                    continue
                slot = len(steps)
                steps.append(None)  # the node's own step precedes its sub-flows' steps
                used = {n: ctx.vars.get(n) for n in node.reads}
                t0 = perf()
                hits = _run(node, ctx)
                micros = (perf() - t0) / 1000
                outputs = {n: ctx.vars.get(n) for n in node.writes}
                steps[slot] = NodeTrace(node.id, node.kind, flow, used, outputs, hits, micros)
        return run_flow


def _run(node: Any, ctx: Context) -> tuple[str, ...]:
    """Run a node; any error it raises sends the case to the fail-safe outcome, not a crash."""
    try:
        return node.run(ctx)
    except Exception as exc:  # fail safe, with the error as the reason
        ctx.fail("SYS_NODE_ERROR", node.id, f"{type(exc).__name__}: {exc}")
        return ("error",)


def decide(pack: Pack, case_id: str, inputs: Mapping[str, Any], *,
           resolver: ModelResolver | None = None, sources: Mapping[str, Fetch] | None = None,
           automated_ok: bool = True, trace: bool = True) -> Decision:
    """Decide one case (binds the pack each call; services should keep a :class:`Decider`)."""
    return Decider(pack, resolver=resolver, sources=sources).decide(
        case_id, inputs, automated_ok=automated_ok, trace=trace)


__all__ = ["AUTOMATIC", "HUMAN", "CaseError", "Decider", "Decision", "ModelResolver",
           "NodeTrace", "decide"]
