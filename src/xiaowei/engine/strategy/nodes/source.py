"""External data calls: the caller fetches, the engine enforces the timeout and fails safe.

Why the engine does not do I/O itself: a decision must be reproducible and testable, so the
engine stays pure and the caller passes one callable per source alias,
``fetch(request: dict, timeout_s: float) -> dict``. The engine gives it the timeout, measures
the call anyway (a late answer is treated as a timeout, so a slow source cannot silently slow
every decision), checks the returned types, and on any failure writes the pack's fallback
values. When the source is *critical* the case also goes to the fail-safe outcome with the
reason — it can never be approved automatically on data that did not arrive.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from xiaowei.engine.strategy.expr.check import python_types
from xiaowei.engine.strategy.nodes.base import (
    FLAG,
    Build,
    Context,
    Node,
    Reason,
    SourceDef,
    no_extra,
    required,
)
from xiaowei.entities.datafiles import KeyPath


class SourceNode(Node):
    """Call source ``alias``; write its declared returns, or its fallback on failure."""

    kind = "source"

    def __init__(self, id: str, source: SourceDef, texts: Mapping[str, tuple[str, str]]) -> None:
        super().__init__(id, source.inputs, list(source.returns))
        self.source = source
        self._types = {name: python_types(kind) for name, kind in source.returns.items()}
        zh, en = texts["SYS_SOURCE_FALLBACK"]
        self._fallback_reason = (zh, en)

    def run(self, ctx: Context) -> tuple[str, ...]:
        src = self.source
        problem = self._fetch(ctx)
        if problem is None:
            return ()
        ctx.vars.update(src.fallback)
        for name in src.returns:
            ctx.vars.setdefault(name, None)
        detail = f"{src.alias}: {problem}"
        if src.critical:
            ctx.fail("SYS_SOURCE_FAILED", self.id, detail)
        else:
            zh, en = self._fallback_reason
            ctx.act(FLAG, Reason("SYS_SOURCE_FALLBACK", zh, en, 0, self.id, "", detail))
        return ("fallback",)

    def _fetch(self, ctx: Context) -> str | None:
        """Write the answer into the variables and return None, or return what went wrong."""
        src = self.source
        fetch = ctx.sources.get(src.alias)
        if fetch is None:
            return "no fetcher was given for this source"
        request = {name: ctx.vars.get(name) for name in src.inputs}
        timeout_s = src.timeout_ms / 1000
        start = time.perf_counter()
        try:
            answer = fetch(request, timeout_s)
        except TimeoutError:
            return f"timed out after {src.timeout_ms:g} ms"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        if time.perf_counter() - start > timeout_s:
            return f"answered after the {src.timeout_ms:g} ms timeout"
        if not isinstance(answer, Mapping):
            return f"answer is {type(answer).__name__}, not a mapping"
        values = {}
        for name, types in self._types.items():
            value = answer.get(name)
            if value is not None and (not isinstance(value, types) or (
                    isinstance(value, bool) and src.returns[name] != "bool")):
                return f"{name} is {type(value).__name__}, expected {src.returns[name]}"
            values[name] = value
        ctx.vars.update(values)
        return None


def compile_source(id: str, spec: Mapping[str, Any], path: KeyPath,
                   build: Build) -> SourceNode | None:
    """``{source: alias}``; the alias must be declared under ``sources``."""
    no_extra(spec, {"id", "kind", "source", "description"}, path, build)
    alias = required(spec, "source", path, build)
    source = build.sources.get(str(alias))
    if alias is not None and source is None:
        build.problems.add((*path, "source"), f"source {alias!r} is not declared under 'sources'")
        return None
    return SourceNode(id, source, build.outcomes.texts) if source else None
