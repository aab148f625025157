"""Routing nodes: ``switch`` (by condition) and ``split`` (champion–challenger by case id).

Why a split hashes the case id instead of drawing a random number: the same case must land in
the same arm on every replay, backtest and audit ("same inputs and pack version give the same
decision"). sha256 of (salt, node id, case id) spreads ids evenly; the salt lets a new test
re-shuffle the population without changing the case ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from xiaowei.engine.strategy.expr import Expression
from xiaowei.engine.strategy.nodes.base import Build, Context, Node, no_extra, required
from xiaowei.entities.datafiles import KeyPath

BUCKETS = 10_000  # percentages to two decimals (basis points)


class SwitchNode(Node):
    """Run the sub-flow of the first case whose ``when`` holds (else ``default``, if any)."""

    kind = "switch"

    def __init__(self, id: str, cases: list[tuple[Expression, str]], default: str | None) -> None:
        super().__init__(id, [n for e, _ in cases for n in e.names])
        self._cases = [(e.fn, flow) for e, flow in cases]
        self._default = default

    def run(self, ctx: Context) -> tuple[str, ...]:
        for fn, flow in self._cases:
            if fn(ctx.vars) is True:
                ctx.run_flow(flow, ctx)
                return (flow,)
        if self._default is not None:
            ctx.run_flow(self._default, ctx)
            return (self._default,)
        return ()

    def flows(self) -> tuple[str, ...]:
        named = [f for _, f in self._cases]
        return tuple(named + ([self._default] if self._default else []))


def compile_switch(id: str, spec: Mapping[str, Any], path: KeyPath,
                   build: Build) -> SwitchNode | None:
    """``{cases: [{when, flow}], default?: flow}``."""
    no_extra(spec, {"id", "kind", "cases", "default", "description"}, path, build)
    cases_spec = required(spec, "cases", path, build) or []
    cases = []
    for i, case in enumerate(cases_spec if isinstance(cases_spec, list) else []):
        at = (*path, "cases", i)
        if not isinstance(case, Mapping):
            build.problems.add(at, "expected {when, flow}")
            continue
        no_extra(case, {"when", "flow"}, at, build)
        expr = build.expr(required(case, "when", at, build), (*at, "when"), "bool")
        flow = required(case, "flow", at, build)
        if expr is not None and flow is not None:
            cases.append((expr, str(flow)))
    default = spec.get("default")
    return SwitchNode(id, cases, None if default is None else str(default))


def bucket(salt: str, node: str, case_id: str) -> int:
    """The case's bucket in [0, BUCKETS): stable across runs, machines and Python versions."""
    digest = hashlib.sha256(f"{salt}\x1f{node}\x1f{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


class SplitNode(Node):
    """Champion–challenger: each arm takes a share of cases, chosen by the case id's bucket."""

    kind = "split"

    def __init__(self, id: str, salt: str, arms: list[tuple[str, int, str]]) -> None:
        super().__init__(id)
        self._salt = salt
        bounds, upper = [], 0
        for name, share, flow in arms:
            upper += share
            bounds.append((upper, name, flow))
        self._bounds = bounds

    def arm_of(self, case_id: str) -> tuple[str, str]:
        """(arm name, flow) for ``case_id``."""
        b = bucket(self._salt, self.id, case_id)
        for upper, name, flow in self._bounds:
            if b < upper:
                return name, flow
        raise AssertionError("shares sum to 100%")  # pragma: no cover — checked at load

    def run(self, ctx: Context) -> tuple[str, ...]:
        name, flow = self.arm_of(ctx.case_id)
        ctx.arms[self.id] = name
        ctx.run_flow(flow, ctx)
        return (name,)

    def flows(self) -> tuple[str, ...]:
        return tuple(flow for _, _, flow in self._bounds)


def compile_split(id: str, spec: Mapping[str, Any], path: KeyPath,
                  build: Build) -> SplitNode | None:
    """``{salt?: text, arms: [{name, percent, flow}]}``; percents sum to 100."""
    no_extra(spec, {"id", "kind", "salt", "arms", "description"}, path, build)
    arms_spec = required(spec, "arms", path, build) or []
    arms, total, names = [], 0, set()
    for i, arm in enumerate(arms_spec if isinstance(arms_spec, list) else []):
        at = (*path, "arms", i)
        if not isinstance(arm, Mapping):
            build.problems.add(at, "expected {name, percent, flow}")
            continue
        no_extra(arm, {"name", "percent", "flow"}, at, build)
        name, flow = required(arm, "name", at, build), required(arm, "flow", at, build)
        percent = required(arm, "percent", at, build)
        if not isinstance(percent, int | float) or isinstance(percent, bool) or percent < 0:
            build.problems.add((*at, "percent"), f"percent must be a number ≥ 0, got {percent!r}")
            continue
        if name in names:
            build.problems.add((*at, "name"), f"duplicate arm {name!r}")
        names.add(name)
        share = round(percent * BUCKETS / 100)
        total += share
        if name is not None and flow is not None:
            arms.append((str(name), share, str(flow)))
    if total != BUCKETS:
        build.problems.add((*path, "arms"), f"arm percents sum to {total * 100 / BUCKETS:g}, "
                                            f"not 100")
        return None
    return SplitNode(id, str(spec.get("salt", "")), arms)
